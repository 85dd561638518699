// Builds snapshot trees in a real repository from a list of paths, for the
// tests of what reads trees (diff, dump, stats): "/a/b.txt" -> contents makes
// the directories on the way. File contents are cut into blobs of
// kBlobBytes, so that readers meet files of several blobs.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "repo/repository.h"

namespace ferry {

struct TestEntry {
  std::string content;  // files; the link target for symlinks
  NodeType type = NodeType::kFile;
  uint32_t mode = 0644;
  int64_t mtime_ns = 1700000000000000000;
  uint64_t inode = 0;
  uint64_t links = 1;
};
using TestTree = std::map<std::string, TestEntry>;  // absolute path -> entry

constexpr size_t kBlobBytes = 5;

inline Id BuildTestTree(Repository& repository, const TestTree& entries,
                        const std::string& prefix = "") {
  std::map<std::string, Node> nodes;  // by name, at this level
  std::map<std::string, TestTree> below;
  for (const auto& [path, entry] : entries) {
    if (path.rfind(prefix + "/", 0) != 0) continue;
    std::string rest = path.substr(prefix.size() + 1);
    size_t slash = rest.find('/');
    std::string name = rest.substr(0, slash);
    if (slash != std::string::npos) {
      below[name][path] = entry;
      if (!nodes.count(name)) {
        Node dir;
        dir.name = name;
        dir.type = NodeType::kDirectory;
        dir.mode = 0755;
        nodes[name] = dir;
      }
      continue;
    }
    Node node;
    node.name = name;
    node.type = entry.type;
    node.mode = entry.mode;
    node.mtime_ns = entry.mtime_ns;
    node.inode = entry.inode;
    node.links = entry.links;
    if (entry.type == NodeType::kFile) {
      node.size = entry.content.size();
      for (size_t at = 0; at < entry.content.size(); at += kBlobBytes) {
        std::string part = entry.content.substr(at, kBlobBytes);
        Bytes data(part.begin(), part.end());
        Id id = repository.BlobId(data);
        EXPECT_TRUE(repository.SaveBlob(BlobType::kData, id, data).ok());
        node.content.push_back(id);
      }
    } else if (entry.type == NodeType::kSymlink) {
      node.link_target = entry.content;
    } else if (entry.type == NodeType::kDirectory) {
      below[name];  // an empty directory unless entries below it follow
      if (nodes.count(name)) continue;
    }
    nodes[name] = node;
  }
  Tree tree;
  for (auto& [name, node] : nodes) {
    if (node.type == NodeType::kDirectory)
      node.subtree = BuildTestTree(repository, below[name], prefix + "/" + name);
    tree.nodes.push_back(node);
  }
  auto id = repository.SaveTree(tree);
  EXPECT_TRUE(id.ok());
  return id.ok() ? *id : Id();
}

}  // namespace ferry
