// Times as people read them: the server's answers carry RFC 3339 UTC times
// (what --json passes on unchanged, for scripts); tables and reports show
// them in the local time zone, as `ferry snapshots` does.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ferry {

// `value` (an RFC 3339 string, or nanoseconds since the epoch) in local time,
// "2026-12-07 20:52:01"; a string that is not a time comes back as it is,
// anything else as `missing`.
std::string LocalTime(const nlohmann::json& value, const std::string& missing = "-");

}  // namespace ferry
