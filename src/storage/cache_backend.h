// CacheBackend: a local, on-disk copy of a remote repository's metadata —
// index objects, snapshots and the packs that hold trees
// (ObjectName::metadata) — so that a backup of unchanged files reads its
// parent snapshot's trees from the local disk instead of with one ranged
// request per directory to the vault, and an incremental backup sends only
// its new data. Everything else goes straight to the wrapped backend.
//
// Every cached object is content-addressed (its name is the SHA-256 of its
// bytes), so an entry can be missing or damaged but never stale: each entry is
// checked against its name the first time a process reads it, and a damaged
// one is fetched again. Metadata objects are fetched whole, then sliced.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "storage/local_backend.h"

namespace ferry {

class CacheBackend : public Backend {
 public:
  // `directory` is created on first use (0700, with a CACHEDIR.TAG at its
  // top so that backup tools skip it).
  CacheBackend(std::unique_ptr<Backend> remote, std::string directory);

  Status Create() override { return remote_->Create(); }
  // Stored remotely first; a metadata object is then kept in the cache too.
  Status Put(const ObjectName& name, ByteView data) override;
  Status PutIfAbsent(const ObjectName& name, ByteView data) override;
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Stat(const ObjectName& name) override { return remote_->Stat(name); }
  // The remote's listing; cached indexes and snapshots it no longer lists
  // (removed from the repository) are dropped from the cache.
  Status List(ObjectKind kind,
              const std::function<Status(const std::string&, uint64_t)>& visit) override;
  Status Remove(const ObjectName& name) override;
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(const ObjectName& name) override {
    return remote_->OpenWriter(name);
  }
  Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                    const std::function<Status(ByteView)>& sink) override;
  // Into the remote; a copied object is cached when it is first read.
  Status CopyFrom(Backend& source, const ObjectName& name) override {
    return remote_->CopyFrom(source, name);
  }
  Backend& Undecorated() override { return remote_->Undecorated(); }
  std::string Location() const override { return remote_->Location(); }
  BackendStats stats() const override { return remote_->stats(); }

  const std::string& directory() const { return directory_; }

 private:
  static bool Cached(const ObjectName& name);
  bool Verified(const ObjectName& name);
  // The whole object: from the cache when its entry holds the right bytes,
  // else from the remote (checked against its name, then cached).
  Result<Bytes> LoadWhole(const ObjectName& name);
  // Creates the cache directory the first time; false if it cannot be used.
  bool Ready();
  void Keep(const ObjectName& name, ByteView data);

  std::unique_ptr<Backend> remote_;
  std::string directory_;
  LocalBackend cache_;
  std::mutex mutex_;
  int ready_ = -1;                  // -1 not yet tried, 0 unusable, 1 ready
  std::set<std::string> verified_;  // object paths checked by this process
};

}  // namespace ferry
