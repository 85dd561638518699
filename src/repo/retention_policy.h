// RetentionPolicy: which snapshots `ferry forget` keeps, by restic's rules
// (the reference users know), evaluated per group of snapshots (by default
// host and paths) in local time:
//
//   keep_last N              the N newest
//   keep_hourly … yearly N   the newest of each of the N newest hours, days,
//                            ISO weeks, months, years that hold a snapshot
//   keep_within D            every snapshot within D of the group's newest
//   keep_within_hourly … D   the newest of each hour, day, … within D of it
//
// "Within D of the newest" is restic's: D counted back on the local calendar
// from the newest snapshot that is not in the future (a machine whose clock
// once ran ahead must not make every real snapshot look old), and a snapshot
// is within when it is later than that point, not at it.
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

// A duration as --keep-within takes it ("2y5m7d3h"): years, months and days
// are calendar ones, counted back in local time (a month back from 31 March
// is 3 March, as Go's AddDate and mktime count; a day back across a clock
// change is 23 or 25 hours), hours are hours.
struct RetentionDuration {
  int years = 0;
  int months = 0;
  int days = 0;
  int hours = 0;

  bool zero() const { return years == 0 && months == 0 && days == 0 && hours == 0; }
  std::string ToString() const;  // "2y5m7d3h", units that are 0 left out
  bool operator==(const RetentionDuration&) const = default;
};

// The moment `duration` before `time_ns`, as described above; INT64_MIN when
// that lies before what the calendar functions reach.
int64_t RetentionCutoff(int64_t time_ns, const RetentionDuration& duration);

struct RetentionPolicy {
  int keep_last = 0;
  int keep[kBucketCount] = {0, 0, 0, 0, 0};  // by Bucket
  RetentionDuration keep_within;
  RetentionDuration keep_within_bucket[kBucketCount];
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
// decision never depends on listing order. `now_ns` only tells snapshots in
// the future (see keep_within above).
std::vector<RetentionGroup> ApplyRetentionPolicy(const std::vector<SnapshotEntry>& snapshots,
                                                 const RetentionPolicy& policy,
                                                 const GroupBy& group_by, int64_t now_ns);

// "2y5m7d3h": years, months, days and hours as restic writes them, each unit
// at most once. InvalidArgument naming the text otherwise.
Result<RetentionDuration> ParseRetentionDuration(const std::string& text);
// "host,paths,tags" in any combination; "" groups nothing.
Result<GroupBy> ParseGroupBy(const std::string& text);

}  // namespace ferry
