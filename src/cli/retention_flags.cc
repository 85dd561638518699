#include "cli/retention_flags.h"

namespace ferry {

void AddRetentionOptions(CLI::App& command, RetentionRules& rules) {
  command.add_option("--keep-last", rules.keep_last, "Keep the N newest snapshots");
  for (int b = 0; b < kBucketCount; ++b) {
    std::string name = kBucketNames[b];
    std::string unit = b == static_cast<int>(Bucket::kWeek)    ? "ISO weeks"
                       : b == static_cast<int>(Bucket::kDay)   ? "days"
                       : b == static_cast<int>(Bucket::kHour)  ? "hours"
                       : b == static_cast<int>(Bucket::kMonth) ? "months"
                                                               : "years";
    command.add_option("--keep-" + name, rules.keep[b],
                       "Keep the newest snapshot of each of the N newest " + unit + " (-1: all)");
    command.add_option(
        "--keep-within-" + name, rules.keep_within_bucket[b],
        "Keep the newest " + name + " snapshot within DURATION (e.g. 2y5m7d) of the newest");
  }
  command.add_option("--keep-within", rules.keep_within,
                     "Keep every snapshot within DURATION (e.g. 10d, 1y6m) of the newest");
  command.add_option("--keep-tag", rules.keep_tags, "Keep every snapshot with this tag");
}

std::string DescribeRetentionRules(const RetentionRules& rules) {
  std::string out;
  auto add = [&](const std::string& flag, const std::string& value) {
    out += (out.empty() ? "" : " ") + flag + " " + value;
  };
  if (rules.keep_last) add("--keep-last", std::to_string(rules.keep_last));
  for (int b = 0; b < kBucketCount; ++b)
    if (rules.keep[b]) add(std::string("--keep-") + kBucketNames[b], std::to_string(rules.keep[b]));
  if (!rules.keep_within.empty()) add("--keep-within", rules.keep_within);
  for (int b = 0; b < kBucketCount; ++b)
    if (!rules.keep_within_bucket[b].empty())
      add(std::string("--keep-within-") + kBucketNames[b], rules.keep_within_bucket[b]);
  for (const std::string& tag : rules.keep_tags) add("--keep-tag", tag);
  return out;
}

}  // namespace ferry
