// RetentionPolicy: which snapshots `ferry forget` keeps, by restic's rules
// (the reference users know), evaluated per group of snapshots (by default
// host and paths) in local time:
//
//   keep_last N              the N newest
//   keep_hourly … yearly N   the newest of each of the N newest hours, days,
//                            ISO weeks, months, years that hold a snapshot
//   keep_within D            every snapshot within D of the group's newest
//   keep_within_hourly … D   the newest of each hour, day, … within D of it
//   keep_tags                every snapshot with one of these tags
//
// N = -1 means no limit. A snapshot is kept if any rule keeps it, and every
// rule that does is reported, so that --dry-run explains each decision.
// Snapshots awaiting an offline seed count like any other.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "repo/repository.h"

namespace ferry {

enum class Bucket { kHour, kDay, kWeek, kMonth, kYear };
constexpr int kBucketCount = 5;

struct RetentionPolicy {
  int keep_last = 0;
  int keep[kBucketCount] = {0, 0, 0, 0, 0};  // by Bucket
  int64_t keep_within_ns = 0;
  int64_t keep_within_bucket_ns[kBucketCount] = {0, 0, 0, 0, 0};
  std::vector<std::string> keep_tags;

  bool empty() const;
};

// A policy as people write it, before it is checked: counts, and durations as
// text ("10d"). What `forget`'s --keep-* flags hold, and what a vault stores as
// its backup policy (docs/protocol.md, "Policy"), so that both are checked by
// the same rules and shown back as they were written.
struct RetentionRules {
  int keep_last = 0;
  int keep[kBucketCount] = {0, 0, 0, 0, 0};  // by Bucket
  std::string keep_within;
  std::string keep_within_bucket[kBucketCount];
  std::vector<std::string> keep_tags;
};

// "hourly", "daily", "weekly", "monthly", "yearly", by Bucket.
extern const char* const kBucketNames[kBucketCount];

// How CompileRetentionRules names a rule in its errors: as forget's flag
// ("--keep-within-daily") or as the vault's JSON field ("keep_within_daily").
enum class RuleNames { kFlags, kJson };
std::string RuleName(const std::string& rule, RuleNames names);  // rule: "keep-within-daily"

// Checks `rules` (counts are -1 or more, durations parse) and turns them into
// a policy; InvalidArgument starting with the rule at fault otherwise.
Result<RetentionPolicy> CompileRetentionRules(const RetentionRules& rules, RuleNames names);

// Which snapshots form one group: those alike in what is chosen here.
struct GroupBy {
  bool host = true;
  bool paths = true;
  bool tags = false;
};

struct RetentionDecision {
  SnapshotEntry snapshot;
  bool keep = false;
  std::vector<std::string> reasons;  // "last snapshot", "daily snapshot", "within 10d", "tag t"
};

struct RetentionGroup {
  std::string host;                          // empty unless grouped by host
  std::vector<std::string> paths;            // empty unless grouped by paths
  std::vector<std::string> tags;             // empty unless grouped by tags
  std::vector<RetentionDecision> decisions;  // newest first
};

// Groups `snapshots` and decides each. Equal times are ordered by ID, so a
// decision never depends on listing order.
std::vector<RetentionGroup> ApplyRetentionPolicy(const std::vector<SnapshotEntry>& snapshots,
                                                 const RetentionPolicy& policy,
                                                 const GroupBy& group_by);

// "2y5m7d3h" (years, months, days, hours, as restic writes them) in
// nanoseconds; a month is 30 days and a year 365. InvalidArgument naming the
// text otherwise.
Result<int64_t> ParseRetentionDuration(const std::string& text);
// "host,paths,tags" in any combination; "" groups nothing.
Result<GroupBy> ParseGroupBy(const std::string& text);

}  // namespace ferry
