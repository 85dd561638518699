// RetryBackend: retries what a backend's own error says a retry can help
// (Status::retryable(): a dropped connection, a 503, a throttled request),
// with exponential backoff and full jitter, for up to a time budget — long
// enough to carry a backup across a restart of the server or a storage
// service's brief outage. Permanent errors (a wrong key, a full vault, a
// missing object) return at once. Any backend can be wrapped, so Azure, S3
// and the vault share one retry policy instead of each having its own.
//
// What a retry must not do twice: a listing that failed after it had visited
// names is not restarted (the caller would see them twice; the error is
// returned), and a streamed read resumes after the bytes its sink already
// took. A write-once Put retried after an attempt whose answer was lost may
// find its own object: the same bytes under the name count as written. A Remove retried after an
// attempt whose answer was lost may find the object gone: that counts as removed. Streamed writes
// (OpenWriter) are not retried here: their bytes are gone once written; the caller re-uploads.
#pragma once

#include <functional>
#include <memory>

#include "storage/backend.h"
#include "storage/retry_policy.h"

namespace ferry {

class RetryBackend : public Backend {
 public:
  RetryBackend(std::unique_ptr<Backend> inner, RetryPolicy policy = {});

  Status Create() override;
  Status Put(const ObjectName& name, ByteView data) override;
  Status PutIfAbsent(const ObjectName& name, ByteView data) override;
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Stat(const ObjectName& name) override;
  Status List(ObjectKind kind,
              const std::function<Status(const std::string&, uint64_t)>& visit) override;
  Status Remove(const ObjectName& name) override;
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(const ObjectName& name) override {
    return inner_->OpenWriter(name);
  }
  Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                    const std::function<Status(ByteView)>& sink) override;
  Status CopyFrom(Backend& source, const ObjectName& name) override;
  Backend& Undecorated() override { return inner_->Undecorated(); }
  std::string Location() const override { return inner_->Location(); }
  BackendStats stats() const override { return inner_->stats(); }

  Backend& inner() { return *inner_; }
  // Attempts that failed and were retried, over this backend's life.
  uint64_t retries() const { return retrier_.retries(); }

 private:
  Status Run(const std::function<Status(int attempt)>& attempt) { return retrier_.Run(attempt); }

  std::unique_ptr<Backend> inner_;
  Retrier retrier_;
};

}  // namespace ferry
