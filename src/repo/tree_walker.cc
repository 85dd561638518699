#include "repo/tree_walker.h"

#include <vector>

namespace ferry {

Status TreeTooDeep(const std::string& path) {
  return Status::Corruption("the directory " + path + " is nested deeper than " +
                            std::to_string(kMaxTreeDepth) +
                            " levels, the most a snapshot may hold (docs/format.md, \"Trees\"); "
                            "what is inside it is not read");
}

Status WalkTrees(Repository& repository, const Id& root, const TreeWalkCallbacks& callbacks,
                 const std::atomic<bool>* cancel) {
  return WalkTrees([&](const Id& id) { return repository.LoadTree(id); }, root, callbacks, cancel);
}

Status WalkTrees(const TreeLoader& load, const Id& root, const TreeWalkCallbacks& callbacks,
                 const std::atomic<bool>* cancel) {
  struct Level {
    Tree tree;
    std::string path;  // of the directory this tree lists; "" for the root
    size_t next = 0;
  };
  std::vector<Level> stack;
  auto enter = [&](const std::string& path, const Id& id) {
    size_t depth = stack.size() + 1;
    if (callbacks.enter && !callbacks.enter(path, id, depth)) return;
    if (depth > kMaxTreeDepth) {
      callbacks.tree_error(path, id, TreeTooDeep(path));
      return;
    }
    auto tree = load(id);
    if (!tree.ok()) {
      callbacks.tree_error(path, id, tree.status());
      return;
    }
    stack.push_back({std::move(*tree), path, 0});
  };
  enter("", root);
  while (!stack.empty()) {
    if (cancel && *cancel) return Status::Interrupted("interrupted");
    Level& level = stack.back();
    if (level.next == level.tree.nodes.size()) {
      stack.pop_back();
      continue;
    }
    const Node& node = level.tree.nodes[level.next++];
    std::string path = level.path + "/" + node.name;
    // `level` and `node` live in the stack's storage: done with them before
    // enter() may grow it.
    bool descend = callbacks.node(path, node) && node.type == NodeType::kDirectory;
    if (descend) {
      Id subtree = node.subtree;
      enter(path, subtree);
    }
  }
  return Status::Ok();
}

}  // namespace ferry
