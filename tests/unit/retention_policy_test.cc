// Retention policy evaluation (repo/retention_policy.h) over generated
// histories: calendar buckets in local time, ISO week 53, leap days, DST in
// both directions, equal timestamps, several hosts and path sets.
#include "repo/retention_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <random>

namespace ferry {
namespace {

// "Now" for histories that lie in the past: late in 2099.
constexpr int64_t kNow = 4102000000ll * 1000000000;

class RetentionPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override { SetZone("UTC"); }
  void TearDown() override {
    if (saved_.empty())
      unsetenv("TZ");
    else
      setenv("TZ", saved_.c_str(), 1);
    tzset();
  }
  void SetZone(const char* zone) {
    if (const char* old = std::getenv("TZ"); old && saved_.empty()) saved_ = old;
    setenv("TZ", zone, 1);
    tzset();
  }
  // Local time "YYYY-MM-DD HH:MM" in the current zone, to nanoseconds.
  static int64_t At(const std::string& text, int is_dst = -1) {
    std::tm local{};
    sscanf(text.c_str(), "%d-%d-%d %d:%d", &local.tm_year, &local.tm_mon, &local.tm_mday,
           &local.tm_hour, &local.tm_min);
    local.tm_year -= 1900;
    local.tm_mon -= 1;
    local.tm_isdst = is_dst;
    return static_cast<int64_t>(std::mktime(&local)) * 1000000000;
  }
  SnapshotEntry Make(int64_t time_ns, const std::string& host = "h",
                     std::vector<std::string> paths = {"/data"},
                     std::vector<std::string> tags = {}) {
    SnapshotEntry entry;
    entry.id.bytes[0] = static_cast<uint8_t>(next_id_ >> 8);
    entry.id.bytes[1] = static_cast<uint8_t>(next_id_++);
    entry.snapshot.time_ns = time_ns;
    entry.snapshot.hostname = host;
    entry.snapshot.paths = std::move(paths);
    entry.snapshot.tags = std::move(tags);
    return entry;
  }
  // The times of the kept snapshots of the only group, newest first.
  std::vector<int64_t> Kept(const std::vector<SnapshotEntry>& snapshots,
                            const RetentionPolicy& policy) {
    auto groups = ApplyRetentionPolicy(snapshots, policy, {}, kNow);
    EXPECT_EQ(groups.size(), 1u);
    std::vector<int64_t> kept;
    for (const RetentionDecision& decision : groups.at(0).decisions)
      if (decision.keep) kept.push_back(decision.snapshot.snapshot.time_ns);
    return kept;
  }

  std::string saved_;
  int next_id_ = 1;
};

TEST_F(RetentionPolicyTest, KeepLastKeepsTheNewestAndSaysWhy) {
  std::vector<SnapshotEntry> history;
  for (int day = 1; day <= 10; ++day)
    history.push_back(Make(At("2026-11-" + std::to_string(day) + " 12:00")));
  RetentionPolicy policy;
  policy.keep_last = 3;
  auto groups = ApplyRetentionPolicy(history, policy, {}, kNow);
  ASSERT_EQ(groups.size(), 1u);
  const auto& decisions = groups[0].decisions;
  ASSERT_EQ(decisions.size(), 10u);
  for (size_t i = 0; i < decisions.size(); ++i) {
    EXPECT_EQ(decisions[i].keep, i < 3) << i;
    if (i < 3) {
      EXPECT_EQ(decisions[i].reasons, std::vector<std::string>{"last snapshot"});
    }
  }
  EXPECT_EQ(decisions[0].snapshot.snapshot.time_ns, At("2026-11-10 12:00"));
  policy.keep_last = -1;
  EXPECT_EQ(Kept(history, policy).size(), 10u);
}

TEST_F(RetentionPolicyTest, KeepDailyKeepsTheNewestOfEachDay) {
  std::vector<SnapshotEntry> history = {Make(At("2026-11-01 08:00")), Make(At("2026-11-01 20:00")),
                                        Make(At("2026-11-02 09:00")), Make(At("2026-11-02 23:59")),
                                        Make(At("2026-11-04 00:00")), Make(At("2026-11-04 06:00"))};
  RetentionPolicy policy;
  policy.keep[static_cast<int>(Bucket::kDay)] = 2;
  EXPECT_EQ(Kept(history, policy),
            (std::vector<int64_t>{At("2026-11-04 06:00"), At("2026-11-02 23:59")}));
}

TEST_F(RetentionPolicyTest, IsoWeek53BelongsToTheYearItStartedIn) {
  // 2020 has an ISO week 53 (Mon 28 Dec 2020 – Sun 3 Jan 2021).
  std::vector<SnapshotEntry> history = {Make(At("2020-12-28 10:00")), Make(At("2021-01-03 10:00")),
                                        Make(At("2021-01-04 10:00"))};
  RetentionPolicy policy;
  policy.keep[static_cast<int>(Bucket::kWeek)] = 2;
  EXPECT_EQ(Kept(history, policy),
            (std::vector<int64_t>{At("2021-01-04 10:00"), At("2021-01-03 10:00")}));
  RetentionPolicy yearly;
  yearly.keep[static_cast<int>(Bucket::kYear)] = 5;  // calendar years, not ISO years
  EXPECT_EQ(Kept(history, yearly),
            (std::vector<int64_t>{At("2021-01-04 10:00"), At("2020-12-28 10:00")}));
}

TEST_F(RetentionPolicyTest, LeapDaysAreDaysOfTheirMonth) {
  std::vector<SnapshotEntry> history = {Make(At("2024-02-01 10:00")), Make(At("2024-02-29 10:00")),
                                        Make(At("2024-03-01 10:00"))};
  RetentionPolicy policy;
  policy.keep[static_cast<int>(Bucket::kMonth)] = 2;
  EXPECT_EQ(Kept(history, policy),
            (std::vector<int64_t>{At("2024-03-01 10:00"), At("2024-02-29 10:00")}));
}

TEST_F(RetentionPolicyTest, HoursFollowLocalTimeAcrossDaylightSavingChanges) {
  SetZone("Europe/Berlin");
  // Autumn: 02:00-03:00 happens twice (CEST, then CET): one local hour, one bucket.
  int64_t first = At("2026-10-25 02:30", 1);
  int64_t second = At("2026-10-25 02:30", 0);
  ASSERT_EQ(second - first, 3600ll * 1000000000);
  RetentionPolicy hourly;
  hourly.keep[static_cast<int>(Bucket::kHour)] = 10;
  EXPECT_EQ(Kept({Make(first), Make(second)}, hourly), std::vector<int64_t>{second});
  // Spring: 01:59 CET and 03:01 CEST are two minutes apart, in two hours and one day.
  int64_t before = At("2026-03-29 01:59");
  int64_t after = At("2026-03-29 03:01");
  ASSERT_EQ(after - before, 2ll * 60 * 1000000000);
  EXPECT_EQ(Kept({Make(before), Make(after)}, hourly), (std::vector<int64_t>{after, before}));
  RetentionPolicy daily;
  daily.keep[static_cast<int>(Bucket::kDay)] = 10;
  EXPECT_EQ(Kept({Make(before), Make(after)}, daily), std::vector<int64_t>{after});
}

TEST_F(RetentionPolicyTest, KeepWithinCountsFromTheNewestSnapshotNotFromNow) {
  std::vector<SnapshotEntry> history = {Make(At("2001-01-01 00:00")), Make(At("2001-01-05 00:01")),
                                        Make(At("2001-01-10 00:00"))};
  RetentionPolicy policy;
  policy.keep_within = *ParseRetentionDuration("5d");
  auto groups = ApplyRetentionPolicy(history, policy, {}, kNow);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_TRUE(groups[0].decisions[0].keep);
  EXPECT_TRUE(groups[0].decisions[1].keep);
  EXPECT_FALSE(groups[0].decisions[2].keep);
  EXPECT_EQ(groups[0].decisions[1].reasons, std::vector<std::string>{"within 5d"});
  // Later than the cutoff, not at it (restic's rule).
  EXPECT_EQ(Kept({Make(At("2001-01-05 00:00")), Make(At("2001-01-10 00:00"))}, policy),
            std::vector<int64_t>{At("2001-01-10 00:00")});

  RetentionPolicy daily_within;
  daily_within.keep_within_bucket[static_cast<int>(Bucket::kDay)] = *ParseRetentionDuration("2d");
  std::vector<SnapshotEntry> busy = {Make(At("2001-01-10 08:00")), Make(At("2001-01-10 20:00")),
                                     Make(At("2001-01-09 12:00")), Make(At("2001-01-07 12:00"))};
  EXPECT_EQ(Kept(busy, daily_within),
            (std::vector<int64_t>{At("2001-01-10 20:00"), At("2001-01-09 12:00")}));
}

// A snapshot from a clock that ran ahead does not make the real ones look old:
// "newest" is the newest one not in the future, as restic decides.
TEST_F(RetentionPolicyTest, KeepWithinIgnoresSnapshotsFromTheFuture) {
  int64_t now = At("2026-12-07 12:00");
  std::vector<SnapshotEntry> history = {Make(At("2026-10-01 12:00")), Make(At("2026-11-20 12:00")),
                                        Make(At("2026-12-01 12:00")), Make(At("2030-01-01 00:00"))};
  RetentionPolicy policy;
  policy.keep_within = *ParseRetentionDuration("14d");
  auto groups = ApplyRetentionPolicy(history, policy, {}, now);
  std::vector<int64_t> kept;
  for (const RetentionDecision& decision : groups.at(0).decisions)
    if (decision.keep) kept.push_back(decision.snapshot.snapshot.time_ns);
  // Within 14 days of 1 December, and the future one (later than the cutoff too).
  EXPECT_EQ(kept, (std::vector<int64_t>{At("2030-01-01 00:00"), At("2026-12-01 12:00"),
                                        At("2026-11-20 12:00")}));
  // Only snapshots from the future: none is older than a newest, all are kept.
  auto future = ApplyRetentionPolicy({Make(At("2030-01-01 00:00")), Make(At("2029-01-01 00:00"))},
                                     policy, {}, now);
  for (const RetentionDecision& decision : future.at(0).decisions) EXPECT_TRUE(decision.keep);
}

// Years, months and days are counted back on the local calendar, the same
// wall-clock time; hours are hours.
TEST_F(RetentionPolicyTest, KeepWithinCountsCalendarMonthsAndDaysInLocalTime) {
  SetZone("Europe/Berlin");
  // One day back across the autumn change is 25 hours.
  EXPECT_EQ(RetentionCutoff(At("2026-10-25 12:00"), *ParseRetentionDuration("1d")),
            At("2026-10-24 12:00"));
  EXPECT_EQ(At("2026-10-25 12:00") - At("2026-10-24 12:00"), 25 * 3600ll * 1000000000);
  // A month back from 31 March is "31 February", that is 3 March (2026 is no leap year).
  EXPECT_EQ(RetentionCutoff(At("2026-03-31 12:00"), *ParseRetentionDuration("1m")),
            At("2026-03-03 12:00"));
  // A year back from 29 February 2024 is 1 March 2023.
  EXPECT_EQ(RetentionCutoff(At("2024-02-29 08:00"), *ParseRetentionDuration("1y")),
            At("2023-03-01 08:00"));
  // Hours are elapsed hours: 3h back from 03:30 CET on the autumn day is 01:30 CEST.
  EXPECT_EQ(RetentionCutoff(At("2026-10-25 03:30"), *ParseRetentionDuration("3h")),
            At("2026-10-25 03:30") - 3 * 3600ll * 1000000000);
  EXPECT_EQ(RetentionCutoff(At("2026-10-25 03:30"), *ParseRetentionDuration("1y2m3d4h")),
            At("2025-08-22 03:30") - 4 * 3600ll * 1000000000);
  // Before what int64 nanoseconds reach (1677): everything is within.
  EXPECT_EQ(RetentionCutoff(At("2026-10-25 03:30"), *ParseRetentionDuration("290y")),
            At("1736-10-25 03:30"));
  EXPECT_EQ(RetentionCutoff(At("1700-01-01 00:00"), *ParseRetentionDuration("100y")),
            std::numeric_limits<int64_t>::min());
}

TEST_F(RetentionPolicyTest, TaggedSnapshotsAreKept) {
  std::vector<SnapshotEntry> history = {Make(At("2026-01-01 00:00"), "h", {"/data"}, {"release"}),
                                        Make(At("2026-01-02 00:00"), "h", {"/data"}, {"nightly"}),
                                        Make(At("2026-01-03 00:00"))};
  RetentionPolicy policy;
  policy.keep_tags = {"release"};
  auto groups = ApplyRetentionPolicy(history, policy, {}, kNow);
  ASSERT_EQ(groups.size(), 1u);
  const auto& decisions = groups[0].decisions;
  EXPECT_FALSE(decisions[0].keep);
  EXPECT_FALSE(decisions[1].keep);
  EXPECT_TRUE(decisions[2].keep);
  EXPECT_EQ(decisions[2].reasons, std::vector<std::string>{"tag release"});
}

TEST_F(RetentionPolicyTest, EachHostAndPathSetIsItsOwnGroup) {
  std::vector<SnapshotEntry> history = {
      Make(At("2026-01-01 00:00"), "a", {"/x"}), Make(At("2026-01-02 00:00"), "a", {"/x"}),
      Make(At("2026-01-01 00:00"), "b", {"/x"}), Make(At("2026-01-03 00:00"), "a", {"/y", "/z"}),
      Make(At("2026-01-04 00:00"), "a", {"/z", "/y"})};  // the same path set, in another order
  RetentionPolicy policy;
  policy.keep_last = 1;
  auto groups = ApplyRetentionPolicy(history, policy, GroupBy{}, kNow);
  ASSERT_EQ(groups.size(), 3u);
  size_t kept = 0;
  for (const RetentionGroup& group : groups) {
    EXPECT_TRUE(group.decisions.front().keep);
    for (const auto& decision : group.decisions) kept += decision.keep;
  }
  EXPECT_EQ(kept, 3u);
  auto one = ApplyRetentionPolicy(history, policy, *ParseGroupBy(""), kNow);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].decisions.front().snapshot.snapshot.time_ns, At("2026-01-04 00:00"));
}

TEST_F(RetentionPolicyTest, EqualTimesAreDecidedTheSameWhateverTheOrder) {
  std::vector<SnapshotEntry> history;
  for (int i = 0; i < 6; ++i) history.push_back(Make(At("2026-05-05 05:05")));
  RetentionPolicy policy;
  policy.keep_last = 2;
  auto reference = ApplyRetentionPolicy(history, policy, {}, kNow);
  std::mt19937 random(7);
  for (int round = 0; round < 20; ++round) {
    std::shuffle(history.begin(), history.end(), random);
    auto shuffled = ApplyRetentionPolicy(history, policy, {}, kNow);
    ASSERT_EQ(shuffled[0].decisions.size(), reference[0].decisions.size());
    for (size_t i = 0; i < shuffled[0].decisions.size(); ++i) {
      EXPECT_EQ(shuffled[0].decisions[i].snapshot.id, reference[0].decisions[i].snapshot.id);
      EXPECT_EQ(shuffled[0].decisions[i].keep, reference[0].decisions[i].keep);
    }
  }
}

TEST_F(RetentionPolicyTest, RulesCombineAndEveryReasonIsGiven) {
  std::vector<SnapshotEntry> history;
  for (int day = 1; day <= 28; ++day)  // February 2026, one a day
    history.push_back(Make(At("2026-02-" + std::to_string(day) + " 12:00")));
  RetentionPolicy policy;
  policy.keep_last = 1;
  policy.keep[static_cast<int>(Bucket::kDay)] = 3;
  policy.keep[static_cast<int>(Bucket::kWeek)] = 2;
  policy.keep[static_cast<int>(Bucket::kMonth)] = 1;
  auto groups = ApplyRetentionPolicy(history, policy, {}, kNow);
  const auto& newest = groups[0].decisions.front();
  EXPECT_EQ(newest.reasons, (std::vector<std::string>{"last snapshot", "daily snapshot",
                                                      "weekly snapshot", "monthly snapshot"}));
  // Sat 28, Fri 27, Thu 26 daily; Sat 28 (W09) and Sun 22 (W08) weekly.
  EXPECT_EQ(Kept(history, policy),
            (std::vector<int64_t>{At("2026-02-28 12:00"), At("2026-02-27 12:00"),
                                  At("2026-02-26 12:00"), At("2026-02-22 12:00")}));
}

TEST_F(RetentionPolicyTest, DurationsParseAsResticWritesThem) {
  EXPECT_EQ(*ParseRetentionDuration("3h"), (RetentionDuration{0, 0, 0, 3}));
  EXPECT_EQ(*ParseRetentionDuration("10d"), (RetentionDuration{0, 0, 10, 0}));
  EXPECT_EQ(*ParseRetentionDuration("2y5m7d3h"), (RetentionDuration{2, 5, 7, 3}));
  EXPECT_EQ(*ParseRetentionDuration("3h2y"), (RetentionDuration{2, 0, 0, 3}));
  EXPECT_EQ(ParseRetentionDuration("2y5m7d3h")->ToString(), "2y5m7d3h");
  EXPECT_EQ(ParseRetentionDuration("0d")->ToString(), "0h");
  EXPECT_TRUE(ParseRetentionDuration("0d")->zero());
  for (const char* bad : {"", "d", "10", "10x", "-1d", "1.5d", "9999999d", "1d2d"}) {
    auto parsed = ParseRetentionDuration(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.status().message().find("2y5m7d3h"), std::string::npos);
    }
  }
  for (const char* long_ago : {"293y", "999999m", "200y100000d"}) {
    auto parsed = ParseRetentionDuration(long_ago);
    EXPECT_FALSE(parsed.ok()) << long_ago;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.status().message().find("292 years"), std::string::npos);
    }
  }
  EXPECT_FALSE(ParseGroupBy("host,color").ok());
  auto group_by = ParseGroupBy("tags");
  ASSERT_TRUE(group_by.ok());
  EXPECT_TRUE(group_by->tags && !group_by->host && !group_by->paths);
}

}  // namespace
}  // namespace ferry
