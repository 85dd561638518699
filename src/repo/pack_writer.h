// PackWriter: turns saved blobs into packs and index objects.
//
// Each concurrent caller of Save gets a PackBuilder of its own from a free
// list, so compression and encryption run in parallel without a lock. A full
// pack goes to a small queue of uploaders, which hash it (its name), store it
// (with the backend's fsync) and only then enter it into the master index:
// the CPU-bound savers never wait for the disk or the network. Every
// `kPacksPerIndex` packs (and at Flush) an index object is written, so an
// interrupted backup leaves at most that many packs unindexed (garbage for
// prune, never referenced by a snapshot).
//
// Tree blobs and data blobs go into separate packs: trees are small and read
// on every backup (the parent snapshot) and every restore, so their packs stay
// compact and cacheable, and an offline seed can send data packs on disks
// while the trees stay with the repository.
//
// Dedup: a blob ID is "known" if it is in the master index or in a pack being
// built or uploaded; Save of a known blob returns false at once.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "format/index_file.h"
#include "format/pack.h"
#include "util/bounded_queue.h"

namespace ferry {

class Repository;

class PackWriter {
 public:
  static constexpr size_t kPacksPerIndex = 64;
  // Finished packs waiting for an uploader: bounds memory to a few packs.
  static constexpr size_t kUploadQueueLength = 1;
  // Four writes in flight keep a disk's queue (O_DIRECT) or a vault's
  // connections busy while the savers compress; each holds one pack.
  static constexpr int kUploaders = 4;

  explicit PackWriter(Repository& repository);
  ~PackWriter();

  Result<bool> Save(BlobType type, const Id& id, ByteView plaintext);
  // Uploads every partly filled pack, waits for all uploads, writes the index.
  Status Flush();

  uint64_t bytes_written() const { return bytes_written_; }
  uint64_t packs_written() const { return packs_written_; }

 private:
  struct FinishedPack {
    BufferBytes bytes;
    IndexedPack indexed;
  };

  void Enqueue(PackBuilder& builder);
  void UploadLoop();
  Status Upload(FinishedPack& pack);
  // REQUIRES: index_mutex_ held.
  Status WriteIndexLocked();
  Status UploadStatus();

  Repository& repository_;
  std::mutex mutex_;  // guards idle_builders_, pending_
  // Free builders, by blob type (index 0 data, 1 tree).
  std::vector<std::unique_ptr<PackBuilder>> idle_builders_[2];
  std::array<std::unordered_set<Id, IdHash>, 2> pending_;  // by BlobType: saved, not yet indexed

  BoundedQueue<FinishedPack> upload_queue_{kUploadQueueLength};
  std::vector<std::thread> uploaders_;
  std::mutex upload_mutex_;  // guards in_flight_, upload_status_
  std::condition_variable uploads_done_;
  size_t in_flight_ = 0;  // enqueued and not yet uploaded
  Status upload_status_;

  std::mutex index_mutex_;  // guards unindexed_packs_
  std::vector<IndexedPack> unindexed_packs_;
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> packs_written_{0};
};

}  // namespace ferry
