// TreeWalker: visits every node below a snapshot's root tree, depth first in
// name order (a directory, then what is in it, then its next sibling), the one
// walk over trees that ls, check, restore and seed repair share.
//
// Trees come from the repository, so from outside: the walk keeps its own
// stack (one loaded tree per level) instead of recursing, and refuses trees
// nested deeper than kMaxTreeDepth. A tree that cannot be loaded, or lies too
// deep, is reported and skipped; the walk goes on with the rest.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "repo/repository.h"

namespace ferry {

struct TreeWalkCallbacks {
  // Before the tree of directory `path` ("" for the root) is loaded; `depth`
  // is the tree's depth (1 for the root). Returning false skips it and all
  // below (the checker's trees already verified). Optional.
  std::function<bool(const std::string& path, const Id& tree, size_t depth)> enter;
  // Each node; `path` is its full path in the snapshot ("/a/b"). For a
  // directory, returning false does not walk into it.
  std::function<bool(const std::string& path, const Node& node)> node;
  // The tree of directory `path` ("" for the root) is damaged, missing or too
  // deep: nothing below it is visited.
  std::function<void(const std::string& path, const Id& tree, const Status& status)> tree_error;
};

// Walks until done or `cancel` is set; returns Interrupted in that case.
Status WalkTrees(Repository& repository, const Id& root, const TreeWalkCallbacks& callbacks,
                 const std::atomic<bool>* cancel = nullptr);

// The same walk over trees from `load` (Repository::LoadTree above; an
// in-memory map of hostile trees in the fuzz target tests/fuzz/fuzz_tree_walk).
using TreeLoader = std::function<Result<Tree>(const Id& tree)>;
Status WalkTrees(const TreeLoader& load, const Id& root, const TreeWalkCallbacks& callbacks,
                 const std::atomic<bool>* cancel = nullptr);

// The error a reader reports for a tree below kMaxTreeDepth.
Status TreeTooDeep(const std::string& path);

}  // namespace ferry
