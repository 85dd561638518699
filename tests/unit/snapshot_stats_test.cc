#include "engine/snapshot_stats.h"

#include <gtest/gtest.h>

#include "repository_fixture.h"
#include "tree_builder.h"

namespace ferry {
namespace {

class SnapshotStatsTest : public RepositoryFixture {
 protected:
  void SetUp() override {
    repository_ = Init();
    // "dup" twice (same contents), a hard link pair (inode 9, two links).
    first_ = BuildTestTree(*repository_, {{"/a/one", {"0123456789"}},
                                          {"/a/dup1", {"dup"}},
                                          {"/a/dup2", {"dup"}},
                                          {"/h1", {"linked", NodeType::kFile, 0644, 1, 9, 2}},
                                          {"/h2", {"linked", NodeType::kFile, 0644, 1, 9, 2}}});
    second_ = BuildTestTree(*repository_, {{"/a/one", {"0123456789"}}, {"/b", {"new!"}}});
    ASSERT_TRUE(repository_->Flush().ok());
  }
  SnapshotStats Collect(StatsMode mode, std::vector<Id> roots) {
    StatsCollector collector(*repository_, mode);
    for (const Id& root : roots) EXPECT_TRUE(collector.Add(root).ok());
    auto stats = collector.Finish();
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    return stats.ok() ? *stats : SnapshotStats{};
  }
  std::unique_ptr<Repository> repository_;
  Id first_, second_;
};

TEST_F(SnapshotStatsTest, RestoreSizeCountsEveryEntryAndHardLinksOnce) {
  SnapshotStats stats = Collect(StatsMode::kRestoreSize, {first_});
  EXPECT_EQ(stats.snapshots, 1u);
  EXPECT_EQ(stats.total_file_count, 6u);  // a, one, dup1, dup2, h1, h2
  EXPECT_EQ(stats.total_size, 10u + 3 + 3 + 6);
  stats = Collect(StatsMode::kRestoreSize, {first_, second_});
  EXPECT_EQ(stats.total_size, 22u + 10 + 4);  // restore sizes add up
}

TEST_F(SnapshotStatsTest, FilesByContentsCountsEachContentOnce) {
  SnapshotStats stats = Collect(StatsMode::kFilesByContents, {first_, second_});
  EXPECT_EQ(stats.total_file_count, 4u);  // 0123456789, dup, linked, new!
  EXPECT_EQ(stats.total_size, 10u + 3 + 6 + 4);
}

TEST_F(SnapshotStatsTest, RawDataCountsDistinctStoredBlobs) {
  SnapshotStats stats = Collect(StatsMode::kRawData, {first_, second_});
  // Data: "01234", "56789", "dup", "linke", "d", "new!"; trees: two roots, /a twice
  // (their contents differ: two trees).
  EXPECT_EQ(stats.total_blob_count, 6u + 4);
  EXPECT_GT(stats.total_size, 0u);
  EXPECT_GT(stats.total_uncompressed_size, 0u);
  EXPECT_GT(stats.compression_ratio, 0);
}

TEST_F(SnapshotStatsTest, ModeNames) {
  EXPECT_EQ(*ParseStatsMode("raw-data"), StatsMode::kRawData);
  EXPECT_FALSE(ParseStatsMode("blobs-per-file").ok());
}

}  // namespace
}  // namespace ferry
