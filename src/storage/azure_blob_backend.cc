#include "storage/azure_blob_backend.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "crypto/random.h"
#include "storage/azure_shared_key.h"
#include "storage/azure_xml.h"
#include "storage/backend_registry.h"
#include "storage/object_store_read.h"
#include "storage/retry_backend.h"

namespace ferry {

namespace {

// The service accepts at most 50,000 blocks per blob and 5,000 blobs per page.
constexpr size_t kMaxBlocks = 50000;
constexpr size_t kMaxPageSize = 5000;

bool IsContainerName(const std::string& name) {
  // 3–63 characters: lower-case letters, digits and single hyphens, starting
  // and ending with a letter or digit (the service's rule).
  if (name.size() < 3 || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '-') return false;
    if (c == '-' && (i == 0 || i + 1 == name.size() || name[i - 1] == '-')) return false;
  }
  return true;
}

bool IsAccountName(const std::string& name) {
  if (name.size() < 3 || name.size() > 24) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

std::string DefaultEndpoint(const std::string& account) {
  return "https://" + account + ".blob.core.windows.net";
}

TransportRequest MakeRequest(std::string method, std::string url) {
  TransportRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  return request;
}

}  // namespace

Result<AzureBlobLocation> ParseAzureBlobLocation(const std::string& address) {
  auto invalid = [&](const std::string& why) {
    return Status::InvalidArgument("storage location 'azure://" + address + "': " + why +
                                   " (azure://CONTAINER[/PREFIX]?account=NAME[&endpoint=URL])");
  };
  auto split = SplitObjectStoreAddress(address, {"account", "endpoint"});
  if (!split.ok()) return invalid(split.status().message());
  AzureBlobLocation location;
  location.container = split->name;
  location.prefix = split->prefix;
  if (!IsContainerName(location.container))
    return invalid("'" + location.container +
                   "' is not a container name (3-63 lower-case letters, digits and hyphens)");
  if (auto account = split->parameters.find("account"); account != split->parameters.end()) {
    if (!IsAccountName(account->second))
      return invalid("'" + account->second +
                     "' is not a storage account name (3-24 lower-case letters and digits)");
    location.account = account->second;
  }
  if (auto given = split->parameters.find("endpoint"); given != split->parameters.end()) {
    std::string endpoint = given->second;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    bool http = endpoint.rfind("http://", 0) == 0, https = endpoint.rfind("https://", 0) == 0;
    size_t host = endpoint.find("://") + 3;
    if ((!http && !https) || endpoint.size() <= host)
      return invalid("the endpoint must be an http:// or https:// URL");
    if (endpoint.find_first_of("?#@ ", host) != std::string::npos)
      return invalid(
          "the endpoint must not have a query, a fragment, user information or "
          "spaces (credentials go in FERRY_AZURE_*)");
    location.endpoint = endpoint;
  }
  return location;
}

AzureBlobBackend::AzureBlobBackend(AzureBlobLocation location, AzureCredential credential,
                                   AzureBlobOptions options)
    : location_(std::move(location)),
      credential_(std::move(credential)),
      options_(std::move(options)) {
  HttpTransportOptions transport;
  transport.ca_file = options_.ca_file;
  transport.label = "Azure Blob account " + location_.account;
  // The hook sees each attempt just before it is sent: a fresh x-ms-date
  // every time, and the SAS added where no message will show it.
  transport.sign = [this](TransportRequest& request) -> Status {
    if (credential_.kind == AzureCredential::Kind::kSharedKey)
      return SignSharedKey(request, location_.account, credential_.key);
    request.SetHeader("x-ms-date", HttpDate(std::time(nullptr)));
    request.SetHeader("x-ms-version", kAzureApiVersion);
    request.url += (request.url.find('?') == std::string::npos ? "?" : "&") + credential_.sas;
    return Status::Ok();
  };
  transport_ = std::make_unique<HttpTransport>(std::move(transport));
}

Result<std::unique_ptr<AzureBlobBackend>> AzureBlobBackend::Open(const AzureBlobLocation& given,
                                                                 AzureCredential credential,
                                                                 AzureBlobOptions options) {
  AzureBlobLocation location = given;
  if (!location.account.empty() && !credential.account.empty() &&
      location.account != credential.account)
    return Status::InvalidArgument("the location names account '" + location.account + "' but " +
                                   credential.source + " is for account '" + credential.account +
                                   "'");
  if (location.account.empty()) location.account = credential.account;
  if (location.account.empty())
    return Status::InvalidArgument("azure://" + location.container +
                                   ": no storage account: add ?account=NAME to the location");
  if (location.endpoint.empty()) location.endpoint = credential.blob_endpoint;
  if (location.endpoint.empty()) location.endpoint = DefaultEndpoint(location.account);
  while (location.endpoint.back() == '/') location.endpoint.pop_back();
  if (options.block_size == 0) return Status::InvalidArgument("block size 0");
  options.list_page_size = std::clamp<size_t>(options.list_page_size, 1, kMaxPageSize);
  return std::unique_ptr<AzureBlobBackend>(
      new AzureBlobBackend(std::move(location), std::move(credential), std::move(options)));
}

std::string AzureBlobBackend::Location() const {
  std::string text = "azure://" + location_.container +
                     (location_.prefix.empty() ? "" : "/" + location_.prefix) +
                     "?account=" + location_.account;
  if (location_.endpoint != DefaultEndpoint(location_.account))
    text += "&endpoint=" + location_.endpoint;
  return text;
}

std::string AzureBlobBackend::ContainerUrl() const {
  return location_.endpoint + "/" + location_.container;
}

std::string AzureBlobBackend::BlobPath(const ObjectName& name) const {
  return (location_.prefix.empty() ? "" : location_.prefix + "/") + name.Path();
}

std::string AzureBlobBackend::BlobUrl(const ObjectName& name) const {
  return ContainerUrl() + "/" + PercentEncode(BlobPath(name), /*keep_slashes=*/true);
}

Status AzureBlobBackend::AnswerStatus(const TransportResponse& response,
                                      const std::string& what) const {
  AzureError error = ParseAzureError(response.body);
  std::string detail = error.code;
  if (detail.empty()) detail = response.Header("x-ms-error-code").substr(0, 100);
  if (!error.message.empty()) detail += (detail.empty() ? "" : ": ") + error.message;
  if (response.status == 403 || error.code == "AuthenticationFailed") {
    std::string hint = credential_.kind == AzureCredential::Kind::kSharedKey
                           ? "check that it is a current key of account '" + location_.account + "'"
                           : "check the token's permissions, services, resource types and expiry";
    return Status::PermissionDenied(what + ": authentication failed: the service refused " +
                                    credential_.source + " (" +
                                    (detail.empty() ? "HTTP 403" : detail) + "); " + hint)
        .Permanent();
  }
  return StatusForHttpAnswer(response.status, what, detail);
}

Result<TransportResponse> AzureBlobBackend::Send(const TransportRequest& request,
                                                 const std::string& what) {
  ASSIGN_OR_RETURN(TransportResponse response, transport_->Perform(request));
  if (response.status / 100 != 2) return AnswerStatus(response, what);
  return response;
}

Status AzureBlobBackend::Create() {
  std::string what = Location() + ": creating container " + location_.container;
  TransportRequest request = MakeRequest("PUT", ContainerUrl() + "?restype=container");
  auto created = transport_->Perform(request);
  if (!created.ok()) return created.status();
  if (created->status / 100 != 2) {
    Status status = AnswerStatus(*created, what);
    bool exists = ParseAzureError(created->body).code == "ContainerAlreadyExists" ||
                  created->Header("x-ms-error-code") == "ContainerAlreadyExists";
    // A SAS scoped to one container may not create it, yet use it.
    bool sas_refused = status.code() == StatusCode::kPermissionDenied &&
                       credential_.kind == AzureCredential::Kind::kSas;
    if (!exists && !sas_refused) return status;
  }
  auto config = Stat(ObjectName::Config());
  if (config.ok())
    return Status::AlreadyExists(Location() + " already holds a repository (it has a config)");
  return config.status().IsNotFound() ? Status::Ok() : config.status();
}

Status AzureBlobBackend::PutBlob(const ObjectName& name, ByteView data, bool if_absent) {
  TransportRequest request = MakeRequest("PUT", BlobUrl(name));
  request.SetHeader("x-ms-blob-type", "BlockBlob");
  if (if_absent) request.SetHeader("If-None-Match", "*");
  request.body = data;
  auto response = Send(request, Location() + ": writing " + name.Path());
  return response.status();
}

Status AzureBlobBackend::Put(const ObjectName& name, ByteView data) {
  return PutBlob(name, data, false);
}

Status AzureBlobBackend::PutIfAbsent(const ObjectName& name, ByteView data) {
  return PutBlob(name, data, true);
}

Result<uint64_t> AzureBlobBackend::Stat(const ObjectName& name) {
  return ObjectSizeFromHead(*transport_, MakeRequest("HEAD", BlobUrl(name)),
                            Location() + ": " + name.Path(),
                            [this](const TransportResponse& response, const std::string& what) {
                              return AnswerStatus(response, what);
                            });
}

Status AzureBlobBackend::ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                                    const std::function<Status(ByteView)>& sink) {
  RangedRead read;
  read.request = MakeRequest("GET", BlobUrl(name));
  read.range_header = "x-ms-range";
  read.offset = offset;
  read.length = length;
  read.what = Location() + ": reading " + name.Path();
  read.answer_status = [this](const TransportResponse& response, const std::string& what) {
    return AnswerStatus(response, what);
  };
  read.size = [this, &name] { return Stat(name); };
  return StreamObjectRange(*transport_, std::move(read), sink);
}

Result<Bytes> AzureBlobBackend::Get(const ObjectName& name, uint64_t offset, uint64_t length) {
  return GetByStreaming(*this, name, offset, length);
}

Status AzureBlobBackend::List(
    ObjectKind kind, const std::function<Status(const std::string& name, uint64_t size)>& visit) {
  if (kind == ObjectKind::kConfig) {
    auto size = Stat(ObjectName::Config());
    if (size.ok()) return visit("config", *size);
    return size.status().IsNotFound() ? Status::Ok() : size.status();
  }
  std::string base =
      (location_.prefix.empty() ? "" : location_.prefix + "/") + ObjectKindName(kind) + "/";
  std::string what = Location() + ": listing " + ObjectKindName(kind);
  // Names are at most 1 KiB and a blob's XML about 1 KiB more: a page that
  // is much larger than its entries can be is refused, not buffered.
  const uint64_t max_page_bytes = options_.list_page_size * 8192 + 65536;
  std::string marker;
  for (;;) {
    std::string url = ContainerUrl() +
                      "?restype=container&comp=list&prefix=" + PercentEncode(base) +
                      "&maxresults=" + std::to_string(options_.list_page_size);
    if (!marker.empty()) url += "&marker=" + PercentEncode(marker);
    AzureListParser parser(options_.list_page_size);
    uint64_t page_bytes = 0;
    std::function<Status(ByteView)> feed = [&](ByteView piece) -> Status {
      page_bytes += piece.size();
      if (page_bytes > max_page_bytes)
        return Status::Corruption(what + ": a listing page larger than " +
                                  HumanBytes(max_page_bytes));
      return parser.Feed(piece).WithContext(what);
    };
    TransportRequest request = MakeRequest("GET", url);
    request.sink = &feed;
    RETURN_IF_ERROR(Send(request, what).status());
    RETURN_IF_ERROR(parser.Finish().WithContext(what));
    for (const AzureBlobEntry& blob : parser.blobs()) {
      if (blob.name.compare(0, base.size(), base) != 0)
        return Status::Corruption(what +
                                  ": the service listed a blob outside the prefix asked for");
      std::string rest = blob.name.substr(base.size());
      std::string id = rest;
      if (kind == ObjectKind::kData) {
        // data/XX/ID, XX the first two digits of ID: anything else is not ours.
        if (rest.size() != 67 || rest[2] != '/' || rest.compare(0, 2, rest, 3, 2) != 0) continue;
        id = rest.substr(3);
      }
      if (!IsObjectId(id)) continue;
      RETURN_IF_ERROR(visit(id, blob.size));
    }
    if (parser.next_marker().empty()) return Status::Ok();
    if (parser.next_marker() == marker)
      return Status::Corruption(what + ": the service answered the same page twice");
    marker = parser.next_marker();
  }
}

Status AzureBlobBackend::Remove(const ObjectName& name) {
  std::string what = Location() + ": removing " + name.Path();
  ASSIGN_OR_RETURN(TransportResponse response,
                   transport_->Perform(MakeRequest("DELETE", BlobUrl(name))));
  if (response.status == 404) return Status::NotFound(what + ": no such object");
  if (response.status / 100 != 2) return AnswerStatus(response, what);
  return Status::Ok();
}

// Uploads a streamed object in blocks as they fill; holds at most one block.
class AzureBlockWriter : public ObjectWriter {
 public:
  AzureBlockWriter(AzureBlobBackend& backend, ObjectName name)
      : backend_(backend),
        name_(std::move(name)),
        retrier_(backend.options_.block_retry),
        // Concurrent writers of one name must not mix their blocks.
        token_(HexEncode(RandomBytes(8))) {}

  Status Write(ByteView data) override {
    if (!failed_.ok()) return failed_;
    if (committed_) return Status::Internal("write after commit");
    const size_t block_size = backend_.options_.block_size;
    while (!data.empty()) {
      if (buffer_.size() == block_size) RETURN_IF_ERROR(Fail(UploadBlock()));
      if (buffer_.capacity() < block_size) buffer_.reserve(block_size);
      size_t take = std::min(block_size - buffer_.size(), data.size());
      AppendBytes(buffer_, data.subspan(0, take));
      data = data.subspan(take);
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (!failed_.ok()) return failed_;
    if (committed_) return Status::Internal("commit twice");
    // An object that fits in one block is one Put Blob.
    if (blocks_.empty()) {
      RETURN_IF_ERROR(Fail(retrier_.Run([&](int) { return backend_.Put(name_, buffer_); })));
    } else {
      if (!buffer_.empty()) RETURN_IF_ERROR(Fail(UploadBlock()));
      std::string list = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
      for (const std::string& id : blocks_) list += "<Latest>" + id + "</Latest>";
      list += "</BlockList>";
      TransportRequest request = MakeRequest("PUT", backend_.BlobUrl(name_) + "?comp=blocklist");
      request.body = AsBytes(list);
      std::string what = backend_.Location() + ": committing " + name_.Path();
      RETURN_IF_ERROR(
          Fail(retrier_.Run([&](int) { return backend_.Send(request, what).status(); })));
    }
    committed_ = true;
    buffer_ = Bytes();
    return Status::Ok();
  }

 private:
  Status UploadBlock() {
    if (blocks_.size() >= kMaxBlocks)
      return Status::Unsupported(backend_.Location() + ": " + name_.Path() + " needs more than " +
                                 std::to_string(kMaxBlocks) + " blocks");
    // Every block ID of a blob must have the same length: a fixed-width index.
    char index[16];
    std::snprintf(index, sizeof index, "%06zu", blocks_.size());
    std::string id = Base64Encode(AsBytes(token_ + "-" + index));
    TransportRequest request =
        MakeRequest("PUT", backend_.BlobUrl(name_) + "?comp=block&blockid=" + PercentEncode(id));
    request.body = buffer_;
    std::string what = backend_.Location() + ": writing block " + std::to_string(blocks_.size()) +
                       " of " + name_.Path();
    RETURN_IF_ERROR(retrier_.Run([&](int) { return backend_.Send(request, what).status(); }));
    blocks_.push_back(id);
    buffer_.clear();
    return Status::Ok();
  }

  Status Fail(Status status) {
    if (!status.ok()) failed_ = status;
    return status;
  }

  AzureBlobBackend& backend_;
  ObjectName name_;
  Retrier retrier_;
  std::string token_;
  Bytes buffer_;
  std::vector<std::string> blocks_;
  bool committed_ = false;
  Status failed_;
};

Result<std::unique_ptr<ObjectWriter>> AzureBlobBackend::OpenWriter(const ObjectName& name) {
  return std::unique_ptr<ObjectWriter>(new AzureBlockWriter(*this, name));
}

Status AzureBlobBackend::CopyFrom(Backend& source_backend, const ObjectName& name) {
  auto* source = dynamic_cast<AzureBlobBackend*>(&source_backend.Undecorated());
  std::string what = Location() + ": copying " + name.Path() + " from " + source_backend.Location();
  if (!source) return Status::Unsupported(what + ": the source is not on Azure Blob");
  std::string source_url = source->BlobUrl(name);
  if (source->credential_.kind == AzureCredential::Kind::kSas) {
    source_url += "?" + source->credential_.sas;
  } else if (source->location_.account != location_.account ||
             source->location_.endpoint != location_.endpoint) {
    return Status::Unsupported(what + ": a copy from another account needs a SAS token for it");
  }
  TransportRequest request = MakeRequest("PUT", BlobUrl(name));
  request.SetHeader("x-ms-copy-source", source_url);
  ASSIGN_OR_RETURN(TransportResponse response, Send(request, what));
  // Within an account the copy is usually done at once; otherwise poll the
  // blob's copy status, backing off, for as long as a large copy can take.
  std::string copy_status = response.Header("x-ms-copy-status");
  double delay = 0.1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(30);
  while (copy_status == "pending") {
    if (std::chrono::steady_clock::now() > deadline)
      return Status::IOError(what + ": still pending after 30 minutes").Retryable();
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    delay = std::min(delay * 2, 5.0);
    ASSIGN_OR_RETURN(TransportResponse head, Send(MakeRequest("HEAD", BlobUrl(name)), what));
    copy_status = head.Header("x-ms-copy-status");
    response = std::move(head);
  }
  if (copy_status != "success" && !copy_status.empty()) {
    std::string description = response.Header("x-ms-copy-status-description").substr(0, 200);
    // It might quote the source URL, and so a SAS.
    if (size_t query = description.find('?'); query != std::string::npos) description.resize(query);
    return Status::IOError(what + ": the copy ended " + copy_status.substr(0, 20) +
                           (description.empty() ? "" : " (" + description + ")"))
        .Retryable();
  }
  return Status::Ok();
}

void RegisterAzureBlobBackend(BackendRegistry& registry) {
  registry.Register(
      "azure",
      "azure://CONTAINER[/PREFIX]?account=NAME[&endpoint=URL] (Azure Blob; credential from "
      "FERRY_AZURE_CONNECTION_STRING, FERRY_AZURE_ACCOUNT_KEY or FERRY_AZURE_SAS_TOKEN)",
      [](const StorageLocation& location) -> Result<std::unique_ptr<Backend>> {
        ASSIGN_OR_RETURN(AzureBlobLocation parsed, ParseAzureBlobLocation(location.address));
        ASSIGN_OR_RETURN(AzureCredential credential, LoadAzureCredential());
        ASSIGN_OR_RETURN(std::unique_ptr<AzureBlobBackend> backend,
                         AzureBlobBackend::Open(parsed, std::move(credential)));
        return std::unique_ptr<Backend>(std::make_unique<RetryBackend>(std::move(backend)));
      });
}

}  // namespace ferry
