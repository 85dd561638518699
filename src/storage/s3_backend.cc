#include "storage/s3_backend.h"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>

#include "crypto/hash.h"
#include "storage/backend_registry.h"
#include "storage/object_store_read.h"
#include "storage/retry_backend.h"
#include "storage/s3_xml.h"

namespace ferry {

namespace {

// S3 answers at most 1000 keys per listing page.
constexpr size_t kMaxPageSize = 1000;

TransportRequest MakeRequest(std::string method, std::string url) {
  TransportRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  return request;
}

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Lets one write-once Put of an object run at a time in this process, so
// that the HEAD before it sees the object a concurrent writer just stored
// even on a service that ignores If-None-Match. Keyed by URL: two backends
// on one bucket share it.
class WriteOnceGate {
 public:
  static WriteOnceGate& ForProcess() {
    static WriteOnceGate gate;
    return gate;
  }

  class Held {
   public:
    Held(WriteOnceGate& gate, std::string key) : gate_(gate), key_(std::move(key)) {
      std::unique_lock lock(gate_.mutex_);
      gate_.changed_.wait(lock, [&] { return !gate_.busy_.contains(key_); });
      gate_.busy_.insert(key_);
    }
    ~Held() {
      {
        std::lock_guard lock(gate_.mutex_);
        gate_.busy_.erase(key_);
      }
      gate_.changed_.notify_all();
    }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;

   private:
    WriteOnceGate& gate_;
    std::string key_;
  };

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<std::string> busy_;
};

}  // namespace

Status S3AnswerStatus(const TransportResponse& response, const std::string& what,
                      const S3Location& location, const std::string& credential_source) {
  S3Error error = ParseS3Error(response.body);
  std::string detail = error.code;
  if (!error.message.empty()) detail += (detail.empty() ? "" : ": ") + error.message;
  const std::string& code = error.code;
  if (code == "NoSuchBucket")
    return Status::NotFound(what + ": bucket '" + location.bucket + "' does not exist at " +
                            location.endpoint + " (" + detail +
                            "); create it first: ferry does not create buckets")
        .Permanent();
  if (response.status == 403 || code == "AccessDenied" || code == "InvalidAccessKeyId" ||
      code == "SignatureDoesNotMatch" || code == "ExpiredToken" || code == "InvalidToken" ||
      code == "RequestTimeTooSkewed") {
    std::string hint =
        code == "RequestTimeTooSkewed"
            ? "this machine's clock is off by more than 15 minutes"
            : "check that the key is current and may use bucket '" + location.bucket + "'";
    return Status::PermissionDenied(what + ": the service refused " + credential_source + " (" +
                                    (detail.empty() ? "HTTP 403" : detail) + "); " + hint)
        .Permanent();
  }
  // Throttling and S3's own transient failures, whatever status they come with.
  if (code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
      code == "ServiceUnavailable")
    return Status::IOError(what + ": " + detail + " (HTTP " + std::to_string(response.status) + ")")
        .Retryable();
  if (code == "NoSuchKey" || code == "NoSuchUpload") return Status::NotFound(what + ": " + detail);
  // A 200 that carried an <Error> (CompleteMultipartUpload, CopyObject) is not a success.
  if (response.status / 100 == 2)
    return Status::IOError(what + ": " + (detail.empty() ? "an error" : detail) +
                           " in a 200 answer")
        .Retryable();
  return StatusForHttpAnswer(response.status, what, detail);
}

S3Backend::S3Backend(S3Location location, S3Credentials credentials, S3Options options)
    : location_(std::move(location)),
      signer_(std::move(credentials), location_.region),
      options_(std::move(options)) {
  HttpTransportOptions transport;
  transport.ca_file = options_.ca_file;
  transport.label = "S3 bucket " + location_.bucket;
  // The hook signs each attempt just before it is sent: a fresh x-amz-date every time.
  transport.sign = [this](TransportRequest& request) { return signer_.Sign(request); };
  transport_ = std::make_unique<HttpTransport>(std::move(transport));
}

Result<std::unique_ptr<S3Backend>> S3Backend::Open(const S3Location& location,
                                                   S3Credentials credentials, S3Options options) {
  if (options.part_size == 0) return Status::InvalidArgument("S3 part size 0");
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty())
    return Status::InvalidArgument(location.ToString() + ": " + credentials.source +
                                   " lacks an access key ID or a secret key");
  options.list_page_size = std::clamp<size_t>(options.list_page_size, 1, kMaxPageSize);
  return std::unique_ptr<S3Backend>(
      new S3Backend(location, std::move(credentials), std::move(options)));
}

std::string S3Backend::ObjectUrl(const ObjectName& name) const {
  return location_.ObjectUrl(Key(name));
}

Status S3Backend::AnswerStatus(const TransportResponse& response, const std::string& what) const {
  return S3AnswerStatus(response, what, location_, signer_.credentials().source);
}

Result<TransportResponse> S3Backend::Send(const TransportRequest& request,
                                          const std::string& what) {
  ASSIGN_OR_RETURN(TransportResponse response, transport_->Perform(request));
  if (response.status / 100 != 2) return AnswerStatus(response, what);
  return response;
}

Status S3Backend::Create() {
  std::string what = Location() + ": checking bucket '" + location_.bucket + "'";
  ASSIGN_OR_RETURN(TransportResponse bucket,
                   transport_->Perform(MakeRequest("HEAD", location_.BucketUrl())));
  if (bucket.status == 404)
    return Status::NotFound(what + ": bucket '" + location_.bucket + "' does not exist at " +
                            location_.endpoint +
                            "; create it first (ferry does not create buckets)");
  if (std::string region = bucket.Header("x-amz-bucket-region");
      (bucket.status == 301 || bucket.status == 400) && !region.empty())
    return Status::InvalidArgument(what + ": the bucket is in region '" + region.substr(0, 64) +
                                   "', not '" + location_.region +
                                   "': add &region=" + region.substr(0, 64) + " to the location");
  if (bucket.status / 100 != 2) return AnswerStatus(bucket, what);
  auto config = Stat(ObjectName::Config());
  if (config.ok())
    return Status::AlreadyExists(Location() + " already holds a repository (it has a config)");
  return config.status().IsNotFound() ? Status::Ok() : config.status();
}

Status S3Backend::PutObject(const ObjectName& name, ByteView data, bool if_absent) {
  TransportRequest request = MakeRequest("PUT", ObjectUrl(name));
  // Hashed once here, not again by the signer on each attempt.
  request.SetHeader("x-amz-content-sha256", Sha256(data).Hex());
  if (if_absent) request.SetHeader("If-None-Match", "*");
  request.body = data;
  return Send(request, Location() + ": writing " + name.Path()).status();
}

Status S3Backend::Put(const ObjectName& name, ByteView data) {
  return PutObject(name, data, false);
}

Status S3Backend::PutIfAbsent(const ObjectName& name, ByteView data) {
  WriteOnceGate::Held held(WriteOnceGate::ForProcess(), ObjectUrl(name));
  auto existing = Stat(name);
  if (existing.ok())
    return Status::AlreadyExists(Location() + ": " + name.Path() + " already exists");
  if (!existing.status().IsNotFound()) return existing.status();
  Status put = PutObject(name, data, true);
  if (put.code() == StatusCode::kAlreadyExists)
    return Status::AlreadyExists(Location() + ": " + name.Path() +
                                 " already exists (PreconditionFailed)");
  return put;
}

Result<uint64_t> S3Backend::Stat(const ObjectName& name) {
  return ObjectSizeFromHead(*transport_, MakeRequest("HEAD", ObjectUrl(name)),
                            Location() + ": " + name.Path(),
                            [this](const TransportResponse& response, const std::string& what) {
                              return AnswerStatus(response, what);
                            });
}

Status S3Backend::ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                             const std::function<Status(ByteView)>& sink) {
  RangedRead read;
  read.request = MakeRequest("GET", ObjectUrl(name));
  read.range_header = "Range";
  read.offset = offset;
  read.length = length;
  read.what = Location() + ": reading " + name.Path();
  read.answer_status = [this](const TransportResponse& response, const std::string& what) {
    return AnswerStatus(response, what);
  };
  read.size = [this, &name] { return Stat(name); };
  return StreamObjectRange(*transport_, std::move(read), sink);
}

Result<Bytes> S3Backend::Get(const ObjectName& name, uint64_t offset, uint64_t length) {
  return GetByStreaming(*this, name, offset, length);
}

Status S3Backend::List(ObjectKind kind,
                       const std::function<Status(const std::string& name, uint64_t size)>& visit) {
  if (kind == ObjectKind::kConfig) {
    auto size = Stat(ObjectName::Config());
    if (size.ok()) return visit("config", *size);
    return size.status().IsNotFound() ? Status::Ok() : size.status();
  }
  const std::string base = location_.Key(std::string(ObjectKindName(kind)) + "/");
  const std::string what = Location() + ": listing " + ObjectKindName(kind);
  std::string token;
  for (;;) {
    std::string url = location_.BucketUrl() + "?list-type=2&prefix=" + PercentEncode(base) +
                      "&max-keys=" + std::to_string(options_.list_page_size);
    if (!token.empty()) url += "&continuation-token=" + PercentEncode(token);
    // XmlDocument caps the page's size, depth and element count.
    XmlDocument document;
    std::function<Status(ByteView)> feed = [&](ByteView piece) {
      return document.Feed(piece).WithContext(what);
    };
    TransportRequest request = MakeRequest("GET", url);
    request.sink = &feed;
    RETURN_IF_ERROR(Send(request, what).status());
    RETURN_IF_ERROR(document.Finish().WithContext(what));
    auto page = ParseListPage(document.root(), options_.list_page_size);
    if (!page.ok()) return page.status().WithContext(what);
    for (const S3ListPage::Entry& entry : page->entries) {
      if (entry.key.compare(0, base.size(), base) != 0)
        return Status::Corruption(what +
                                  ": the service listed an object outside the prefix asked for");
      std::string rest = entry.key.substr(base.size());
      std::string id = rest;
      if (kind == ObjectKind::kData) {
        // data/XX/ID, XX the first two digits of ID: anything else is not ours.
        if (rest.size() != 67 || rest[2] != '/' || rest.compare(0, 2, rest, 3, 2) != 0) continue;
        id = rest.substr(3);
      }
      if (!IsObjectId(id)) continue;
      RETURN_IF_ERROR(visit(id, entry.size));
    }
    if (!page->truncated) return Status::Ok();
    if (page->next_token == token)
      return Status::Corruption(what + ": the service answered the same page twice");
    token = page->next_token;
  }
}

Status S3Backend::Remove(const ObjectName& name) {
  std::string what = Location() + ": removing " + name.Path();
  // S3 answers a DELETE of a missing key with 204 like any other: only a
  // HEAD first tells a missing object from a removed one.
  if (Status exists = Stat(name).status(); !exists.ok())
    return exists.IsNotFound() ? Status::NotFound(what + ": no such object") : exists;
  ASSIGN_OR_RETURN(TransportResponse response,
                   transport_->Perform(MakeRequest("DELETE", ObjectUrl(name))));
  if (response.status == 404) return Status::NotFound(what + ": no such object");
  if (response.status / 100 != 2) return AnswerStatus(response, what);
  return Status::Ok();
}

// Uploads a streamed object in parts as they fill; holds at most one part.
// An object that fits in one part is one PUT on Commit; a larger one is a
// multipart upload, started when the second part begins, which nothing lists
// as an object until CompleteMultipartUpload.
class S3PartWriter : public ObjectWriter {
 public:
  S3PartWriter(S3Backend& backend, ObjectName name)
      : backend_(backend),
        name_(std::move(name)),
        url_(backend.ObjectUrl(name_)),
        retrier_(backend.options_.part_retry) {}

  ~S3PartWriter() override {
    if (committed_ || upload_id_.empty()) return;
    // Best effort: an upload left behind holds its parts (and, on AWS, costs)
    // until a lifecycle rule removes it, but is never listed as an object.
    auto aborted = backend_.transport_->Perform(MakeRequest("DELETE", UploadUrl("")));
    aborted.status().IgnoreError();
  }

  Status Write(ByteView data) override {
    if (!failed_.ok()) return failed_;
    if (committed_) return Status::Internal("write after commit");
    const size_t part_size = backend_.options_.part_size;
    while (!data.empty()) {
      if (buffer_.size() == part_size) RETURN_IF_ERROR(Fail(UploadPart()));
      if (buffer_.capacity() < part_size) buffer_.reserve(part_size);
      size_t take = std::min(part_size - buffer_.size(), data.size());
      AppendBytes(buffer_, data.subspan(0, take));
      data = data.subspan(take);
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (!failed_.ok()) return failed_;
    if (committed_) return Status::Internal("commit twice");
    if (upload_id_.empty()) {
      RETURN_IF_ERROR(Fail(retrier_.Run([&](int) { return backend_.Put(name_, buffer_); })));
    } else {
      if (!buffer_.empty()) RETURN_IF_ERROR(Fail(UploadPart()));
      RETURN_IF_ERROR(Fail(Complete()));
    }
    committed_ = true;
    buffer_ = Bytes();
    return Status::Ok();
  }

 private:
  std::string UploadUrl(const std::string& query) const {
    return url_ + "?" + query + (query.empty() ? "" : "&") +
           "uploadId=" + PercentEncode(upload_id_);
  }

  std::string What(const std::string& doing) const {
    return backend_.Location() + ": " + doing + " " + name_.Path();
  }

  // A 2xx answer whose body must be the XML document `root` (S3 may answer
  // 200 and put an <Error> in the body).
  Result<XmlElement> SendForXml(const TransportRequest& request, const std::string& root,
                                const std::string& what) {
    ASSIGN_OR_RETURN(TransportResponse response, backend_.Send(request, what));
    auto document = ParseXml(response.body);
    if (!document.ok()) return document.status().WithContext(what).Retryable();
    if (document->name == "Error") return backend_.AnswerStatus(response, what);
    if (document->name != root)
      return Status::Corruption(what + ": the answer is a <" + document->name.substr(0, 40) +
                                ">, not a <" + root + ">");
    return std::move(*document);
  }

  Status Start() {
    std::string what = What("starting a multipart upload of");
    return retrier_.Run([&](int) -> Status {
      ASSIGN_OR_RETURN(XmlElement result, SendForXml(MakeRequest("POST", url_ + "?uploads"),
                                                     "InitiateMultipartUploadResult", what));
      std::string id = result.ChildText("UploadId");
      if (id.empty() || id.size() > 1024)
        return Status::Corruption(what + ": the answer holds no usable UploadId");
      upload_id_ = id;
      return Status::Ok();
    });
  }

  Status UploadPart() {
    if (upload_id_.empty()) RETURN_IF_ERROR(Start());
    if (etags_.size() >= kS3MaxParts)
      return Status::Unsupported(What("writing") + ": needs more than " +
                                 std::to_string(kS3MaxParts) + " parts of " +
                                 HumanBytes(backend_.options_.part_size));
    size_t number = etags_.size() + 1;
    TransportRequest request =
        MakeRequest("PUT", UploadUrl("partNumber=" + std::to_string(number)));
    request.SetHeader("x-amz-content-sha256", Sha256(buffer_).Hex());  // once for all attempts
    request.body = buffer_;
    std::string what = What("writing part " + std::to_string(number) + " of");
    std::string etag;
    RETURN_IF_ERROR(retrier_.Run([&](int) -> Status {
      ASSIGN_OR_RETURN(TransportResponse response, backend_.Send(request, what));
      etag = response.Header("etag");
      if (etag.empty() || etag.size() > 200)
        return Status::Corruption(what + ": the answer has no usable ETag").Retryable();
      return Status::Ok();
    }));
    etags_.push_back(etag);
    uploaded_ += buffer_.size();
    buffer_.clear();
    return Status::Ok();
  }

  Status Complete() {
    std::string body =
        "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    for (size_t i = 0; i < etags_.size(); ++i)
      body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
              XmlEscape(etags_[i]) + "</ETag></Part>";
    body += "</CompleteMultipartUpload>";
    TransportRequest request = MakeRequest("POST", UploadUrl(""));
    request.body = AsBytes(body);
    std::string what = What("completing the multipart upload of");
    return retrier_.Run([&](int attempt) -> Status {
      auto result = SendForXml(request, "CompleteMultipartUploadResult", what);
      if (result.ok()) return Status::Ok();
      // An earlier attempt whose answer was lost may have completed it: then
      // the upload is gone and the object is there, whole. AWS answers such a
      // retry NoSuchUpload; others (s3rver) an InternalError, so any refusal
      // of a retry is checked against the object itself.
      if (attempt > 0) {
        auto size = backend_.Stat(name_);
        if (size.ok() && *size == uploaded_) return Status::Ok();
      }
      return result.status();
    });
  }

  Status Fail(Status status) {
    if (!status.ok()) failed_ = status;
    return status;
  }

  S3Backend& backend_;
  ObjectName name_;
  std::string url_;
  Retrier retrier_;
  Bytes buffer_;
  std::string upload_id_;
  std::vector<std::string> etags_;  // of parts 1, 2, …
  uint64_t uploaded_ = 0;
  bool committed_ = false;
  Status failed_;
};

Result<std::unique_ptr<ObjectWriter>> S3Backend::OpenWriter(const ObjectName& name) {
  return std::unique_ptr<ObjectWriter>(new S3PartWriter(*this, name));
}

Status S3Backend::CopyFrom(Backend& source_backend, const ObjectName& name) {
  auto* source = dynamic_cast<S3Backend*>(&source_backend.Undecorated());
  std::string what = Location() + ": copying " + name.Path() + " from " + source_backend.Location();
  if (!source) return Status::Unsupported(what + ": the source is not on S3");
  // This backend's credential signs the copy, so it must be able to read
  // the source: only the same key on the same service is sure to.
  if (source->location_.endpoint != location_.endpoint ||
      source->signer_.credentials().access_key_id != signer_.credentials().access_key_id)
    return Status::Unsupported(what + ": the source is on another service or uses another key");
  ASSIGN_OR_RETURN(uint64_t size, source->Stat(name));
  if (size > kS3MaxCopySize)
    return Status::Unsupported(what + ": " + HumanBytes(size) +
                               " is more than CopyObject can copy (5 GiB)");
  TransportRequest request = MakeRequest("PUT", ObjectUrl(name));
  request.SetHeader("x-amz-copy-source",
                    "/" + source->location_.bucket + "/" + PercentEncode(source->Key(name), true));
  ASSIGN_OR_RETURN(TransportResponse response, Send(request, what));
  // S3 may fail a copy after answering 200: the body then holds an <Error>.
  auto result = ParseXml(response.body);
  if (!result.ok()) return result.status().WithContext(what).Retryable();
  if (result->name == "Error") return AnswerStatus(response, what);
  if (result->name != "CopyObjectResult")
    return Status::Corruption(what + ": the answer is a <" + result->name.substr(0, 40) +
                              ">, not a <CopyObjectResult>");
  return Status::Ok();
}

Result<S3Options> S3OptionsFromEnvironment() {
  S3Options options;
  const char* ca_file = std::getenv("FERRY_S3_CA_FILE");
  if (ca_file != nullptr && *ca_file != '\0') {
    std::ifstream in(ca_file, std::ios::binary);
    if (!in) {
      return Status::InvalidArgument(std::string("FERRY_S3_CA_FILE: cannot read '") + ca_file +
                                     "'");
    }
    options.ca_file = ca_file;
  }
  return options;
}

void RegisterS3Backend(BackendRegistry& registry) {
  registry.Register(
      "s3",
      "s3://BUCKET[/PREFIX][?endpoint=URL][&region=R][&addressing=path|virtual] (AWS S3 or a "
      "compatible service; credential from FERRY_S3_ACCESS_KEY_ID + FERRY_S3_SECRET_ACCESS_KEY "
      "[+ FERRY_S3_SESSION_TOKEN], FERRY_S3_CREDENTIALS_FILE [+ FERRY_S3_PROFILE], or "
      "AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN])",
      [](const StorageLocation& location) -> Result<std::unique_ptr<Backend>> {
        ASSIGN_OR_RETURN(S3Location parsed, ParseS3Location(location));
        ASSIGN_OR_RETURN(S3Credentials credentials, LoadS3Credentials());
        ASSIGN_OR_RETURN(S3Options options, S3OptionsFromEnvironment());
        ASSIGN_OR_RETURN(std::unique_ptr<S3Backend> backend,
                         S3Backend::Open(parsed, std::move(credentials), std::move(options)));
        return std::unique_ptr<Backend>(std::make_unique<RetryBackend>(std::move(backend)));
      });
}

}  // namespace ferry
