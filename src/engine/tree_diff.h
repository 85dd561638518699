// TreeDiff: what changed between two snapshots' trees, as `restic diff`
// reports it, path by path in name order:
//
//   +    added (a directory's whole contents follow, each with +)
//   -    removed (likewise)
//   M    a file's contents changed
//   M?   contents changed but every other field (size, times, inode) is equal:
//        probable bit rot in the source, or a backup that trusted the metadata
//   T    the type changed (file to directory, …)
//   U    only metadata changed (mode, owner, times, xattrs, …); reported only
//        with `metadata`
//
// Directories are named with a trailing '/'. Subtrees with equal IDs are
// equal and not descended into. The blob figures compare the full sets of
// blobs each snapshot references (what a restore of the newer one would need
// beyond the older one, and the reverse).
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "repo/repository.h"

namespace ferry {

struct TreeChange {
  std::string path;      // "/a/b", "/a/dir/" for directories
  std::string modifier;  // "+", "-", "M", "M?", "T", "TM", "U", …
};

struct DiffCounts {
  uint64_t files = 0;
  uint64_t dirs = 0;
  uint64_t others = 0;  // symlinks, devices, fifos, sockets
  uint64_t data_blobs = 0;
  uint64_t tree_blobs = 0;
  uint64_t bytes = 0;  // plaintext bytes of those blobs
};

struct TreeDiffStats {
  uint64_t changed_files = 0;
  DiffCounts added;
  DiffCounts removed;
};

struct TreeDiffOptions {
  bool metadata = false;  // report metadata-only changes (U)
  const std::atomic<bool>* cancel = nullptr;
};

// Compares the trees below `old_root` and `new_root`, calling `on_change` for
// each change in path order. A tree that cannot be loaded fails the diff
// (naming the directory): a partial diff would look like a complete one.
Result<TreeDiffStats> DiffTrees(Repository& repository, const Id& old_root, const Id& new_root,
                                const TreeDiffOptions& options,
                                const std::function<void(const TreeChange&)>& on_change);

}  // namespace ferry
