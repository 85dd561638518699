#include "repo/used_blobs.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "repo/tree_walker.h"

namespace ferry {

namespace {

// A tree still to load: which snapshot first reached it, and where.
struct PendingTree {
  Id tree;
  std::string path;  // of the directory it lists; "" for the root
  size_t depth = 1;  // 1 for a root
  size_t snapshot = 0;
};

// The search's shared state. Workers take a tree, load it without the lock,
// then under the lock record its blobs and queue the subtrees not seen yet.
class Search {
 public:
  Search(Repository& repository, const std::vector<SnapshotEntry>& snapshots,
         const UsedBlobsOptions& options)
      : repository_(repository), snapshots_(snapshots), options_(options) {}

  Result<UsedBlobs> Run() {
    for (size_t i = 0; i < snapshots_.size(); ++i)
      if (used_.trees.insert(snapshots_[i].snapshot.tree).second)
        pending_.push_back({snapshots_[i].snapshot.tree, "", 1, i});
    int threads = options_.threads > 0
                      ? options_.threads
                      : std::max(2, 2 * static_cast<int>(std::thread::hardware_concurrency()));
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back([this] { Work(); });
    Work();
    for (std::thread& thread : pool) thread.join();
    if (!failure_.ok()) return failure_;
    return std::move(used_);
  }

 private:
  void Work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      changed_.wait(lock, [&] { return !pending_.empty() || busy_ == 0 || !failure_.ok(); });
      if (!failure_.ok() || pending_.empty()) break;  // failed, or nothing left anywhere
      PendingTree next = std::move(pending_.front());
      pending_.pop_front();
      ++busy_;
      lock.unlock();
      Result<Tree> tree = next.depth > kMaxTreeDepth ? Result<Tree>(TreeTooDeep(next.path))
                                                     : repository_.LoadTree(next.tree);
      lock.lock();
      --busy_;
      if (!tree.ok()) {
        Fail(next, tree.status());
      } else {
        Record(next, *tree);
        if (options_.progress && ++loaded_ % 1024 == 0) options_.progress(loaded_);
      }
      // Wakes the idle: new work, or the end (nothing pending, nobody busy).
      changed_.notify_all();
    }
  }

  // REQUIRES: mutex_ held.
  void Record(const PendingTree& parent, const Tree& tree) {
    for (const Node& node : tree.nodes) {
      for (const Id& blob : node.content) used_.data.insert(blob);
      if (node.type == NodeType::kDirectory && used_.trees.insert(node.subtree).second)
        pending_.push_back(
            {node.subtree, parent.path + "/" + node.name, parent.depth + 1, parent.snapshot});
    }
  }

  // REQUIRES: mutex_ held.
  void Fail(const PendingTree& where, const Status& status) {
    if (!failure_.ok()) return;
    failure_ =
        Status::Corruption("snapshot " + snapshots_[where.snapshot].id.Short() + ": the tree of '" +
                           (where.path.empty() ? "/" : where.path) + "' (" + where.tree.Short() +
                           ") cannot be read: " + status.message());
  }

  Repository& repository_;
  const std::vector<SnapshotEntry>& snapshots_;
  const UsedBlobsOptions& options_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<PendingTree> pending_;
  int busy_ = 0;
  uint64_t loaded_ = 0;
  UsedBlobs used_;
  Status failure_;
};

}  // namespace

Result<UsedBlobs> FindUsedBlobs(Repository& repository, const std::vector<SnapshotEntry>& snapshots,
                                const UsedBlobsOptions& options) {
  return Search(repository, snapshots, options).Run();
}

}  // namespace ferry
