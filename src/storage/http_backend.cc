#include "storage/http_backend.h"

#include <nlohmann/json.hpp>

#include "crypto/random.h"

namespace ferry {

HttpBackend::HttpBackend(HttpClientOptions options)
    : client_(std::move(options)), lock_key_(HexEncode(RandomBytes(32))) {}

std::string HttpBackend::Location() const { return client_.Describe(); }

BackendStats HttpBackend::stats() const { return client_.stats(); }

namespace {
std::string ObjectPath(const ObjectName& name) {
  return std::string("/vault/v1/repository/") + ObjectKindName(name.kind) + "/" + name.name;
}
// Hex: nothing to escape in a query.
std::string LockPath(const ObjectName& name, const std::string& key) {
  return ObjectPath(name) + (name.kind == ObjectKind::kLock ? "?owner_key=" + key : "");
}
}  // namespace

Status HttpBackend::CheckVersion() {
  HttpRequest request{"GET", "/vault/v1/version", {}, "", "", nullptr};
  ASSIGN_OR_RETURN(HttpResponse response, client_.Perform(request));
  if (response.status != 200) return client_.ErrorFor(request, response);
  auto document = nlohmann::json::parse(response.body.begin(), response.body.end(), nullptr, false);
  if (!document.is_object() || !document.contains("protocol"))
    return Status::Unsupported(client_.options().server + " does not look like a ferry vault");
  int protocol = document.value("protocol", 0);
  int minimum = document.value("min_client_protocol", 0);
  if (protocol < kClientProtocol)
    return Status::Unsupported("the vault at " + client_.options().server + " runs " +
                               document.value("server", std::string("an old ferry")) +
                               " (protocol " + std::to_string(protocol) +
                               "), which is too old for this agent; upgrade the server");
  if (minimum > kClientProtocol)
    return Status::Unsupported("the vault at " + client_.options().server + " needs protocol " +
                               std::to_string(minimum) + "; this agent speaks " +
                               std::to_string(kClientProtocol) +
                               " — upgrade ferry on this machine");
  return Status::Ok();
}

Status HttpBackend::Create() {
  auto existing = Stat(ObjectName::Config());
  if (existing.ok())
    return Status::AlreadyExists("a repository already exists in " + client_.Describe());
  if (!existing.status().IsNotFound()) return existing.status();
  return Status::Ok();  // the vault made the layout when the machine was registered
}

Status HttpBackend::Put(const ObjectName& name, ByteView data) {
  HttpRequest request{"PUT", LockPath(name, lock_key_),  data,
                      "",    "application/octet-stream", nullptr};
  ASSIGN_OR_RETURN(HttpResponse response, client_.Perform(request));
  if (response.status == 200 || response.status == 201) return Status::Ok();
  return client_.ErrorFor(request, response);
}

Status HttpBackend::PutIfAbsent(const ObjectName& name, ByteView data) {
  HttpRequest request{"PUT", LockPath(name, lock_key_),  data,
                      "",    "application/octet-stream", nullptr};
  request.write_once = true;
  ASSIGN_OR_RETURN(HttpResponse response, client_.Perform(request));
  if (response.status == 201) return Status::Ok();
  return client_.ErrorFor(request, response);  // 409: AlreadyExists
}

Result<Bytes> HttpBackend::Get(const ObjectName& name, uint64_t offset, uint64_t length) {
  HttpRequest request{"GET", ObjectPath(name), {}, "", "", nullptr};
  if (offset != 0 || length != kToEnd) {
    if (length == 0) return Bytes();
    request.range = std::to_string(offset) + "-" +
                    (length == kToEnd ? "" : std::to_string(offset + length - 1));
  }
  ASSIGN_OR_RETURN(HttpResponse response, client_.Perform(request));
  if (response.status != 200 && response.status != 206) return client_.ErrorFor(request, response);
  if (length != kToEnd && response.body.size() != length)
    return Status::Corruption(client_.Describe() + ": " + request.path + ": got " +
                              std::to_string(response.body.size()) + " bytes, asked for " +
                              std::to_string(length));
  return std::move(response.body);
}

Status HttpBackend::ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                               const std::function<Status(ByteView)>& sink) {
  if (length == 0) return Status::Ok();
  HttpRequest request{"GET", ObjectPath(name), {}, "", "", &sink};
  if (offset != 0 || length != kToEnd)
    request.range = std::to_string(offset) + "-" +
                    (length == kToEnd ? "" : std::to_string(offset + length - 1));
  ASSIGN_OR_RETURN(HttpResponse response, client_.Perform(request));
  if (response.status != 200 && response.status != 206) return client_.ErrorFor(request, response);
  return Status::Ok();
}

Result<uint64_t> HttpBackend::Stat(const ObjectName& name) {
  HttpRequest request{"HEAD", ObjectPath(name), {}, "", "", nullptr};
  ASSIGN_OR_RETURN(HttpResponse response, client_.Perform(request));
  if (response.status != 200) {
    if (response.status == 404)
      return Status::NotFound(client_.Describe() + ": " + ObjectKindName(name.kind) + "/" +
                              name.name + " does not exist");
    return client_.ErrorFor(request, response);
  }
  return response.content_length;
}

Status HttpBackend::List(ObjectKind kind,
                         const std::function<Status(const std::string&, uint64_t)>& visit) {
  HttpRequest request{"GET", std::string("/vault/v1/repository/") + ObjectKindName(kind) + "/",
                      {},    "",
                      "",    nullptr};
  ASSIGN_OR_RETURN(HttpResponse response, client_.Perform(request));
  if (response.status != 200) return client_.ErrorFor(request, response);
  auto document = nlohmann::json::parse(response.body.begin(), response.body.end(), nullptr, false);
  if (!document.is_array())
    return Status::Corruption(client_.Describe() + ": listing of " + ObjectKindName(kind) +
                              " is not a JSON array");
  for (const auto& entry : document) {
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
        !entry.contains("size") || !entry["size"].is_number_unsigned())
      return Status::Corruption(client_.Describe() + ": malformed listing entry");
    std::string object = entry["name"];
    if (kind != ObjectKind::kConfig && !IsObjectId(object)) continue;
    RETURN_IF_ERROR(visit(object, entry["size"].get<uint64_t>()));
  }
  return Status::Ok();
}

Status HttpBackend::Remove(const ObjectName& name) {
  HttpRequest request{"DELETE", LockPath(name, lock_key_), {}, "", "", nullptr};
  ASSIGN_OR_RETURN(HttpResponse response, client_.Perform(request));
  if (response.status == 204 || response.status == 200) return Status::Ok();
  return client_.ErrorFor(request, response);
}

}  // namespace ferry
