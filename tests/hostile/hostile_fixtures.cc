#include "hostile_fixtures.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "crypto/random.h"

namespace ferry::hostile {

namespace {

Node DirectoryNode(const std::string& name, const Id& subtree) {
  Node node;
  node.name = name;
  node.type = NodeType::kDirectory;
  node.mode = 0755;
  node.mtime_ns = 1700000000000000000;
  node.subtree = subtree;
  return node;
}

Id RandomId() {
  Bytes bytes = RandomBytes(32);
  return Id::FromBytes(bytes);
}

Result<Id> SaveSnapshotOf(Repository& repository, const Id& tree, const std::string& path) {
  Snapshot snapshot;
  snapshot.time_ns = 1700000000000000000;
  snapshot.tree = tree;
  snapshot.paths = {path};
  snapshot.hostname = "hostile";
  snapshot.username = "hostile";
  snapshot.program_version = "ferry hostile fixture";
  RETURN_IF_ERROR(repository.Flush());
  return repository.SaveSnapshot(snapshot);
}

}  // namespace

Result<Id> WriteDeepTreeSnapshot(Repository& repository, size_t depth) {
  ASSIGN_OR_RETURN(Id below, repository.SaveTree(Tree{}));
  for (size_t level = 0; level < depth; ++level) {
    Tree tree;
    tree.nodes.push_back(DirectoryNode("d", below));
    ASSIGN_OR_RETURN(below, repository.SaveTree(tree));
  }
  return SaveSnapshotOf(repository, below, "/d");
}

Result<Id> WriteDamagedSnapshot(Repository& repository, const Id& base) {
  ASSIGN_OR_RETURN(Snapshot snapshot, repository.LoadSnapshot(base));
  ASSIGN_OR_RETURN(Tree root, repository.LoadTree(snapshot.tree));
  root.nodes.push_back(DirectoryNode("broken-dir", RandomId()));
  Node file;
  file.name = "broken-file";
  file.type = NodeType::kFile;
  file.mode = 0644;
  file.links = 1;
  file.size = 1 << 20;
  file.content = {RandomId()};
  root.nodes.push_back(file);
  std::sort(root.nodes.begin(), root.nodes.end(),
            [](const Node& a, const Node& b) { return a.name < b.name; });
  ASSIGN_OR_RETURN(Id tree, repository.SaveTree(root));
  snapshot.tree = tree;
  snapshot.parent = base;
  RETURN_IF_ERROR(repository.Flush());
  return repository.SaveSnapshot(snapshot);
}

Result<Id> WriteHugeFileSnapshot(Repository& repository, uint64_t size) {
  std::string text = "a petabyte, it says";
  Bytes plain(text.begin(), text.end());
  Id blob = repository.BlobId(plain);
  RETURN_IF_ERROR(repository.SaveBlob(BlobType::kData, blob, plain).status());
  Node file;
  file.name = "huge";
  file.type = NodeType::kFile;
  file.mode = 0644;
  file.links = 1;
  file.size = size;
  file.content = {blob};
  Tree root;
  root.nodes.push_back(file);
  ASSIGN_OR_RETURN(Id tree, repository.SaveTree(root));
  return SaveSnapshotOf(repository, tree, "/huge");
}

Result<Id> WriteLock(Repository& repository, bool exclusive, const std::string& hostname,
                     int64_t pid, int64_t time_ns) {
  nlohmann::json j = {{"time", time_ns},
                      {"exclusive", exclusive},
                      {"hostname", hostname},
                      {"username", "hostile"},
                      {"pid", pid}};
  std::string text = j.dump();
  return repository.SaveSealed(ObjectKind::kLock, AsBytes(text));
}

}  // namespace ferry::hostile
