// A machine's objects: list, read (whole or one range), upload (verified by
// its SHA-256 name; write-once for configs and locks), delete (append-only
// tokens: only their own process's locks). docs/protocol.md, "Objects".
#include <map>
#include <nlohmann/json.hpp>

#include "crypto/hash.h"
#include "service/access_log.h"
#include "service/handlers.h"
#include "service/response.h"
#include "service/token.h"

namespace ferry {

namespace {

using nlohmann::json;

// Larger than any pack (16 MiB target, one blob of at most 80 MiB past it).
constexpr uint64_t kMaxObjectSize = 256ull << 20;
// Write-once PUTs are read whole into memory; they are configs and locks
// (a few hundred bytes).
constexpr uint64_t kMaxWriteOnceSize = 16ull << 20;

bool ParseObjectName(const std::string& kind, const std::string& name, ObjectName* out) {
  static const std::map<std::string, ObjectKind> kinds = {
      {"config", ObjectKind::kConfig},      {"keys", ObjectKind::kKey},
      {"data", ObjectKind::kData},          {"index", ObjectKind::kIndex},
      {"snapshots", ObjectKind::kSnapshot}, {"locks", ObjectKind::kLock}};
  auto it = kinds.find(kind);
  if (it == kinds.end()) return false;
  if (it->second == ObjectKind::kConfig ? name != "config" : !IsObjectId(name)) return false;
  *out = {it->second, name};
  return true;
}

class ObjectsHandler {
 public:
  explicit ObjectsHandler(VaultState& state) : state_(state) {}

  void List(RequestContext& context);
  void Get(RequestContext& context);
  void Put(RequestContext& context);
  void Delete(RequestContext& context);

 private:
  void WriteOncePut(RequestContext& context, Backend& backend, const ObjectName& object,
                    uint64_t length, bool exists);
  // After an object is stored: its lock owner or recovery point, then 201.
  void RecordStoredObject(RequestContext& context, const ObjectName& object, uint64_t size);
  // An upload cut short: 503 if the server is shutting down (the client
  // retries elsewhere or later), else the client's fault.
  void BodyShort(RequestContext& context);

  VaultState& state_;
};

void ObjectsHandler::List(RequestContext& context) {
  httplib::Response& res = context.response;
  auto backend = state_.MachineBackend(*context.Token().machine);
  if (!backend.ok()) return SendStatus(res, backend.status());
  const std::string& kind = context.Param("kind");
  ObjectName probe;
  if (!ParseObjectName(kind, kind == "config" ? "config" : std::string(64, '0'), &probe))
    return SendError(res, 400, "bad_name", "unknown object kind '" + kind + "'");
  json list = json::array();
  Status status = (*backend)->List(probe.kind, [&](const std::string& object, uint64_t size) {
    list.push_back({{"name", object}, {"size", size}});
    return Status::Ok();
  });
  if (!status.ok()) return SendStatus(res, state_.StorageFailure("list", status));
  SendJson(res, 200, list);
}

void ObjectsHandler::Get(RequestContext& context) {
  const httplib::Request& req = context.request;
  httplib::Response& res = context.response;
  auto backend_result = state_.MachineBackend(*context.Token().machine);
  if (!backend_result.ok()) return SendStatus(res, backend_result.status());
  Backend* backend = *backend_result;
  const std::string& kind = context.Param("kind");
  const std::string& name = context.Param("name");
  ObjectName object;
  if (!ParseObjectName(kind, name, &object))
    return SendError(res, 400, "bad_name", "not an object name: " + kind + "/" + name);
  auto size = backend->Stat(object);
  if (!size.ok()) {
    // httplib would apply a requested range to the error document and turn
    // the 404 into a 416; the client must see the 404 (a pack still on disks
    // in transit is read from staging instead).
    const_cast<httplib::Request&>(req).ranges.clear();
    return SendStatus(res, state_.StorageFailure("stat", size.status()));
  }
  if (req.ranges.size() > 1) return SendError(res, 416, "bad_range", "one range per request");
  if (req.ranges.size() == 1) {
    // httplib applies a valid range to the provider (206, Content-Range) but
    // does not check it against the object: do that here. Ferry clients only
    // ask for ranges inside an object, so a range reaching past the end means
    // the object is shorter than the index says — say so at once.
    auto [first, last] = req.ranges[0];
    uint64_t start = first < 0
                         ? (last < 0 || static_cast<uint64_t>(last) > *size ? 0 : *size - last)
                         : static_cast<uint64_t>(first);
    uint64_t end = first < 0 || last < 0 ? *size : static_cast<uint64_t>(last) + 1;
    if (start >= end || end > *size) {
      // httplib would apply the range to the error document too; the request
      // is ours to answer now, so drop the range before replying.
      const_cast<httplib::Request&>(req).ranges.clear();
      res.set_header("Content-Range", "bytes */" + std::to_string(*size));
      return SendError(
          res, 416, "bad_range",
          "range does not lie within the object (" + std::to_string(*size) + " bytes)");
    }
  }
  // httplib drops a provider of length 0 and then sends no Content-Length:
  // the client would wait for a body until the connection times out.
  if (*size == 0) {
    res.set_content(std::string(), "application/octet-stream");
    return;
  }
  // HEAD gets the length only. The provider runs on this thread after the
  // handler returns, while the request's tally is still current.
  res.set_content_provider(
      *size, "application/octet-stream",
      [this, backend, object](size_t offset, size_t length, httplib::DataSink& sink) {
        if (state_.refusing) return false;  // shutting down: cut the answer
        Status status = backend->ReadStream(object, offset, length, [&](ByteView data) {
          if (!sink.write(reinterpret_cast<const char*>(data.data()), data.size()))
            return Status::IOError("client went away");
          RequestTally::Current().bytes_out += data.size();
          return Status::Ok();
        });
        if (!status.ok() && status.message() != "client went away")
          state_.StorageFailure("read", status);
        return status.ok();
      });
}

void ObjectsHandler::BodyShort(RequestContext& context) {
  if (state_.refusing)
    return SendError(context.response, 503, "shutting_down",
                     "the vault is shutting down; nothing stored, retry the upload");
  SendError(context.response, 400, "bad_request", "body shorter than its Content-Length");
}

void ObjectsHandler::Put(RequestContext& context) {
  const httplib::Request& req = context.request;
  httplib::Response& res = context.response;
  const TokenRecord& token = context.Token();
  ObjectName object;
  if (!ParseObjectName(context.Param("kind"), context.Param("name"), &object))
    return SendError(res, 400, "bad_name",
                     "not an object name: " + context.Param("kind") + "/" + context.Param("name"));
  if (!req.has_header("Content-Length") || req.has_header("Transfer-Encoding"))
    return SendError(res, 411, "length_required", "objects are uploaded with a Content-Length");
  std::string length_text = req.get_header_value("Content-Length");
  if (req.get_header_value_count("Content-Length") != 1 || length_text.empty() ||
      length_text.size() > 19 || length_text.find_first_not_of("0123456789") != std::string::npos)
    return SendError(res, 400, "bad_request", "Content-Length must be one decimal number");
  uint64_t length = std::stoull(length_text);
  if (length > kMaxObjectSize)
    return SendError(res, 413, "too_large", "object larger than 256 MiB");
  auto backend_result = state_.MachineBackend(*token.machine);
  if (!backend_result.ok()) return SendStatus(res, backend_result.status());
  Backend* backend = *backend_result;
  bool exists = backend->Stat(object).ok();
  bool is_config = object.kind == ObjectKind::kConfig;
  if (req.has_header("If-None-Match")) {
    if (req.get_header_value("If-None-Match") != "*")
      return SendError(res, 400, "bad_request", "If-None-Match takes only '*' (write-once)");
    return WriteOncePut(context, *backend, object, length, exists);
  }
  // Content-addressed objects that exist are not written again (the name
  // proves the content); the body is still read and verified.
  std::unique_ptr<ObjectWriter> writer;
  if (!exists || is_config) {
    auto opened = backend->OpenWriter(object);
    if (!opened.ok()) return SendStatus(res, state_.StorageFailure("write", opened.status()));
    writer = std::move(*opened);
  }
  Sha256Stream hash;
  Status write_status;
  uint64_t received = 0;
  if (context.reader != nullptr) {
    (*context.reader)([&](const char* data, size_t size) {
      ByteView bytes(reinterpret_cast<const uint8_t*>(data), size);
      hash.Update(bytes);
      received += size;
      if (writer && write_status.ok()) write_status = writer->Write(bytes);
      return write_status.ok() && !state_.refusing;
    });
  }
  RequestTally::Current().bytes_in += received;
  if (!write_status.ok()) return SendStatus(res, state_.StorageFailure("write", write_status));
  if (received != length) return BodyShort(context);
  Id digest = hash.Finish();
  if (!is_config && digest.Hex() != object.name)
    return SendError(
        res, 422, "digest_mismatch",
        "the body's SHA-256 is " + digest.Hex() + ", not the object's name; nothing stored");
  if (exists && is_config) {
    auto stored = backend->Get(object);
    if (!stored.ok()) return SendStatus(res, state_.StorageFailure("read", stored.status()));
    if (Sha256(*stored) == digest) return SendJson(res, 200, {{"stored", false}});
    if (token.kind != TokenKind::kMaintenance)
      return SendError(res, 409, "conflict",
                       "the repository config exists and machine tokens cannot replace it");
  }
  if (exists && !is_config) return SendJson(res, 200, {{"stored", false}});
  Status status = writer->Commit();
  if (!status.ok()) return SendStatus(res, state_.StorageFailure("write", status));
  RecordStoredObject(context, object, received);
}

// Write-once PUT (`If-None-Match: *`, HttpBackend::PutIfAbsent): 409 if the
// name is taken, whatever it holds, else stored through the storage's own
// conditional write, so that of several such PUTs racing for one name exactly
// one is stored. The body is read whole first (a conditional write is one
// call), hence the smaller limit; write-once objects are configs and locks.
void ObjectsHandler::WriteOncePut(RequestContext& context, Backend& backend,
                                  const ObjectName& object, uint64_t length, bool exists) {
  httplib::Response& res = context.response;
  if (length > kMaxWriteOnceSize)
    return SendError(res, 413, "too_large", "write-once objects are at most 16 MiB");
  Bytes body;
  body.reserve(length);
  if (context.reader != nullptr) {
    (*context.reader)([&](const char* data, size_t size) {
      body.insert(body.end(), data, data + size);
      return body.size() <= length && !state_.refusing;
    });
  }
  RequestTally::Current().bytes_in += body.size();
  if (body.size() != length) return BodyShort(context);
  // Before the digest: a write-once PUT of other bytes under a taken name is
  // a conflict, whatever the bytes.
  if (exists)
    return SendError(res, 409, "conflict",
                     std::string(ObjectKindName(object.kind)) + "/" + object.name + " exists");
  Id digest = Sha256(body);
  if (object.kind != ObjectKind::kConfig && digest.Hex() != object.name)
    return SendError(
        res, 422, "digest_mismatch",
        "the body's SHA-256 is " + digest.Hex() + ", not the object's name; nothing stored");
  Status status = backend.PutIfAbsent(object, body);
  if (!status.ok()) {  // AlreadyExists: 409
    if (status.code() != StatusCode::kAlreadyExists) state_.StorageFailure("write", status);
    return SendStatus(res, status);
  }
  RecordStoredObject(context, object, length);
}

void ObjectsHandler::RecordStoredObject(RequestContext& context, const ObjectName& object,
                                        uint64_t size) {
  const httplib::Request& req = context.request;
  const TokenRecord& token = context.Token();
  Status status;
  // The writer's key (HttpBackend sends a random one per process): with a
  // machine token, only the process that wrote a lock may remove it.
  if (object.kind == ObjectKind::kLock && req.has_param("owner_key")) {
    status = state_.store().SetLockOwner(token.machine->id, object.name,
                                         HashToken(req.get_param_value("owner_key")));
    if (!status.ok()) return SendStatus(context.response, status);
  }
  if (object.kind == ObjectKind::kSnapshot) {
    status = state_.store().AddRecoveryPoint(token.machine->id,
                                             {object.name, state_.clock().NowNanos(), size});
    if (!status.ok()) return SendStatus(context.response, status);
  }
  state_.metrics().RecordObjectStored(token.machine->vault, ObjectKindName(object.kind), size);
  SendJson(context.response, 201, {{"stored", true}});
}

void ObjectsHandler::Delete(RequestContext& context) {
  const httplib::Request& req = context.request;
  httplib::Response& res = context.response;
  const TokenRecord& token = context.Token();
  ObjectName object;
  if (!ParseObjectName(context.Param("kind"), context.Param("name"), &object))
    return SendError(res, 400, "bad_name", "not an object name");
  // Append-only: a machine may only release its own locks (below). Deleting
  // anything else needs the separately issued maintenance token.
  if (token.kind == TokenKind::kMachine && object.kind != ObjectKind::kLock)
    return SendError(res, 403, "forbidden",
                     "machine " + token.machine->name + " may not delete " +
                         ObjectKindName(object.kind) + " (machine tokens are append-only)");
  // A machine's processes share its token; each lock is bound to the key of
  // the process that wrote it, so a machine token cannot break another
  // process's lock (a running backup's, a prune's) — docs/protocol.md.
  if (token.kind == TokenKind::kMachine && object.kind == ObjectKind::kLock) {
    auto owner = state_.store().FindLockOwner(token.machine->id, object.name);
    if (!owner.ok() && !owner.status().IsNotFound()) return SendStatus(res, owner.status());
    bool own = owner.ok() && req.has_param("owner_key") &&
               *owner == HashToken(req.get_param_value("owner_key"));
    if (!own)
      return SendError(res, 403, "forbidden",
                       "lock " + object.name + " of machine " + token.machine->name +
                           " was written by another process; removing it needs the machine's "
                           "maintenance token (ferry machine maintenance-token)");
  }
  auto backend = state_.MachineBackend(*token.machine);
  if (!backend.ok()) return SendStatus(res, backend.status());
  Status status = (*backend)->Remove(object);
  if (!status.ok()) return SendStatus(res, state_.StorageFailure("remove", status));
  if (object.kind == ObjectKind::kLock) {
    status = state_.store().RemoveLockOwner(token.machine->id, object.name);
    if (!status.ok()) return SendStatus(res, status);
  }
  if (object.kind == ObjectKind::kSnapshot) {
    status = state_.store().RemoveRecoveryPoint(token.machine->id, object.name);
    if (!status.ok()) return SendStatus(res, status);
  }
  res.status = 204;
}

}  // namespace

void AddObjectRoutes(Router& router, VaultState& state) {
  auto handler = std::make_shared<ObjectsHandler>(state);
  // A listing is the kind's path with an empty name: KIND/.
  router.Add("GET", "/vault/v1/repository/{kind}/", Access::Machine(),
             [handler](RequestContext& context) { handler->List(context); });
  router.Add("GET", "/vault/v1/repository/{kind}/{name}", Access::Machine(),
             [handler](RequestContext& context) { handler->Get(context); });
  router.Add(
      "PUT", "/vault/v1/repository/{kind}/{name}", Access::Machine(),
      [handler](RequestContext& context) { handler->Put(context); }, Body::kStream);
  router.Add("DELETE", "/vault/v1/repository/{kind}/{name}", Access::Machine(),
             [handler](RequestContext& context) { handler->Delete(context); });
}

}  // namespace ferry
