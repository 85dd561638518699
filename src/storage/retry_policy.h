// Retrier: runs an attempt again while its Status says a retry can help
// (Status::retryable(): a dropped connection, a 503, a throttled request),
// with exponential backoff and full jitter, for up to a time budget. It is
// the one retry loop of ferry's storage: RetryBackend wraps whole backend
// operations in it, a streamed writer its single block uploads, and the
// vault's admin and import clients their requests.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <random>

#include "util/status.h"

namespace ferry {

struct RetryPolicy {
  double budget_seconds = 120;  // from the first attempt; 0: no retries
  double first_delay_seconds = 0.25;
  double max_delay_seconds = 8;
  // How to wait, and what time it is (seconds): tests replace them.
  std::function<void(double seconds)> sleep;
  std::function<double()> now;
};

class Retrier {
 public:
  explicit Retrier(RetryPolicy policy = {});

  // Runs `attempt` until it returns a Status that is OK, permanent, or the
  // budget is spent (then the last failure, saying how many attempts were
  // made); `attempt` gets the attempt's number (0 first). Safe to call from
  // several threads at once.
  Status Run(const std::function<Status(int attempt)>& attempt);

  // Attempts that failed and were retried, over this retrier's life.
  uint64_t retries() const { return retries_; }

 private:
  double NextDelay(double ceiling);

  RetryPolicy policy_;
  std::mutex random_mutex_;
  std::mt19937_64 random_;
  std::atomic<uint64_t> retries_{0};
};

}  // namespace ferry
