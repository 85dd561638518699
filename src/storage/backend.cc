#include "storage/backend.h"

#include <algorithm>

namespace ferry {

const char* ObjectKindName(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kConfig:
      return "config";
    case ObjectKind::kKey:
      return "keys";
    case ObjectKind::kData:
      return "data";
    case ObjectKind::kIndex:
      return "index";
    case ObjectKind::kSnapshot:
      return "snapshots";
    case ObjectKind::kLock:
      return "locks";
  }
  return "?";
}

std::string ObjectName::Path() const {
  if (kind == ObjectKind::kConfig) return "config";
  if (kind == ObjectKind::kData) return "data/" + name.substr(0, 2) + "/" + name;
  return std::string(ObjectKindName(kind)) + "/" + name;
}

Result<std::vector<std::string>> ListNames(Backend& backend, ObjectKind kind) {
  std::vector<std::string> names;
  RETURN_IF_ERROR(backend.List(kind, [&](const std::string& name, uint64_t) {
    names.push_back(name);
    return Status::Ok();
  }));
  return names;
}

Result<Bytes> GetByStreaming(Backend& backend, const ObjectName& name, uint64_t offset,
                             uint64_t length) {
  Bytes data;
  // A reservation only: a length from a caller is not trusted for more than 64 MiB up front.
  if (length != Backend::kToEnd)
    data.reserve(static_cast<size_t>(std::min<uint64_t>(length, 64 << 20)));
  RETURN_IF_ERROR(backend.ReadStream(name, offset, length, [&](ByteView piece) {
    AppendBytes(data, piece);
    return Status::Ok();
  }));
  return data;
}

bool IsObjectId(const std::string& name) {
  if (name.size() != 64) return false;
  for (char c : name)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

namespace {
class BufferingWriter : public ObjectWriter {
 public:
  BufferingWriter(Backend& backend, ObjectName name) : backend_(backend), name_(std::move(name)) {}
  Status Write(ByteView data) override {
    buffer_.insert(buffer_.end(), data.begin(), data.end());
    return Status::Ok();
  }
  Status Commit() override { return backend_.Put(name_, buffer_); }

 private:
  Backend& backend_;
  ObjectName name_;
  Bytes buffer_;
};
}  // namespace

Status Backend::PutIfAbsent(const ObjectName& name, ByteView data) {
  auto existing = Stat(name);
  if (existing.ok()) return Status::AlreadyExists(Location() + ": " + name.Path() + " exists");
  if (!existing.status().IsNotFound()) return existing.status();
  return Put(name, data);
}

Result<std::unique_ptr<ObjectWriter>> Backend::OpenWriter(const ObjectName& name) {
  return std::unique_ptr<ObjectWriter>(new BufferingWriter(*this, name));
}

Status Backend::ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                           const std::function<Status(ByteView)>& sink) {
  ASSIGN_OR_RETURN(Bytes data, Get(name, offset, length));
  return sink(data);
}

Status Backend::CopyFrom(Backend& source, const ObjectName& name) {
  return Status::Unsupported(Location() + ": no server-side copy of " + name.Path() + " from " +
                             source.Location());
}

Status CopyObject(Backend& source, Backend& target, const ObjectName& name, bool* server_side) {
  if (server_side) *server_side = false;
  Status copied = target.CopyFrom(source, name);
  if (copied.ok()) {
    if (server_side) *server_side = true;
    return copied;
  }
  if (copied.code() != StatusCode::kUnsupported) return copied;
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> writer, target.OpenWriter(name));
  RETURN_IF_ERROR(source.ReadStream(name, 0, Backend::kToEnd,
                                    [&](ByteView piece) { return writer->Write(piece); }));
  return writer->Commit();
}

}  // namespace ferry
