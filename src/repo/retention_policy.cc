#include "repo/retention_policy.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>
#include <tuple>

namespace ferry {

const char* const kBucketNames[kBucketCount] = {"hourly", "daily", "weekly", "monthly", "yearly"};

namespace {

constexpr int64_t kHourNs = 3600ll * 1000000000;

// The calendar bucket of `time_ns` in local time. ISO weeks (%G-%V): the
// last days of December can belong to week 1 of the next year, and a year
// can have a week 53.
std::string BucketKey(int64_t time_ns, Bucket bucket) {
  std::time_t seconds = static_cast<std::time_t>(time_ns / 1000000000);
  if (time_ns < 0 && time_ns % 1000000000 != 0) --seconds;  // floor, not truncation
  std::tm local{};
  localtime_r(&seconds, &local);
  static constexpr const char* kFormats[kBucketCount] = {"%Y-%m-%d %H", "%Y-%m-%d", "%G-W%V",
                                                         "%Y-%m", "%Y"};
  char text[32];
  std::strftime(text, sizeof text, kFormats[static_cast<int>(bucket)], &local);
  return text;
}

// Keeps the newest snapshot of each bucket, newest buckets first, while
// `admit` says so; `admit` gets the decision and the number of buckets kept.
template <typename Admit>
void KeepPerBucket(std::vector<RetentionDecision>& decisions, Bucket bucket,
                   const std::string& reason, Admit admit) {
  std::string last;
  int kept = 0;
  for (RetentionDecision& decision : decisions) {
    std::string key = BucketKey(decision.snapshot.snapshot.time_ns, bucket);
    if (key == last) continue;
    if (!admit(decision, kept)) continue;
    last = key;
    ++kept;
    decision.keep = true;
    decision.reasons.push_back(reason);
  }
}

void Decide(std::vector<RetentionDecision>& decisions, const RetentionPolicy& policy,
            int64_t now_ns) {
  if (decisions.empty()) return;
  auto within_limit = [](int limit) {
    return [limit](const RetentionDecision&, int kept) { return limit == -1 || kept < limit; };
  };
  for (size_t i = 0; i < decisions.size(); ++i) {
    if (policy.keep_last == -1 || static_cast<int64_t>(i) < policy.keep_last) {
      decisions[i].keep = true;
      decisions[i].reasons.push_back("last snapshot");
    }
  }
  for (int b = 0; b < kBucketCount; ++b) {
    if (policy.keep[b] == 0) continue;
    KeepPerBucket(decisions, static_cast<Bucket>(b), std::string(kBucketNames[b]) + " snapshot",
                  within_limit(policy.keep[b]));
  }
  // Within a duration of the group's newest snapshot, not of now: a machine
  // that stopped backing up does not lose its history to the clock. But not
  // of one from the future either (restic's rule): with none in the past,
  // everything is within.
  int64_t newest = std::numeric_limits<int64_t>::min();
  for (const RetentionDecision& decision : decisions)
    if (decision.snapshot.snapshot.time_ns <= now_ns) {
      newest = decision.snapshot.snapshot.time_ns;
      break;  // newest first
    }
  auto within = [&](const RetentionDecision& decision, const RetentionDuration& duration) {
    return newest == std::numeric_limits<int64_t>::min() ||
           decision.snapshot.snapshot.time_ns > RetentionCutoff(newest, duration);
  };
  if (!policy.keep_within.zero()) {
    for (RetentionDecision& decision : decisions) {
      if (!within(decision, policy.keep_within)) continue;
      decision.keep = true;
      decision.reasons.push_back("within " + policy.keep_within.ToString());
    }
  }
  for (int b = 0; b < kBucketCount; ++b) {
    const RetentionDuration& duration = policy.keep_within_bucket[b];
    if (duration.zero()) continue;
    KeepPerBucket(
        decisions, static_cast<Bucket>(b),
        std::string(kBucketNames[b]) + " within " + duration.ToString(),
        [&](const RetentionDecision& decision, int) { return within(decision, duration); });
  }
  for (RetentionDecision& decision : decisions) {
    for (const std::string& tag : decision.snapshot.snapshot.tags) {
      if (std::find(policy.keep_tags.begin(), policy.keep_tags.end(), tag) ==
          policy.keep_tags.end())
        continue;
      decision.keep = true;
      decision.reasons.push_back("tag " + tag);
      break;
    }
  }
}

std::vector<std::string> Sorted(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  return values;
}

}  // namespace

bool RetentionPolicy::empty() const {
  if (keep_last != 0 || !keep_within.zero() || !keep_tags.empty()) return false;
  for (int b = 0; b < kBucketCount; ++b)
    if (keep[b] != 0 || !keep_within_bucket[b].zero()) return false;
  return true;
}

std::vector<RetentionGroup> ApplyRetentionPolicy(const std::vector<SnapshotEntry>& snapshots,
                                                 const RetentionPolicy& policy,
                                                 const GroupBy& group_by, int64_t now_ns) {
  using Key = std::tuple<std::string, std::vector<std::string>, std::vector<std::string>>;
  std::map<Key, RetentionGroup> groups;
  for (const SnapshotEntry& entry : snapshots) {
    Key key{group_by.host ? entry.snapshot.hostname : "",
            group_by.paths ? Sorted(entry.snapshot.paths) : std::vector<std::string>{},
            group_by.tags ? Sorted(entry.snapshot.tags) : std::vector<std::string>{}};
    RetentionGroup& group = groups[key];
    std::tie(group.host, group.paths, group.tags) = key;
    group.decisions.push_back({entry, false, {}});
  }
  std::vector<RetentionGroup> result;
  for (auto& [key, group] : groups) {
    std::sort(group.decisions.begin(), group.decisions.end(),
              [](const RetentionDecision& a, const RetentionDecision& b) {
                if (a.snapshot.snapshot.time_ns != b.snapshot.snapshot.time_ns)
                  return a.snapshot.snapshot.time_ns > b.snapshot.snapshot.time_ns;
                return b.snapshot.id < a.snapshot.id;
              });
    Decide(group.decisions, policy, now_ns);
    result.push_back(std::move(group));
  }
  return result;
}

std::string RetentionDuration::ToString() const {
  std::string text;
  for (auto [value, unit] : {std::pair{years, 'y'}, {months, 'm'}, {days, 'd'}, {hours, 'h'}})
    if (value != 0) text += std::to_string(value) + unit;
  return text.empty() ? "0h" : text;
}

int64_t RetentionCutoff(int64_t time_ns, const RetentionDuration& duration) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  std::time_t seconds = static_cast<std::time_t>(time_ns / 1000000000);
  int64_t fraction = time_ns % 1000000000;
  if (fraction < 0) {  // floor, not truncation
    --seconds;
    fraction += 1000000000;
  }
  std::tm local{};
  if (!localtime_r(&seconds, &local)) return kMin;
  // The same wall-clock time on the earlier date; mktime normalises 31
  // February to 3 March, and tm_isdst -1 lets it find the offset of that day.
  local.tm_year -= duration.years;
  local.tm_mon -= duration.months;
  local.tm_mday -= duration.days;
  local.tm_isdst = -1;
  errno = 0;
  std::time_t earlier = std::mktime(&local);
  if (earlier == static_cast<std::time_t>(-1) && errno != 0) return kMin;
  // Durations hold at most 6 digits a unit (ParseRetentionDuration): no overflow
  // short of the range's ends.
  if (earlier < kMin / 1000000000 + 1) return kMin;
  int64_t cutoff = static_cast<int64_t>(earlier) * 1000000000 + fraction;
  int64_t hours_ns = int64_t{duration.hours} * kHourNs;
  return cutoff < kMin + hours_ns ? kMin : cutoff - hours_ns;
}

Result<RetentionDuration> ParseRetentionDuration(const std::string& text) {
  auto invalid = [&] {
    return Status::InvalidArgument("'" + text +
                                   "' is not a duration: write e.g. 2y5m7d3h (years, months, "
                                   "days, hours; each unit once)");
  };
  if (text.empty()) return invalid();
  RetentionDuration duration;
  bool seen[4] = {false, false, false, false};
  size_t at = 0;
  while (at < text.size()) {
    size_t digits = at;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    // At most 6 digits: every unit stays far from int overflow, and the cutoff
    // from int64 nanoseconds' limits (a vault checks policies from the network).
    if (digits == at || digits == text.size() || digits - at > 6) return invalid();
    int value = std::stoi(text.substr(at, digits - at));
    static constexpr char kUnits[] = "ymdh";
    const char* unit = std::strchr(kUnits, text[digits]);
    if (unit == nullptr || *unit == '\0') return invalid();
    int* fields[] = {&duration.years, &duration.months, &duration.days, &duration.hours};
    size_t index = static_cast<size_t>(unit - kUnits);
    if (seen[index]) return invalid();  // each unit once
    seen[index] = true;
    *fields[index] = value;
    at = digits + 1;
  }
  // Nanoseconds in an int64 reach 292 years: a longer duration would keep
  // everything anyway, and is more likely a typo.
  int64_t approximate_hours =
      ((int64_t{duration.years} * 366 + int64_t{duration.months} * 31 + duration.days) * 24) +
      duration.hours;
  if (approximate_hours > 292ll * 365 * 24)
    return Status::InvalidArgument("'" + text + "' is longer than 292 years");
  return duration;
}

std::string RuleName(const std::string& rule, RuleNames names) {
  if (names == RuleNames::kFlags) return "--" + rule;
  std::string field = rule;
  for (char& c : field)
    if (c == '-') c = '_';
  return field;
}

Result<RetentionPolicy> CompileRetentionRules(const RetentionRules& rules, RuleNames names) {
  RetentionPolicy policy;
  auto count = [&](const std::string& rule, int value, int* out) -> Status {
    if (value < -1)
      return Status::InvalidArgument(RuleName(rule, names) +
                                     ": a number of snapshots, or -1 for all");
    *out = value;
    return Status::Ok();
  };
  auto duration = [&](const std::string& rule, const std::string& text,
                      RetentionDuration* out) -> Status {
    if (text.empty()) return Status::Ok();
    auto within = ParseRetentionDuration(text);
    if (!within.ok()) return within.status().WithContext(RuleName(rule, names));
    *out = *within;
    return Status::Ok();
  };
  RETURN_IF_ERROR(count("keep-last", rules.keep_last, &policy.keep_last));
  for (int b = 0; b < kBucketCount; ++b) {
    std::string name = kBucketNames[b];
    RETURN_IF_ERROR(count("keep-" + name, rules.keep[b], &policy.keep[b]));
    RETURN_IF_ERROR(duration("keep-within-" + name, rules.keep_within_bucket[b],
                             &policy.keep_within_bucket[b]));
  }
  RETURN_IF_ERROR(duration("keep-within", rules.keep_within, &policy.keep_within));
  for (const std::string& tag : rules.keep_tags)
    if (tag.empty())
      return Status::InvalidArgument((names == RuleNames::kFlags ? "--keep-tag" : "keep_tags") +
                                     std::string(": empty tag"));
  policy.keep_tags = rules.keep_tags;
  return policy;
}

Result<GroupBy> ParseGroupBy(const std::string& text) {
  GroupBy group_by{false, false, false};
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? comma : comma - start);
    if (part == "host")
      group_by.host = true;
    else if (part == "paths")
      group_by.paths = true;
    else if (part == "tags")
      group_by.tags = true;
    else
      return Status::InvalidArgument("--group-by: '" + part + "' is not one of host, paths, tags");
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return group_by;
}

}  // namespace ferry
