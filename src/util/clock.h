// Clock: the source of wall-clock time, injectable so that tests can move time
// (lock staleness, job deadlines) without sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ferry {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since the Unix epoch.
  virtual int64_t NowNanos() const = 0;

  static const Clock& System();
};

class SystemClock : public Clock {
 public:
  int64_t NowNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

inline const Clock& Clock::System() {
  static const SystemClock clock;
  return clock;
}

// RFC 3339 in UTC with nanoseconds: 2026-11-28T05:29:03.123456789Z.
std::string FormatTimeRfc3339(int64_t unix_nanos);
// Parses what FormatTimeRfc3339 writes (fraction optional, 'Z' required).
bool ParseTimeRfc3339(const std::string& text, int64_t* unix_nanos);
// Local time for tables: 2026-11-28 05:29:03.
std::string FormatTimeLocal(int64_t unix_nanos);
// Parses what FormatTimeLocal writes ("2026-11-28 05:29:03", local time, as
// restic's --time takes it). In the hour a clock change repeats, the earlier
// of the two is meant; a time the change skips is refused.
bool ParseTimeLocal(const std::string& text, int64_t* unix_nanos);

}  // namespace ferry
