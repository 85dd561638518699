#include "storage/retry_backend.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace ferry {

RetryBackend::RetryBackend(std::unique_ptr<Backend> inner, RetryPolicy policy)
    : inner_(std::move(inner)), policy_(std::move(policy)), random_(std::random_device{}()) {
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
double RetryBackend::NextDelay(double ceiling) {
  std::lock_guard lock(random_mutex_);
  return std::uniform_real_distribution<double>(ceiling / 2, ceiling)(random_);
}

Status RetryBackend::Run(const std::function<Status(int attempt)>& attempt) {
  double deadline = policy_.now() + policy_.budget_seconds;
  double ceiling = policy_.first_delay_seconds;
  for (int number = 0;; ++number) {
    Status status = attempt(number);
    if (status.ok() || !status.retryable()) return status;
    double wait = NextDelay(ceiling);
    if (policy_.now() + wait > deadline)
      return status.WithContext("gave up after " + std::to_string(number + 1) + " attempt(s)");
    ++retries_;
    policy_.sleep(wait);
    ceiling = std::min(ceiling * 2, policy_.max_delay_seconds);
  }
}

Status RetryBackend::Create() {
  return Run([&](int) { return inner_->Create(); });
}

Status RetryBackend::Put(const ObjectName& name, ByteView data) {
  // Putting again is safe: a Put replaces the object whole.
  return Run([&](int) { return inner_->Put(name, data); });
}

Result<Bytes> RetryBackend::Get(const ObjectName& name, uint64_t offset, uint64_t length) {
  Result<Bytes> result = Status::Internal("no attempt");
  Status status = Run([&](int) {
    result = inner_->Get(name, offset, length);
    return result.status();
  });
  if (!status.ok()) return status;
  return result;
}

Result<uint64_t> RetryBackend::Stat(const ObjectName& name) {
  Result<uint64_t> result = Status::Internal("no attempt");
  Status status = Run([&](int) {
    result = inner_->Stat(name);
    return result.status();
  });
  if (!status.ok()) return status;
  return result;
}

Status RetryBackend::List(ObjectKind kind,
                          const std::function<Status(const std::string&, uint64_t)>& visit) {
  bool visited = false;
  Status visit_status;
  Status status = Run([&](int) -> Status {
    Status listed = inner_->List(kind, [&](const std::string& name, uint64_t size) {
      visited = true;
      visit_status = visit(name, size);
      return visit_status;
    });
    // A failure after names were visited is final: restarting would visit
    // them again. The caller's own error is final too.
    if (!listed.ok() && (visited || !visit_status.ok())) return listed.Permanent();
    return listed;
  });
  return status;
}

Status RetryBackend::Remove(const ObjectName& name) {
  return Run([&](int attempt) {
    Status removed = inner_->Remove(name);
    // An earlier attempt may have removed it and lost only its answer.
    if (attempt > 0 && removed.IsNotFound()) return Status::Ok();
    return removed;
  });
}

Status RetryBackend::ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                                const std::function<Status(ByteView)>& sink) {
  uint64_t delivered = 0;
  Status sink_status;
  return Run([&](int) -> Status {
    uint64_t remaining = length == kToEnd ? kToEnd : length - delivered;
    Status read = inner_->ReadStream(name, offset + delivered, remaining, [&](ByteView piece) {
      sink_status = sink(piece);
      if (sink_status.ok()) delivered += piece.size();
      return sink_status;
    });
    if (!sink_status.ok()) return read.Permanent();
    return read;
  });
}

}  // namespace ferry
