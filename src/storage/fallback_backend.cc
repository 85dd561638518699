#include "storage/fallback_backend.h"

#include <unordered_set>

namespace ferry {

FallbackBackend::FallbackBackend(std::unique_ptr<Backend> primary,
                                 std::unique_ptr<Backend> fallback)
    : primary_(std::move(primary)), fallback_(std::move(fallback)) {}

Result<Bytes> FallbackBackend::Get(const ObjectName& name, uint64_t offset, uint64_t length) {
  auto result = primary_->Get(name, offset, length);
  if (result.ok() || name.kind != ObjectKind::kData || !result.status().IsNotFound()) return result;
  return fallback_->Get(name, offset, length);
}

Result<uint64_t> FallbackBackend::Stat(const ObjectName& name) {
  auto result = primary_->Stat(name);
  if (result.ok() || name.kind != ObjectKind::kData || !result.status().IsNotFound()) return result;
  return fallback_->Stat(name);
}

Status FallbackBackend::ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                                   const std::function<Status(ByteView)>& sink) {
  if (name.kind == ObjectKind::kData && primary_->Stat(name).status().IsNotFound())
    return fallback_->ReadStream(name, offset, length, sink);
  return primary_->ReadStream(name, offset, length, sink);
}

Status FallbackBackend::List(ObjectKind kind,
                             const std::function<Status(const std::string&, uint64_t)>& visit) {
  if (kind != ObjectKind::kData) return primary_->List(kind, visit);
  std::unordered_set<std::string> seen;
  RETURN_IF_ERROR(primary_->List(kind, [&](const std::string& name, uint64_t size) {
    seen.insert(name);
    return visit(name, size);
  }));
  Status status = fallback_->List(kind, [&](const std::string& name, uint64_t size) {
    return seen.count(name) ? Status::Ok() : visit(name, size);
  });
  // A staging directory without packs yet is not an error.
  return status.IsNotFound() ? Status::Ok() : status;
}

}  // namespace ferry
