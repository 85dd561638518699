#include "repo/retention_policy.h"

#include <algorithm>
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

std::string FormatDuration(int64_t ns) {
  int64_t hours = ns / kHourNs;
  std::string text;
  for (auto [unit, size] : {std::pair{'y', 365 * 24}, {'m', 30 * 24}, {'d', 24}, {'h', 1}}) {
    if (hours >= size) {
      text += std::to_string(hours / size) + unit;
      hours %= size;
    }
  }
  return text.empty() ? "0h" : text;
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

void Decide(std::vector<RetentionDecision>& decisions, const RetentionPolicy& policy) {
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
  // that stopped backing up does not lose its history to the clock.
  int64_t newest = decisions.front().snapshot.snapshot.time_ns;
  if (policy.keep_within_ns > 0) {
    for (RetentionDecision& decision : decisions) {
      if (decision.snapshot.snapshot.time_ns < newest - policy.keep_within_ns) continue;
      decision.keep = true;
      decision.reasons.push_back("within " + FormatDuration(policy.keep_within_ns));
    }
  }
  for (int b = 0; b < kBucketCount; ++b) {
    int64_t within = policy.keep_within_bucket_ns[b];
    if (within <= 0) continue;
    KeepPerBucket(decisions, static_cast<Bucket>(b),
                  std::string(kBucketNames[b]) + " within " + FormatDuration(within),
                  [&](const RetentionDecision& decision, int) {
                    return decision.snapshot.snapshot.time_ns >= newest - within;
                  });
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
  if (keep_last != 0 || keep_within_ns > 0 || !keep_tags.empty()) return false;
  for (int b = 0; b < kBucketCount; ++b)
    if (keep[b] != 0 || keep_within_bucket_ns[b] > 0) return false;
  return true;
}

std::vector<RetentionGroup> ApplyRetentionPolicy(const std::vector<SnapshotEntry>& snapshots,
                                                 const RetentionPolicy& policy,
                                                 const GroupBy& group_by) {
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
    Decide(group.decisions, policy);
    result.push_back(std::move(group));
  }
  return result;
}

Result<int64_t> ParseRetentionDuration(const std::string& text) {
  auto invalid = [&] {
    return Status::InvalidArgument("'" + text +
                                   "' is not a duration: write e.g. 2y5m7d3h (years, months of "
                                   "30 days, days, hours)");
  };
  if (text.empty()) return invalid();
  int64_t hours = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t digits = at;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == at || digits == text.size() || digits - at > 6) return invalid();
    int64_t value = std::stoll(text.substr(at, digits - at));
    switch (text[digits]) {
      case 'y':
        hours += value * 365 * 24;
        break;
      case 'm':
        hours += value * 30 * 24;
        break;
      case 'd':
        hours += value * 24;
        break;
      case 'h':
        hours += value;
        break;
      default:
        return invalid();
    }
    at = digits + 1;
    // Nanoseconds in an int64 reach 292 years: refuse longer rather than
    // overflow (a vault checks policies that arrive over the network).
    if (hours > std::numeric_limits<int64_t>::max() / kHourNs)
      return Status::InvalidArgument("'" + text + "' is longer than 292 years");
  }
  return hours * kHourNs;
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
  auto duration = [&](const std::string& rule, const std::string& text, int64_t* out) -> Status {
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
                             &policy.keep_within_bucket_ns[b]));
  }
  RETURN_IF_ERROR(duration("keep-within", rules.keep_within, &policy.keep_within_ns));
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
