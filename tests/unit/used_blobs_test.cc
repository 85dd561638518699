// FindUsedBlobs: what prune keeps. Every tree and data blob reachable from the
// snapshots and nothing else, each shared tree loaded once however many
// snapshots and directories share it, and a tree it cannot read (or that lies
// too deep) fails the search naming the snapshot and the directory.
#include "repo/used_blobs.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "repo/tree_walker.h"
#include "repository_fixture.h"

namespace ferry {
namespace {

class UsedBlobsTest : public RepositoryFixture {
 protected:
  Id Data(Repository& repository, IdSet* used) {
    Bytes bytes = RandomBytes(64);
    Id id = repository.BlobId(bytes);
    EXPECT_TRUE(repository.SaveBlob(BlobType::kData, id, bytes).ok());
    if (used) used->insert(id);
    return id;
  }
  Id SaveTree(Repository& repository, const Tree& tree, IdSet* used) {
    auto id = repository.SaveTree(tree);
    EXPECT_TRUE(id.ok());
    if (used) used->insert(*id);
    return *id;
  }
  static Node File(const std::string& name, std::vector<Id> content) {
    Node node;
    node.name = name;
    node.type = NodeType::kFile;
    node.content = std::move(content);
    return node;
  }
  static Node Directory(const std::string& name, const Id& subtree) {
    Node node;
    node.name = name;
    node.type = NodeType::kDirectory;
    node.subtree = subtree;
    return node;
  }
  SnapshotEntry Entry(Repository& repository, const Id& root) {
    Snapshot snapshot;
    snapshot.time_ns = ++time_;
    snapshot.tree = root;
    auto id = repository.SaveSnapshot(snapshot);
    EXPECT_TRUE(id.ok());
    return {*id, snapshot};
  }
  int64_t time_ = 0;
};

TEST_F(UsedBlobsTest, EverythingReachableAndNothingElse) {
  auto repository = Init();
  UsedBlobs expected;
  // One subtree shared by two directories of every snapshot, and one of its own each.
  Tree shared;
  shared.nodes = {
      File("a", {Data(*repository, &expected.data), Data(*repository, &expected.data)})};
  Id shared_id = SaveTree(*repository, shared, &expected.trees);
  std::vector<SnapshotEntry> snapshots;
  for (int i = 0; i < 20; ++i) {
    Tree own;
    own.nodes = {File("f", {Data(*repository, &expected.data)})};
    Tree root;
    root.nodes = {Directory("one", shared_id),
                  Directory("own", SaveTree(*repository, own, &expected.trees)),
                  Directory("two", shared_id)};
    snapshots.push_back(Entry(*repository, SaveTree(*repository, root, &expected.trees)));
  }
  Data(*repository, nullptr);  // stored, used by nothing
  Tree orphan;
  orphan.nodes = {File("x", {Data(*repository, nullptr)})};
  SaveTree(*repository, orphan, nullptr);
  ASSERT_TRUE(repository->Flush().ok());

  for (int threads : {1, 4}) {
    UsedBlobsOptions options;
    options.threads = threads;
    auto used = FindUsedBlobs(*repository, snapshots, options);
    ASSERT_TRUE(used.ok()) << used.status().ToString();
    EXPECT_EQ(used->trees, expected.trees) << threads << " thread(s)";
    EXPECT_EQ(used->data, expected.data) << threads << " thread(s)";
  }
  auto none = FindUsedBlobs(*repository, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->trees.empty() && none->data.empty());
}

TEST_F(UsedBlobsTest, AnUnreadableTreeFailsNamingSnapshotAndDirectory) {
  auto repository = Init();
  Tree leaf;
  leaf.nodes = {File("f", {Data(*repository, nullptr)})};
  Id missing = repository->BlobId(AsBytes("a tree that was never stored"));
  Tree middle;
  middle.nodes = {Directory("gone", missing),
                  Directory("leaf", SaveTree(*repository, leaf, nullptr))};
  Tree root;
  root.nodes = {Directory("middle", SaveTree(*repository, middle, nullptr))};
  std::vector<SnapshotEntry> snapshots = {Entry(*repository, SaveTree(*repository, root, nullptr))};
  ASSERT_TRUE(repository->Flush().ok());

  auto used = FindUsedBlobs(*repository, snapshots);
  ASSERT_FALSE(used.ok());
  EXPECT_EQ(used.status().code(), StatusCode::kCorruption);
  const std::string& message = used.status().message();
  EXPECT_NE(message.find("snapshot " + snapshots[0].id.Short()), std::string::npos) << message;
  EXPECT_NE(message.find("'/middle/gone'"), std::string::npos) << message;
  EXPECT_NE(message.find(missing.Short()), std::string::npos) << message;
}

TEST_F(UsedBlobsTest, TreesNestedTooDeepAreRefused) {
  auto repository = Init();
  // A chain one level deeper than a snapshot may hold; the deepest tree exists.
  Tree bottom;
  Id below = SaveTree(*repository, bottom, nullptr);
  for (size_t depth = kMaxTreeDepth; depth >= 1; --depth) {
    Tree tree;
    tree.nodes = {Directory("d", below)};
    below = SaveTree(*repository, tree, nullptr);
  }
  std::vector<SnapshotEntry> snapshots = {Entry(*repository, below)};
  ASSERT_TRUE(repository->Flush().ok());
  auto used = FindUsedBlobs(*repository, snapshots);
  ASSERT_FALSE(used.ok());
  EXPECT_NE(used.status().message().find("nested deeper"), std::string::npos)
      << used.status().ToString();
}

}  // namespace
}  // namespace ferry
