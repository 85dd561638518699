// FallbackBackend: a repository's backend plus a second place where some of
// its packs live for a while — an offline seed's staging directory, whose
// packs the vault only receives when the disks arrive. Reads of a pack the
// primary does not have go to the fallback; listings of packs are the union;
// everything else (and every write) goes to the primary alone.
#pragma once

#include <memory>

#include "storage/backend.h"

namespace ferry {

class FallbackBackend : public Backend {
 public:
  FallbackBackend(std::unique_ptr<Backend> primary, std::unique_ptr<Backend> fallback);

  Status Create() override { return primary_->Create(); }
  Status Put(const ObjectName& name, ByteView data) override { return primary_->Put(name, data); }
  Status PutIfAbsent(const ObjectName& name, ByteView data) override {
    return primary_->PutIfAbsent(name, data);
  }
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Stat(const ObjectName& name) override;
  Status List(ObjectKind kind,
              const std::function<Status(const std::string&, uint64_t)>& visit) override;
  Status Remove(const ObjectName& name) override { return primary_->Remove(name); }
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(const ObjectName& name) override {
    return primary_->OpenWriter(name);
  }
  Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                    const std::function<Status(ByteView)>& sink) override;
  std::string Location() const override {
    return primary_->Location() + " (+ " + fallback_->Location() + ")";
  }
  BackendStats stats() const override { return primary_->stats(); }

  Backend& primary() { return *primary_; }
  Backend& fallback() { return *fallback_; }

 private:
  std::unique_ptr<Backend> primary_;
  std::unique_ptr<Backend> fallback_;
};

}  // namespace ferry
