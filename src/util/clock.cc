#include "util/clock.h"

#include <cstdint>
#include <cstdio>
#include <ctime>

namespace ferry {

std::string FormatTimeRfc3339(int64_t unix_nanos) {
  time_t seconds = static_cast<time_t>(unix_nanos / 1000000000);
  long nanos = static_cast<long>(unix_nanos % 1000000000);
  if (nanos < 0) {
    nanos += 1000000000;
    --seconds;
  }
  struct tm tm_utc;
  gmtime_r(&seconds, &tm_utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
                tm_utc.tm_year + 1900, tm_utc.tm_mon + 1, tm_utc.tm_mday, tm_utc.tm_hour,
                tm_utc.tm_min, tm_utc.tm_sec, nanos);
  return buffer;
}

bool ParseTimeLocal(const std::string& text, int64_t* unix_nanos) {
  struct tm local = {};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d%n", &local.tm_year, &local.tm_mon,
                  &local.tm_mday, &local.tm_hour, &local.tm_min, &local.tm_sec, &consumed) != 6 ||
      static_cast<size_t>(consumed) != text.size())
    return false;
  // Summer time first: in the hour a clock change repeats, the earlier is meant.
  for (int isdst : {1, 0}) {
    struct tm attempt = local;
    attempt.tm_year -= 1900;
    attempt.tm_mon -= 1;
    attempt.tm_isdst = isdst;
    time_t seconds = std::mktime(&attempt);
    struct tm back = {};
    if (seconds == -1 || !localtime_r(&seconds, &back) || back.tm_hour != local.tm_hour ||
        back.tm_min != local.tm_min || back.tm_mday != local.tm_mday)
      continue;
    *unix_nanos = static_cast<int64_t>(seconds) * 1000000000;
    return true;
  }
  return false;  // not a time of this zone (skipped by a clock change, or out of range)
}

bool ParseTimeRfc3339(const std::string& text, int64_t* unix_nanos) {
  struct tm tm_utc = {};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm_utc.tm_year, &tm_utc.tm_mon,
                  &tm_utc.tm_mday, &tm_utc.tm_hour, &tm_utc.tm_min, &tm_utc.tm_sec, &consumed) != 6)
    return false;
  tm_utc.tm_year -= 1900;
  tm_utc.tm_mon -= 1;
  size_t pos = static_cast<size_t>(consumed);
  int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    for (; digits < 9; ++digits) nanos *= 10;
  }
  if (pos + 1 != text.size() || text[pos] != 'Z') return false;
  // Nanoseconds since 1970 fit in 64 bits from 1678 to 2262. Times are read
  // from repositories and disks: one outside that range is refused, not
  // multiplied into an overflow (undefined behaviour, found by UBSan).
  constexpr int64_t kMaxSeconds = INT64_MAX / 1000000000 - 1;
  int64_t seconds = static_cast<int64_t>(timegm(&tm_utc));
  if (seconds > kMaxSeconds || seconds < -kMaxSeconds) return false;
  *unix_nanos = seconds * 1000000000 + nanos;
  return true;
}

std::string FormatTimeLocal(int64_t unix_nanos) {
  time_t seconds = static_cast<time_t>(unix_nanos / 1000000000);
  struct tm tm_local;
  localtime_r(&seconds, &tm_local);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &tm_local);
  return buffer;
}

}  // namespace ferry
