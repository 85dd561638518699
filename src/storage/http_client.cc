#include "storage/http_client.h"

#include <curl/curl.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

namespace ferry {

namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

struct Transfer {
  ByteView upload;
  size_t upload_offset = 0;
  Bytes* download = nullptr;
  const std::function<Status(ByteView)>* sink = nullptr;
  Status sink_status;
  uint64_t sunk = 0;  // bytes the sink accepted
  uint64_t received = 0;
  long status = 0;
};

size_t ReadCallback(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = std::min(size * count, transfer->upload.size() - transfer->upload_offset);
  std::memcpy(buffer, transfer->upload.data() + transfer->upload_offset, n);
  transfer->upload_offset += n;
  return n;
}

int SeekCallback(void* user, curl_off_t offset, int origin) {
  auto* transfer = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > transfer->upload.size())
    return CURL_SEEKFUNC_FAIL;
  transfer->upload_offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t WriteCallback(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = size * count;
  transfer->received += n;
  ByteView bytes(reinterpret_cast<const uint8_t*>(data), n);
  // Error bodies are small JSON: keep them whole even when streaming.
  if (transfer->sink && transfer->status / 100 == 2) {
    transfer->sink_status = (*transfer->sink)(bytes);
    if (!transfer->sink_status.ok()) return 0;
    transfer->sunk += n;
    return n;
  }
  transfer->download->insert(transfer->download->end(), bytes.begin(), bytes.end());
  return n;
}

size_t HeaderCallback(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string line(data, size * count);
  // The status line comes first; remember the code so the body callback
  // knows whether it is streaming content or an error document.
  if (line.rfind("HTTP/", 0) == 0) {
    size_t space = line.find(' ');
    if (space != std::string::npos) transfer->status = std::atol(line.c_str() + space + 1);
  }
  return size * count;
}

std::string ErrorMessageFromBody(const Bytes& body) {
  auto document = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (document.is_object() && document.contains("error") && document["error"].is_object()) {
    const auto& error = document["error"];
    std::string message = error.value("message", "");
    std::string code = error.value("code", "");
    if (!message.empty()) return message + (code.empty() ? "" : " (" + code + ")");
  }
  return std::string(body.begin(),
                     body.begin() + static_cast<long>(std::min<size_t>(body.size(), 200)));
}

// Failures that the same request cannot get past by trying again.
bool PermanentCurlError(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return true;
    default:
      return false;
  }
}

}  // namespace

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {
  static CurlGlobal global;
  while (!options_.server.empty() && options_.server.back() == '/') options_.server.pop_back();
}

HttpClient::~HttpClient() {
  for (void* handle : handles_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

std::string HttpClient::Describe() const {
  return options_.label.empty() ? options_.server : options_.label + " at " + options_.server;
}

void* HttpClient::TakeHandle() {
  {
    std::lock_guard lock(handles_mutex_);
    if (!handles_.empty()) {
      void* handle = handles_.back();
      handles_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void HttpClient::ReturnHandle(void* handle) {
  std::lock_guard lock(handles_mutex_);
  handles_.push_back(handle);
}

Result<HttpResponse> HttpClient::PerformOnce(const HttpRequest& request, uint64_t* streamed) {
  CURL* curl = static_cast<CURL*>(TakeHandle());
  if (!curl) return Status::Internal("libcurl could not create a handle");
  curl_easy_reset(curl);
  HttpResponse response;
  Transfer transfer;
  transfer.upload = request.body;
  transfer.download = &response.body;
  transfer.sink = request.sink;
  std::string url = options_.server + request.path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  // A stalled transfer (server gone without closing) is abandoned and retried.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteCallback);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, HeaderCallback);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  struct curl_slist* headers = nullptr;
  std::string authorization = "Authorization: Bearer " + options_.token;
  if (!options_.token.empty()) headers = curl_slist_append(headers, authorization.c_str());
  std::string protocol = "Ferry-Protocol: " + std::to_string(kClientProtocol);
  headers = curl_slist_append(headers, protocol.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadCallback);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, SeekCallback);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    // Pack uploads are 16 MiB: fewer, larger socket writes.
    curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, reinterpret_cast<const char*>(request.body.data()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    transfer.upload_offset = request.body.size();
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (!request.range.empty()) curl_easy_setopt(curl, CURLOPT_RANGE, request.range.c_str());
  std::string content_type = "Content-Type: " + request.content_type;
  if (!request.content_type.empty()) headers = curl_slist_append(headers, content_type.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  ++requests_;
  bytes_sent_ += transfer.upload_offset;
  bytes_received_ += transfer.received;
  *streamed = transfer.sunk;
  if (code != CURLE_OK) {
    std::string message = curl_easy_strerror(code);
    ReturnHandle(curl);
    if (code == CURLE_WRITE_ERROR && !transfer.sink_status.ok()) return transfer.sink_status;
    Status failure =
        Status::IOError(Describe() + ": " + request.method + " " + request.path + ": " + message);
    return PermanentCurlError(code) ? failure : failure.Retryable();
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_off_t length = 0;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  response.content_length = length > 0 ? static_cast<uint64_t>(length) : 0;
  ReturnHandle(curl);
  std::string what = Describe() + ": " + request.method + " " + request.path + ": ";
  if (response.status == 507)
    return Status::NoSpace(what + ErrorMessageFromBody(response.body) + " (HTTP 507)");
  if (response.status >= 500 || response.status == 408 || response.status == 429)
    return Status::IOError(what + "server error " + std::to_string(response.status) + ": " +
                           ErrorMessageFromBody(response.body))
        .Retryable();
  return response;
}

Result<HttpResponse> HttpClient::Perform(const HttpRequest& request) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(options_.retry_seconds * 1000));
  double delay = 0.25;
  HttpRequest attempt = request;
  uint64_t range_start = 0;  // of the request's range ("A-B", "A-" or whole)
  std::string range_end;
  if (!request.range.empty()) {
    size_t dash = request.range.find('-');
    range_start = std::stoull(request.range.substr(0, dash));
    range_end = request.range.substr(dash + 1);
  }
  uint64_t delivered = 0;  // body bytes the sink has had, over every attempt
  for (;;) {
    uint64_t streamed = 0;
    auto response = PerformOnce(attempt, &streamed);
    delivered += streamed;
    if (response.ok() || !response.status().retryable() ||
        std::chrono::steady_clock::now() >= deadline)
      return response;
    if (request.sink && delivered > 0)
      attempt.range = std::to_string(range_start + delivered) + "-" + range_end;
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(delay * 1000)));
    delay = std::min(delay * 2, 8.0);
  }
}

Status HttpClient::ErrorFor(const HttpRequest& request, const HttpResponse& response) const {
  std::string message = Describe() + ": " + request.method + " " + request.path + ": " +
                        ErrorMessageFromBody(response.body);
  switch (response.status) {
    case 401:
      return Status::PermissionDenied(message + " — check the agent credentials file");
    case 403:
      return Status::PermissionDenied(message);
    case 404:
      return Status::NotFound(message);
    case 409:
      return Status::AlreadyExists(message);
    case 416:
      return Status::Corruption(message);
    case 422:
      return Status::Corruption(message);
    case 426:
      return Status::Unsupported(message);
    default:
      return Status::IOError(message + " (HTTP " + std::to_string(response.status) + ")");
  }
}

}  // namespace ferry
