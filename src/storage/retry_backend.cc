#include "storage/retry_backend.h"

#include <algorithm>

namespace ferry {

RetryBackend::RetryBackend(std::unique_ptr<Backend> inner, RetryPolicy policy)
    : inner_(std::move(inner)), retrier_(std::move(policy)) {}

Status RetryBackend::Create() {
  return Run([&](int) { return inner_->Create(); });
}

Status RetryBackend::Put(const ObjectName& name, ByteView data) {
  // Putting again is safe: a Put replaces the object whole.
  return Run([&](int) { return inner_->Put(name, data); });
}

Status RetryBackend::PutIfAbsent(const ObjectName& name, ByteView data) {
  return Run([&](int attempt) {
    Status written = inner_->PutIfAbsent(name, data);
    if (attempt == 0 || written.code() != StatusCode::kAlreadyExists) return written;
    // An earlier attempt may have written it and lost only its answer.
    auto existing = inner_->Get(name, 0, kToEnd);
    if (existing.ok() && existing->size() == data.size() &&
        std::equal(existing->begin(), existing->end(), data.begin()))
      return Status::Ok();
    return written;
  });
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

Status RetryBackend::CopyFrom(Backend& source, const ObjectName& name) {
  // Copying again is safe: the copy replaces the target whole.
  return Run([&](int) { return inner_->CopyFrom(source, name); });
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
