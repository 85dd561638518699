#include "storage/retry_policy.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

namespace ferry {

Retrier::Retrier(RetryPolicy policy) : policy_(std::move(policy)), random_(std::random_device{}()) {
  if (!policy_.sleep)
    policy_.sleep = [](double seconds) {
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    };
  if (!policy_.now)
    policy_.now = [] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
}

// Full jitter (AWS's "exponential backoff and jitter"): a random wait up to
// the doubled ceiling, so that clients cut off together do not come back
// together.
double Retrier::NextDelay(double ceiling) {
  std::lock_guard lock(random_mutex_);
  return std::uniform_real_distribution<double>(ceiling / 2, ceiling)(random_);
}

Status Retrier::Run(const std::function<Status(int attempt)>& attempt) {
  double deadline = policy_.now() + policy_.budget_seconds;
  double ceiling = policy_.first_delay_seconds;
  for (int number = 0;; ++number) {
    Status status = attempt(number);
    // No budget: no retries were meant, so none "gave up".
    if (status.ok() || !status.retryable() || policy_.budget_seconds <= 0) return status;
    double wait = NextDelay(ceiling);
    if (policy_.now() + wait > deadline)
      return status.WithContext("gave up after " + std::to_string(number + 1) + " attempt(s)");
    ++retries_;
    policy_.sleep(wait);
    ceiling = std::min(ceiling * 2, policy_.max_delay_seconds);
  }
}

}  // namespace ferry
