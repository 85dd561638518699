// CrashingBackend: a Backend decorator for crash tests (leveldb's
// fault_injection_test is the model). The first `writes_before_crash`
// changes (Put, PutIfAbsent, a writer's Commit, Remove) reach the wrapped
// backend; from the next one on, every call fails as if the process had died
// there, so that a test can stop an operation at each of its steps in turn
// and then look at what a real crash would have left.
#pragma once

#include <atomic>
#include <memory>

#include "storage/backend.h"

namespace ferry {

class CrashingBackend : public Backend {
 public:
  CrashingBackend(std::unique_ptr<Backend> inner, int writes_before_crash)
      : inner_(std::move(inner)), writes_left_(writes_before_crash) {}

  bool crashed() const { return crashed_; }

  Status Create() override {
    return Write([&] { return inner_->Create(); });
  }
  Status Put(const ObjectName& name, ByteView data) override {
    return Write([&] { return inner_->Put(name, data); });
  }
  Status PutIfAbsent(const ObjectName& name, ByteView data) override {
    return Write([&] { return inner_->PutIfAbsent(name, data); });
  }
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override {
    if (crashed_) return Dead();
    return inner_->Get(name, offset, length);
  }
  Result<uint64_t> Stat(const ObjectName& name) override {
    if (crashed_) return Dead();
    return inner_->Stat(name);
  }
  Status List(ObjectKind kind,
              const std::function<Status(const std::string&, uint64_t)>& visit) override {
    if (crashed_) return Dead();
    return inner_->List(kind, visit);
  }
  Status Remove(const ObjectName& name) override {
    return Write([&] { return inner_->Remove(name); });
  }
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(const ObjectName& name) override {
    if (crashed_) return Dead();
    ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> writer, inner_->OpenWriter(name));
    return std::unique_ptr<ObjectWriter>(new Writer(*this, std::move(writer)));
  }
  std::string Location() const override { return inner_->Location(); }
  Backend& Undecorated() override { return inner_->Undecorated(); }

 private:
  class Writer : public ObjectWriter {
   public:
    Writer(CrashingBackend& backend, std::unique_ptr<ObjectWriter> inner)
        : backend_(backend), inner_(std::move(inner)) {}
    Status Write(ByteView data) override {
      if (backend_.crashed_) return Dead();
      return inner_->Write(data);
    }
    Status Commit() override {
      return backend_.Write([&] { return inner_->Commit(); });
    }

   private:
    CrashingBackend& backend_;
    std::unique_ptr<ObjectWriter> inner_;
  };

  static Status Dead() { return Status::IOError("the process crashed here (CrashingBackend)"); }
  template <typename F>
  Status Write(F&& write) {
    if (crashed_ || writes_left_-- <= 0) {
      crashed_ = true;
      return Dead();
    }
    return write();
  }

  std::unique_ptr<Backend> inner_;
  std::atomic<int> writes_left_;
  std::atomic<bool> crashed_{false};
};

}  // namespace ferry
