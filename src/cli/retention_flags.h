// The --keep-* flags that `ferry forget` and `ferry policy set` share, so that
// a vault's policy is written with the very flags a user knows from forget.
#pragma once

#include <CLI/CLI.hpp>

#include "repo/retention_policy.h"

namespace ferry {

// Adds --keep-last, --keep-hourly … --keep-yearly, --keep-within,
// --keep-within-hourly … and --keep-tag to `command`, filling `rules`.
void AddRetentionOptions(CLI::App& command, RetentionRules& rules);

// The rules in forget's flag syntax ("--keep-last 3 --keep-daily 7"), for
// messages; "" for none.
std::string DescribeRetentionRules(const RetentionRules& rules);

}  // namespace ferry
