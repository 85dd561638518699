// Restorer: recreates a snapshot (or parts of it) under a target directory.
//
// 1. Walk the snapshot's trees; create directories, symlinks, fifos and device
//    nodes; create each regular file at its full size (so holes stay holes)
//    and collect it as a job; a second name of a hard-linked inode becomes a
//    hard link to the first.
// 2. N workers fill the files: each blob is loaded (decrypted and verified
//    against its MAC) and written at its offset; all-zero blobs are skipped,
//    leaving a hole.
// 3. File metadata is applied after the content is written, directory metadata
//    last and deepest first, because creating entries changes a directory's mtime.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "repo/repository.h"

namespace ferry {

struct RestoreOptions {
  std::string target;
  std::vector<std::string> includes;  // absolute paths inside the snapshot; empty: everything
  bool overwrite = false;             // replace existing entries in a non-empty target
  int threads = 0;                    // 0: three per core (at least 4)
  const std::atomic<bool>* cancel = nullptr;
};

struct RestoreProgress {
  std::atomic<uint64_t> files_done{0};
  std::atomic<uint64_t> bytes_done{0};
  std::atomic<uint64_t> files_total{0};
  std::atomic<uint64_t> bytes_total{0};
};

struct RestoreResult {
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t other = 0;  // symlinks, fifos, devices
  uint64_t bytes = 0;
  uint64_t warnings = 0;
};

Result<RestoreResult> RunRestore(Repository& repository, const Snapshot& snapshot,
                                 const RestoreOptions& options, RestoreProgress& progress,
                                 const std::function<void(const std::string&)>& warn);

}  // namespace ferry
