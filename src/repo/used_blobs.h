// UsedBlobs: every tree and data blob reachable from a set of snapshots —
// what prune must keep. One walk over all snapshots at once, each tree loaded
// once (a tree shared by snapshots or directories is not walked again), by
// several threads: loading a tree is a read, a MAC check, a decompression and
// a JSON parse, and a repository's trees are many small reads (on object
// storage, one request each), so one thread leaves the cores and the
// connection idle.
//
// Trees come from the repository, so from outside: nesting is bounded by
// kMaxTreeDepth, and a tree that cannot be loaded fails the whole search —
// the blobs below it would otherwise be taken for unused.
#pragma once

#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "repo/repository.h"

namespace ferry {

using IdSet = std::unordered_set<Id, IdHash>;

struct UsedBlobs {
  IdSet trees;
  IdSet data;
};

struct UsedBlobsOptions {
  int threads = 0;  // 0: two per core (loads wait on reads as much as on the CPU)
  // Called now and then, from one thread at a time, with the trees loaded so far.
  std::function<void(uint64_t trees_loaded)> progress;
};

// Fails with Corruption naming the snapshot, the directory and the tree that
// cannot be read (or lies too deep), and what to run.
Result<UsedBlobs> FindUsedBlobs(Repository& repository, const std::vector<SnapshotEntry>& snapshots,
                                const UsedBlobsOptions& options = {});

}  // namespace ferry
