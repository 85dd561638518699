#include "engine/tree_diff.h"

#include <gtest/gtest.h>

#include "repository_fixture.h"
#include "tree_builder.h"

namespace ferry {
namespace {

class TreeDiffTest : public RepositoryFixture {
 protected:
  std::vector<std::string> Diff(const TestTree& before, const TestTree& after,
                                bool metadata = false, TreeDiffStats* stats = nullptr) {
    if (!repository_) repository_ = Init();
    Repository* repository = repository_.get();
    Id old_root = BuildTestTree(*repository, before);
    Id new_root = BuildTestTree(*repository, after);
    EXPECT_TRUE(repository->Flush().ok());
    std::vector<std::string> lines;
    TreeDiffOptions options;
    options.metadata = metadata;
    auto result = DiffTrees(*repository, old_root, new_root, options, [&](const TreeChange& c) {
      lines.push_back(c.modifier + " " + c.path);
    });
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (stats && result.ok()) *stats = *result;
    return lines;
  }
  std::unique_ptr<Repository> repository_;  // one per test: Diff may run more than once
};

TEST_F(TreeDiffTest, EqualTreesHaveNoChanges) {
  TestTree tree = {{"/a/x", {"one"}}, {"/b", {"two"}}};
  TreeDiffStats stats;
  EXPECT_TRUE(Diff(tree, tree, true, &stats).empty());
  EXPECT_EQ(stats.added.data_blobs + stats.removed.data_blobs, 0u);
}

TEST_F(TreeDiffTest, AddedRemovedAndModifiedInPathOrder) {
  TestTree before = {{"/a/keep", {"same"}},
                     {"/a/gone", {"old file"}},
                     {"/a/change", {"version 1"}},
                     {"/old/deep/f", {"x"}}};
  TestTree after = {{"/a/keep", {"same"}},
                    {"/a/new", {"new file"}},
                    {"/a/change", {"version 2", NodeType::kFile, 0644, 5}},
                    {"/fresh/f", {"y"}}};
  TreeDiffStats stats;
  auto lines = Diff(before, after, false, &stats);
  EXPECT_EQ(lines,
            (std::vector<std::string>{"M /a/change", "- /a/gone", "+ /a/new", "+ /fresh/",
                                      "+ /fresh/f", "- /old/", "- /old/deep/", "- /old/deep/f"}));
  EXPECT_EQ(stats.changed_files, 1u);
  EXPECT_EQ(stats.added.files, 2u);
  EXPECT_EQ(stats.added.dirs, 1u);
  EXPECT_EQ(stats.removed.files, 2u);
  EXPECT_EQ(stats.removed.dirs, 2u);
  // "version 2" is two blobs of 5 bytes: "versi" is shared, "on 2" is new.
  EXPECT_GE(stats.added.data_blobs, 3u);  // "on 2", "new f", "ile", "y"
  EXPECT_GT(stats.added.bytes, 0u);
}

TEST_F(TreeDiffTest, ContentChangeWithEqualMetadataIsFlagged) {
  TestTree before = {{"/f", {"aaaa"}}};
  TestTree after = {{"/f", {"bbbb"}}};
  EXPECT_EQ(Diff(before, after), (std::vector<std::string>{"M? /f"}));
}

TEST_F(TreeDiffTest, TypeChangeAndMetadata) {
  TestTree before = {{"/t", {"file"}}, {"/m", {"same", NodeType::kFile, 0644}}};
  TestTree after = {{"/t/inside", {"file"}}, {"/m", {"same", NodeType::kFile, 0600}}};
  // As restic: a node whose type changed is one line, what is below it is not listed.
  EXPECT_EQ(Diff(before, after), (std::vector<std::string>{"T /t/"}));
  EXPECT_EQ(Diff(before, after, /*metadata=*/true), (std::vector<std::string>{"U /m", "TU /t/"}));
}

TEST_F(TreeDiffTest, MissingTreeFailsNamingTheDirectory) {
  auto repository = Init();
  Id root = BuildTestTree(*repository, {{"/a/b", {"x"}}});
  ASSERT_TRUE(repository->Flush().ok());
  Tree fake;
  Node dir;
  dir.name = "a";
  dir.type = NodeType::kDirectory;
  dir.subtree.bytes[0] = 7;  // no such tree
  fake.nodes.push_back(dir);
  auto other = repository->SaveTree(fake);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(repository->Flush().ok());
  auto result = DiffTrees(*repository, root, *other, {}, [](const TreeChange&) {});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("/a"), std::string::npos) << result.status().message();
}

}  // namespace
}  // namespace ferry
