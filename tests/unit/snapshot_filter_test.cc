#include "repo/snapshot_filter.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

SnapshotEntry Make(uint8_t id, int64_t time, const std::string& host,
                   std::vector<std::string> paths, std::vector<std::string> tags = {}) {
  SnapshotEntry entry;
  entry.id.bytes[0] = id;
  entry.snapshot.time_ns = time;
  entry.snapshot.hostname = host;
  entry.snapshot.paths = std::move(paths);
  entry.snapshot.tags = std::move(tags);
  return entry;
}

std::vector<uint8_t> Ids(const std::vector<SnapshotEntry>& entries) {
  std::vector<uint8_t> ids;
  for (const SnapshotEntry& entry : entries) ids.push_back(entry.id.bytes[0]);
  return ids;
}

const std::vector<SnapshotEntry> kSnapshots = {
    Make(1, 10, "a", {"/srv"}, {"daily"}),
    Make(2, 20, "b", {"/srv"}, {"daily", "db"}),
    Make(3, 30, "a", {"/srv", "/etc"}, {"db"}),
    Make(4, 40, "a", {"/srv"}),
};

TEST(SnapshotFilterTest, EmptyFilterKeepsEverything) {
  EXPECT_EQ(Ids(FilterSnapshots(kSnapshots, {})), (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST(SnapshotFilterTest, HostsAreAlternatives) {
  SnapshotFilter filter;
  filter.hosts = {"b", "c"};
  EXPECT_EQ(Ids(FilterSnapshots(kSnapshots, filter)), (std::vector<uint8_t>{2}));
}

TEST(SnapshotFilterTest, TagListsNeedEveryTagOfOneList) {
  SnapshotFilter filter;
  filter.tags = {"daily,db"};
  EXPECT_EQ(Ids(FilterSnapshots(kSnapshots, filter)), (std::vector<uint8_t>{2}));
  filter.tags = {"daily", "db"};
  EXPECT_EQ(Ids(FilterSnapshots(kSnapshots, filter)), (std::vector<uint8_t>{1, 2, 3}));
}

TEST(SnapshotFilterTest, PathsMustAllBePresent) {
  SnapshotFilter filter;
  filter.paths = {"/srv", "/etc"};
  EXPECT_EQ(Ids(FilterSnapshots(kSnapshots, filter)), (std::vector<uint8_t>{3}));
  filter.paths = {"/srv"};
  EXPECT_EQ(Ids(FilterSnapshots(kSnapshots, filter)), (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST(SnapshotFilterTest, LatestPerHostAndPaths) {
  EXPECT_EQ(Ids(LatestSnapshots(kSnapshots, 1)), (std::vector<uint8_t>{2, 3, 4}));
  EXPECT_EQ(Ids(LatestSnapshots(kSnapshots, 2)), (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST(SnapshotFilterTest, GroupsByWhatIsChosen) {
  auto groups = GroupSnapshots(kSnapshots, GroupBy{true, false, false});
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].host, "a");
  EXPECT_EQ(Ids(groups[0].entries), (std::vector<uint8_t>{1, 3, 4}));
  EXPECT_EQ(Ids(groups[1].entries), (std::vector<uint8_t>{2}));
  groups = GroupSnapshots(kSnapshots, GroupBy{false, true, true});
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[0].host, "");
  EXPECT_EQ(groups[0].paths, (std::vector<std::string>{"/etc", "/srv"}));
}

TEST(SnapshotFilterTest, LatestHonoursTheFilterAndIdsDoNot) {
  SnapshotFilter filter;
  filter.hosts = {"b"};
  auto latest = SelectSnapshotFrom(kSnapshots, "latest", filter);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->id.bytes[0], 2);
  auto by_id = SelectSnapshotFrom(kSnapshots, kSnapshots[3].id.Hex().substr(0, 8), filter);
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->id.bytes[0], 4);
  filter.hosts = {"nobody"};
  auto none = SelectSnapshotFrom(kSnapshots, "latest", filter);
  EXPECT_TRUE(none.status().IsNotFound());
  EXPECT_NE(none.status().message().find("host nobody"), std::string::npos);
  EXPECT_TRUE(SelectSnapshotFrom(kSnapshots, "ff", {}).status().IsNotFound());
  // IDs 01…, 02…: "0" names several.
  EXPECT_FALSE(SelectSnapshotFrom(kSnapshots, "0", {}).ok());
}

}  // namespace
}  // namespace ferry
