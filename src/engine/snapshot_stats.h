// SnapshotStats: how big snapshots are, in restic's three ways (`ferry stats`,
// `restic stats --mode`):
//
//   restore-size       every entry counted, file sizes summed: what a restore
//                      writes (a hard-linked inode counts once per snapshot)
//   files-by-contents  files with distinct contents (across all snapshots
//                      given), their sizes summed: the logical size after
//                      deduplicating whole files
//   raw-data           the distinct blobs (data and trees) the snapshots
//                      reference, as stored (compressed and encrypted): what
//                      they take in the repository, and the compression ratio
//
// Several snapshots are counted together: restore-size adds them up, the
// other two count what they share once.
#pragma once

#include <atomic>
#include <map>
#include <set>
#include <string>

#include "repo/repository.h"

namespace ferry {

enum class StatsMode { kRestoreSize, kFilesByContents, kRawData };
// "restore-size", "files-by-contents", "raw-data"; InvalidArgument otherwise.
Result<StatsMode> ParseStatsMode(const std::string& text);
const char* StatsModeName(StatsMode mode);

struct SnapshotStats {
  uint64_t snapshots = 0;
  uint64_t total_size = 0;               // raw-data: stored bytes; otherwise file bytes
  uint64_t total_file_count = 0;         // restore-size: entries; files-by-contents: files
  uint64_t total_blob_count = 0;         // raw-data
  uint64_t total_uncompressed_size = 0;  // raw-data: plaintext bytes of the blobs
  // raw-data: plaintext / stored bytes of the blobs (0 when there are none).
  double compression_ratio = 0;
};

class StatsCollector {
 public:
  StatsCollector(Repository& repository, StatsMode mode) : repository_(repository), mode_(mode) {}

  // Counts the snapshot whose root tree is `root`. A tree that cannot be
  // read fails (the figures would be too small without saying so).
  Status Add(const Id& root, const std::atomic<bool>* cancel = nullptr);
  // The figures so far. raw-data: NotFound if a blob is not in the index.
  Result<SnapshotStats> Finish() const;

 private:
  Repository& repository_;
  StatsMode mode_;
  SnapshotStats stats_;
  std::set<Id> contents_;                    // files-by-contents: hash of each content list
  std::set<std::pair<BlobType, Id>> blobs_;  // raw-data
};

}  // namespace ferry
