// Restorer: recreates a snapshot (or parts of it) under a target directory.
//
// 1. Walk the snapshot's trees (TreeWalker: iterative, depth-bounded); a tree
//    that cannot be read is a failure of that directory, not of the restore.
// 2. Check that the target's file system has room for the bytes to write
//    (before anything is written); create directories, symlinks, fifos and
//    device nodes.
// 3. Plan the files' content by pack (RestorePlan): which blobs of which
//    pack go to which (file, offset); a file whose blobs are not all indexed
//    fails here. N workers (FileRestorer) then read pack after pack, each
//    pack's wanted blobs in few large ranged reads (repo/pack_reader.h), every
//    blob decrypted and verified against its MAC once and written wherever
//    it goes. A file is written under a temporary name in its directory
//    (.ferry-restore-PID-N) created at full size on its first blob, so holes
//    stay holes (all-zero blocks are skipped). When its last blob is
//    written, it gets its metadata and is renamed to its name; a file that
//    fails (a damaged blob fails exactly the files that need it) is removed,
//    so no full-size file of holes ever looks restored; so is every
//    unfinished one after a cancel.
// 4. Second names of hard-linked inodes become hard links to the first;
//    directory metadata comes last and deepest first, because creating
//    entries changes a directory's mtime.
//
// Whatever cannot be restored (a damaged tree, a file whose blob is damaged,
// a directory that cannot be created) is named in RestoreResult::failures and
// the rest is restored.
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
  int threads = 0;                    // packs in flight; 0: three per core (at least 4)
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
  uint64_t warnings = 0;  // metadata that could not be applied, and the like
  // "PATH: reason" for each entry that was not restored (and, for a
  // directory, nothing below it); empty: the restore is complete.
  std::vector<std::string> failures;
};

// Fails (before anything is written) only where nothing can be restored: the
// target is unusable or lacks the space, entries would be overwritten without
// `overwrite`, no path matches `includes`, or `cancel` was set.

Result<RestoreResult> RunRestore(Repository& repository, const Snapshot& snapshot,
                                 const RestoreOptions& options, RestoreProgress& progress,
                                 const std::function<void(const std::string&)>& warn);

}  // namespace ferry
