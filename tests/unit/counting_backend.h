// CountingBackend: a Backend decorator that counts the reads of file-content
// packs and of tree packs (Get and ReadStream of data objects), so a
// test can assert how many requests an operation makes without timing it,
// and that fails every read of chosen objects, as a store does whose object
// has become unreadable.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "storage/backend.h"

namespace ferry {

class CountingBackend : public Backend {
 public:
  explicit CountingBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}

  // Reads of tree packs so far.
  uint64_t tree_reads() const { return tree_reads_; }
  // Reads of data packs of file contents so far.
  uint64_t content_reads() const { return content_reads_; }
  // Bytes those reads asked for.
  uint64_t content_bytes() const { return content_bytes_; }
  void ResetCounts() {
    content_reads_ = 0;
    content_bytes_ = 0;
    tree_reads_ = 0;
  }
  // From now on every read of the object named `name` fails with IOError.
  void FailReadsOf(const std::string& name) {
    std::lock_guard lock(mutex_);
    unreadable_.insert(name);
  }
  // Called before each content read (e.g. to cancel an operation midway).
  void OnContentRead(std::function<void()> hook) { on_content_read_ = std::move(hook); }

  Status Create() override { return inner_->Create(); }
  Status Put(const ObjectName& name, ByteView data) override { return inner_->Put(name, data); }
  Status PutIfAbsent(const ObjectName& name, ByteView data) override {
    return inner_->PutIfAbsent(name, data);
  }
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override {
    RETURN_IF_ERROR(Count(name, offset, length));
    return inner_->Get(name, offset, length);
  }
  Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                    const std::function<Status(ByteView)>& sink) override {
    RETURN_IF_ERROR(Count(name, offset, length));
    return inner_->ReadStream(name, offset, length, sink);
  }
  Result<uint64_t> Stat(const ObjectName& name) override { return inner_->Stat(name); }
  Status List(ObjectKind kind,
              const std::function<Status(const std::string&, uint64_t)>& visit) override {
    return inner_->List(kind, visit);
  }
  Status Remove(const ObjectName& name) override { return inner_->Remove(name); }
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(const ObjectName& name) override {
    return inner_->OpenWriter(name);
  }
  std::string Location() const override { return inner_->Location(); }
  Backend& Undecorated() override { return inner_->Undecorated(); }

 private:
  Status Count(const ObjectName& name, uint64_t offset, uint64_t length) {
    if (name.kind == ObjectKind::kData && !name.metadata) {
      ++content_reads_;
      if (length != kToEnd) content_bytes_ += length;
      if (on_content_read_) on_content_read_();
    }
    if (name.kind == ObjectKind::kData && name.metadata) ++tree_reads_;
    std::lock_guard lock(mutex_);
    if (unreadable_.count(name.name))
      return Status::IOError("reading " + name.Path() + " at " + std::to_string(offset) +
                             " failed (CountingBackend)");
    return Status::Ok();
  }

  std::unique_ptr<Backend> inner_;
  std::atomic<uint64_t> content_reads_{0};
  std::atomic<uint64_t> content_bytes_{0};
  std::atomic<uint64_t> tree_reads_{0};
  std::mutex mutex_;
  std::set<std::string> unreadable_;
  std::function<void()> on_content_read_;
};

}  // namespace ferry
