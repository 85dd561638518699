// TreePrefetcher: the same walk as tree by tree, with a few reads per level
// instead of one per directory; a damaged tree is still reported where it is.
#include "repo/tree_prefetcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "counting_backend.h"
#include "repo/tree_walker.h"
#include "repository_fixture.h"

namespace ferry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class TreePrefetcherTest : public RepositoryFixture {
 protected:
  // /d0…/d4, each holding e0…e5, each holding two empty files: 36 trees.
  void SetUp() override {
    auto repository = Init();
    ASSERT_TRUE(repository);
    Tree root;
    for (int i = 0; i < 5; ++i) {
      Tree middle;
      for (int j = 0; j < 6; ++j) {
        Tree leaf;
        for (int k = 0; k < 2; ++k) {
          Node file;
          file.name = "f" + std::to_string(i) + std::to_string(j) + std::to_string(k);
          file.type = NodeType::kFile;
          leaf.nodes.push_back(file);
        }
        middle.nodes.push_back(Directory("e" + std::to_string(j), Save(*repository, leaf)));
      }
      root.nodes.push_back(Directory("d" + std::to_string(i), Save(*repository, middle)));
    }
    root_ = Save(*repository, root);
    ASSERT_TRUE(repository->Flush().ok());

    auto counting = std::make_unique<CountingBackend>(std::make_unique<LocalBackend>(Location()));
    counting_ = counting.get();
    auto opened = Repository::Open(std::move(counting), "pw");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    repository_ = std::move(*opened);
    ASSERT_TRUE(repository_->LoadIndex().ok());
  }

  static Node Directory(const std::string& name, const Id& subtree) {
    Node node;
    node.name = name;
    node.type = NodeType::kDirectory;
    node.subtree = subtree;
    return node;
  }
  Id Save(Repository& repository, const Tree& tree) {
    auto id = repository.SaveTree(tree);
    EXPECT_TRUE(id.ok());
    trees_[tree.nodes.front().name] = *id;
    return *id;
  }

  struct Walk {
    std::vector<std::string> paths;
    std::vector<std::string> errors;
  };
  Walk WalkWith(const TreeLoader& load) {
    Walk walk;
    TreeWalkCallbacks callbacks;
    callbacks.node = [&](const std::string& path, const Node&) {
      walk.paths.push_back(path);
      return true;
    };
    callbacks.tree_error = [&](const std::string& path, const Id&, const Status& status) {
      walk.errors.push_back(path + ": " + status.message());
    };
    EXPECT_TRUE(WalkTrees(load, root_, callbacks).ok());
    return walk;
  }

  Id root_;
  std::map<std::string, Id> trees_;  // by the name of their first entry
  std::unique_ptr<Repository> repository_;
  CountingBackend* counting_ = nullptr;
};

TEST_F(TreePrefetcherTest, TheSameWalkWithAReadPerLevelInsteadOfPerDirectory) {
  Walk plain = WalkWith([&](const Id& id) { return repository_->LoadTree(id); });
  EXPECT_EQ(plain.paths.size(), 5u + 30 + 60);
  EXPECT_EQ(counting_->tree_reads(), 36u);

  counting_->ResetCounts();
  TreePrefetcher prefetcher(*repository_, kMaxTreeDepth);
  Walk ahead = WalkWith([&](const Id& id) { return prefetcher.Load(id); });
  EXPECT_EQ(ahead.paths, plain.paths);
  EXPECT_TRUE(ahead.errors.empty());
  // The root, then its 5 subdirectories' trees, then their 30, each level
  // in one read of the one tree pack.
  EXPECT_EQ(counting_->tree_reads(), 3u);

  // One level ahead (restore with --include): the root, its subdirectories'
  // trees, then each subdirectory's subdirectories.
  counting_->ResetCounts();
  TreePrefetcher one_level(*repository_, 1);
  Walk near = WalkWith([&](const Id& id) { return one_level.Load(id); });
  EXPECT_EQ(near.paths, plain.paths);
  EXPECT_EQ(counting_->tree_reads(), 1u + 1 + 5);
}

TEST_F(TreePrefetcherTest, ADamagedTreeIsReportedWhereItIsAndTheRestIsWalked) {
  auto location = repository_->FindBlob(BlobType::kTree, trees_["f230"]);  // /d2/e3
  ASSERT_TRUE(location);
  FlipInPlace(ObjectKind::kData, location->pack_id,
              location->entry.offset + location->entry.stored_length / 2);
  TreePrefetcher prefetcher(*repository_, kMaxTreeDepth);
  Walk walk = WalkWith([&](const Id& id) { return prefetcher.Load(id); });
  ASSERT_EQ(walk.errors.size(), 1u);
  EXPECT_THAT(walk.errors[0], HasSubstr("/d2/e3: "));
  EXPECT_THAT(walk.errors[0], HasSubstr(trees_["f230"].Hex()));
  EXPECT_EQ(walk.paths.size(), 5u + 30 + 60 - 2);
}

}  // namespace
}  // namespace ferry
