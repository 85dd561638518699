// MemoryBackend: a repository held in process memory. For tests that need a
// real Backend without a disk (the conformance suite runs on it too), and as
// the registry's "memory://NAME" location: every backend opened with the same
// name in one process shares one store, so a test can open a repository
// twice, as two commands would.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "storage/backend.h"

namespace ferry {

class MemoryBackend : public Backend {
 public:
  // The objects, shared by every MemoryBackend made from the same store.
  struct Store {
    std::mutex mutex;
    std::map<std::string, std::shared_ptr<const Bytes>> objects;  // by ObjectName::Path()
  };

  MemoryBackend() : MemoryBackend(std::make_shared<Store>(), "memory://") {}
  MemoryBackend(std::shared_ptr<Store> store, std::string location)
      : store_(std::move(store)), location_(std::move(location)) {}

  // The store that "memory://NAME" names in this process (created on first use).
  static std::shared_ptr<Store> Named(const std::string& name);

  Status Create() override;
  Status Put(const ObjectName& name, ByteView data) override;
  Status PutIfAbsent(const ObjectName& name, ByteView data) override;
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Stat(const ObjectName& name) override;
  Status List(ObjectKind kind,
              const std::function<Status(const std::string&, uint64_t)>& visit) override;
  Status Remove(const ObjectName& name) override;
  std::string Location() const override { return location_; }

 private:
  std::shared_ptr<const Bytes> Find(const ObjectName& name);

  std::shared_ptr<Store> store_;
  std::string location_;
};

}  // namespace ferry
