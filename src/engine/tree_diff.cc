#include "engine/tree_diff.h"

#include <map>
#include <set>

#include "repo/tree_walker.h"

namespace ferry {

namespace {

using BlobSet = std::set<std::pair<BlobType, Id>>;

class Differ {
 public:
  Differ(Repository& repository, const TreeDiffOptions& options,
         const std::function<void(const TreeChange&)>& on_change)
      : repository_(repository), options_(options), on_change_(on_change) {}

  Status Diff(const std::string& prefix, const Id& old_tree, const Id& new_tree, size_t depth) {
    if (options_.cancel && *options_.cancel) return Status::Interrupted("diff interrupted");
    if (depth > kMaxTreeDepth) return TreeTooDeep(prefix.empty() ? "/" : prefix);
    ASSIGN_OR_RETURN(Tree before, Load(prefix, old_tree));
    ASSIGN_OR_RETURN(Tree after, Load(prefix, new_tree));
    // Both lists are sorted by name: merge them.
    size_t i = 0, j = 0;
    while (i < before.nodes.size() || j < after.nodes.size()) {
      const Node* old_node = i < before.nodes.size() ? &before.nodes[i] : nullptr;
      const Node* new_node = j < after.nodes.size() ? &after.nodes[j] : nullptr;
      if (old_node && new_node && old_node->name != new_node->name) {
        if (old_node->name < new_node->name)
          new_node = nullptr;
        else
          old_node = nullptr;
      }
      if (old_node) ++i;
      if (new_node) ++j;
      const Node& named = old_node ? *old_node : *new_node;
      std::string path = prefix + "/" + named.name;
      if (old_node && new_node) {
        RETURN_IF_ERROR(Compare(path, *old_node, *new_node, depth));
      } else if (old_node) {
        RETURN_IF_ERROR(Report("-", path, *old_node, stats_.removed, depth));
      } else {
        RETURN_IF_ERROR(Report("+", path, *new_node, stats_.added, depth));
      }
    }
    return Status::Ok();
  }

  TreeDiffStats& stats() { return stats_; }

 private:
  Result<Tree> Load(const std::string& prefix, const Id& id) {
    auto tree = repository_.LoadTree(id);
    if (!tree.ok())
      return tree.status().WithContext("directory " + (prefix.empty() ? "/" : prefix));
    return tree;
  }

  static std::string Shown(const std::string& path, const Node& node) {
    return node.type == NodeType::kDirectory ? path + "/" : path;
  }

  Status Compare(const std::string& path, const Node& old_node, const Node& new_node,
                 size_t depth) {
    std::string modifier;
    if (old_node.type != new_node.type) modifier += "T";
    if (old_node.type == NodeType::kFile && new_node.type == NodeType::kFile &&
        old_node.content != new_node.content) {
      modifier += "M";
      ++stats_.changed_files;
      Node old_bare = old_node, new_bare = new_node;
      old_bare.content.clear();
      new_bare.content.clear();
      if (old_bare == new_bare) modifier += "?";
    } else if (options_.metadata && MetadataDiffers(old_node, new_node)) {
      modifier += "U";
    }
    if (!modifier.empty()) on_change_({Shown(path, new_node), modifier});
    if (old_node.type == NodeType::kDirectory && new_node.type == NodeType::kDirectory &&
        old_node.subtree != new_node.subtree)
      return Diff(path, old_node.subtree, new_node.subtree, depth + 1);
    return Status::Ok();
  }

  // Everything but what says where the contents are (content, subtree).
  static bool MetadataDiffers(const Node& a, const Node& b) {
    Node x = a, y = b;
    x.content.clear();
    y.content.clear();
    x.subtree = Id();
    y.subtree = Id();
    return !(x == y);
  }

  // A node only one side has, and, for a directory, everything below it.
  Status Report(const char* modifier, const std::string& path, const Node& node, DiffCounts& counts,
                size_t depth) {
    on_change_({Shown(path, node), modifier});
    Count(node, counts);
    if (node.type != NodeType::kDirectory) return Status::Ok();
    Status failed;
    TreeWalkCallbacks callbacks;
    callbacks.enter = [&](const std::string&, const Id&, size_t walk_depth) {
      return depth + walk_depth <= kMaxTreeDepth + 1;
    };
    callbacks.node = [&](const std::string& below, const Node& child) {
      on_change_({Shown(path + below, child), modifier});
      Count(child, counts);
      return true;
    };
    callbacks.tree_error = [&](const std::string& below, const Id&, const Status& status) {
      if (failed.ok()) failed = status.WithContext("directory " + path + below);
    };
    RETURN_IF_ERROR(WalkTrees(repository_, node.subtree, callbacks, options_.cancel));
    return failed;
  }

  static void Count(const Node& node, DiffCounts& counts) {
    if (node.type == NodeType::kFile)
      ++counts.files;
    else if (node.type == NodeType::kDirectory)
      ++counts.dirs;
    else
      ++counts.others;
  }

  Repository& repository_;
  const TreeDiffOptions& options_;
  const std::function<void(const TreeChange&)>& on_change_;
  TreeDiffStats stats_;
};

// Every blob the snapshot with root `root` references (its trees included).
Status CollectBlobs(Repository& repository, const Id& root, BlobSet& blobs,
                    const std::atomic<bool>* cancel) {
  blobs.insert({BlobType::kTree, root});
  Status failed;
  TreeWalkCallbacks callbacks;
  callbacks.node = [&](const std::string&, const Node& node) {
    if (node.type == NodeType::kFile)
      for (const Id& id : node.content) blobs.insert({BlobType::kData, id});
    if (node.type != NodeType::kDirectory) return false;
    // A subtree seen before (in this snapshot) holds nothing new.
    return blobs.insert({BlobType::kTree, node.subtree}).second;
  };
  callbacks.tree_error = [&](const std::string& path, const Id&, const Status& status) {
    if (failed.ok()) failed = status.WithContext("directory " + (path.empty() ? "/" : path));
  };
  RETURN_IF_ERROR(WalkTrees(repository, root, callbacks, cancel));
  return failed;
}

void CountBlobs(Repository& repository, const BlobSet& blobs, const BlobSet& other,
                DiffCounts& counts) {
  for (const auto& blob : blobs) {
    if (other.count(blob)) continue;
    (blob.first == BlobType::kData ? counts.data_blobs : counts.tree_blobs)++;
    if (auto location = repository.FindBlob(blob.first, blob.second))
      counts.bytes += location->entry.raw_length;
  }
}

}  // namespace

Result<TreeDiffStats> DiffTrees(Repository& repository, const Id& old_root, const Id& new_root,
                                const TreeDiffOptions& options,
                                const std::function<void(const TreeChange&)>& on_change) {
  Differ differ(repository, options, on_change);
  if (old_root != new_root) RETURN_IF_ERROR(differ.Diff("", old_root, new_root, 1));
  BlobSet before, after;
  RETURN_IF_ERROR(CollectBlobs(repository, old_root, before, options.cancel));
  RETURN_IF_ERROR(CollectBlobs(repository, new_root, after, options.cancel));
  CountBlobs(repository, after, before, differ.stats().added);
  CountBlobs(repository, before, after, differ.stats().removed);
  return differ.stats();
}

}  // namespace ferry
