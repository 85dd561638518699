#include "repo/tree_lookup.h"

#include <algorithm>

namespace ferry {

Result<Node> LookupPath(Repository& repository, const Id& root, const std::string& path) {
  Node node;
  node.type = NodeType::kDirectory;
  node.mode = 0755;
  node.subtree = root;
  std::string walked;
  size_t start = 0;
  size_t depth = 1;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string name = path.substr(start, slash - start);
    start = slash + 1;
    if (name.empty() || name == ".") continue;
    if (node.type != NodeType::kDirectory)
      return Status::InvalidArgument((walked.empty() ? "/" : walked) +
                                     " is not a directory in the snapshot");
    if (++depth > kMaxTreeDepth) return Status::InvalidArgument(path + ": nested too deep");
    ASSIGN_OR_RETURN(Tree tree, repository.LoadTree(node.subtree));
    auto found =
        std::lower_bound(tree.nodes.begin(), tree.nodes.end(), name,
                         [](const Node& n, const std::string& key) { return n.name < key; });
    walked += "/" + name;
    if (found == tree.nodes.end() || found->name != name)
      return Status::NotFound(
          walked + " is not in the snapshot ('ferry ls SNAPSHOT " +
          (walked.rfind('/') == 0 ? std::string("/") : walked.substr(0, walked.rfind('/'))) +
          "' lists what is there)");
    node = *found;
  }
  return node;
}

}  // namespace ferry
