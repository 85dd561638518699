// PackWriter: turns saved blobs into packs and index objects.
//
// Each concurrent caller of Save gets a PackBuilder of its own from a free
// list, so compression and encryption run in parallel without a lock. A full
// pack is uploaded by the thread that filled it, then entered into the master
// index. Every `kPacksPerIndex` packs (and at Flush) an index object is written,
// so an interrupted backup leaves at most that many packs unindexed (they are
// garbage for prune, never referenced by a snapshot).
//
// Dedup: a blob ID is "known" if it is in the master index or in a pack being
// built; the second Save of a pending blob returns false at once.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "format/index_file.h"
#include "format/pack.h"

namespace ferry {

class Repository;

class PackWriter {
 public:
  static constexpr size_t kPacksPerIndex = 64;

  explicit PackWriter(Repository& repository);
  ~PackWriter();

  Result<bool> Save(BlobType type, const Id& id, ByteView plaintext);
  Status Flush();

  uint64_t bytes_written() const { return bytes_written_; }
  uint64_t packs_written() const { return packs_written_; }

 private:
  Status UploadPack(PackBuilder& builder);
  // REQUIRES: index_mutex_ held.
  Status WriteIndexLocked();

  Repository& repository_;
  std::mutex mutex_;  // guards idle_builders_, pending_
  std::vector<std::unique_ptr<PackBuilder>> idle_builders_;
  std::unordered_set<Id, IdHash> pending_;
  std::mutex index_mutex_;  // guards unindexed_packs_
  std::vector<IndexedPack> unindexed_packs_;
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> packs_written_{0};
};

}  // namespace ferry
