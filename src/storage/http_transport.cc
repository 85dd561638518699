#include "storage/http_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace ferry {

namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

std::string FindHeader(const std::vector<HttpHeader>& headers, const std::string& name) {
  std::string wanted = AsciiLower(name);
  for (const auto& header : headers)
    if (AsciiLower(header.name) == wanted) return header.value;
  return "";
}

// The state of one transfer, shared with libcurl's callbacks.
struct Transfer {
  const TransportRequest* request = nullptr;
  size_t upload_offset = 0;
  Status source_status;
  TransportResponse* response = nullptr;
  Status sink_status;
  uint64_t received = 0;
  // The empty line that ends the last answer's headers has arrived. libcurl
  // (7.88) reports an answer whose connection closed in the middle of its
  // headers as a success, with whatever headers came: a HEAD would then say
  // "exists, length unknown" and a GET "empty object".
  bool headers_complete = false;
};

size_t ReadCallback(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const TransportRequest& request = *transfer->request;
  size_t capacity = size * count;
  if (request.body_source) {
    uint64_t left = request.body_length - transfer->upload_offset;
    if (left == 0) return 0;
    auto produced = request.body_source(reinterpret_cast<uint8_t*>(buffer),
                                        static_cast<size_t>(std::min<uint64_t>(capacity, left)));
    if (!produced.ok()) {
      transfer->source_status = produced.status();
      return CURL_READFUNC_ABORT;
    }
    if (*produced == 0) {
      transfer->source_status =
          Status::Internal("the upload's source ended " + std::to_string(left) + " bytes early");
      return CURL_READFUNC_ABORT;
    }
    transfer->upload_offset += *produced;
    return *produced;
  }
  size_t n = std::min(capacity, request.body.size() - transfer->upload_offset);
  std::memcpy(buffer, request.body.data() + transfer->upload_offset, n);
  transfer->upload_offset += n;
  return n;
}

// libcurl rewinds an upload only to resend it on the same handle (a reused
// connection the server had closed); a streamed source cannot go back.
int SeekCallback(void* user, curl_off_t offset, int origin) {
  auto* transfer = static_cast<Transfer*>(user);
  const TransportRequest& request = *transfer->request;
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_FAIL;
  if (request.body_source) {
    if (offset == 0 && transfer->upload_offset == 0) return CURL_SEEKFUNC_OK;
    return CURL_SEEKFUNC_CANTSEEK;
  }
  if (static_cast<size_t>(offset) > request.body.size()) return CURL_SEEKFUNC_FAIL;
  transfer->upload_offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t WriteCallback(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = size * count;
  transfer->received += n;
  ByteView bytes(reinterpret_cast<const uint8_t*>(data), n);
  // Error documents are small: keep them whole even when streaming.
  if (transfer->request->sink && transfer->response->status / 100 == 2) {
    transfer->sink_status = (*transfer->request->sink)(bytes);
    return transfer->sink_status.ok() ? n : 0;
  }
  // A hostile server cannot make us hold an endless error document.
  constexpr size_t kMaxBufferedError = 1 << 20;
  Bytes& body = transfer->response->body;
  if (transfer->response->status / 100 != 2 && body.size() + n > kMaxBufferedError) return n;
  body.insert(body.end(), bytes.begin(), bytes.end());
  return n;
}

size_t HeaderCallback(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  TransportResponse& response = *transfer->response;
  if (line.empty()) {
    transfer->headers_complete = true;
    return n;
  }
  // A status line starts each answer (there may be several: 100 Continue):
  // the body callback needs the code to know content from an error document.
  // (Only a status line reopens the headers: trailers after a chunked body
  // come here too.)
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->headers_complete = false;
    size_t space = line.find(' ');
    if (space != std::string::npos) response.status = std::atol(line.c_str() + space + 1);
    response.headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string::npos) return n;
  std::string value = line.substr(colon + 1);
  size_t first = value.find_first_not_of(" \t");
  value = first == std::string::npos ? "" : value.substr(first);
  constexpr size_t kMaxHeaders = 200;
  if (response.headers.size() < kMaxHeaders)
    response.headers.push_back({AsciiLower(line.substr(0, colon)), value});
  return n;
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

// The URL without its query: a SAS token or a presigned signature lives there.
std::string UrlForMessages(const std::string& url) { return url.substr(0, url.find('?')); }

// scheme://host:port of a URL, for "nothing answers at …".
std::string Origin(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return UrlForMessages(url);
  return url.substr(0, url.find_first_of("/?", scheme + 3));
}

// No server answered (as opposed to one that answered badly or stopped).
bool Unreachable(CURLcode code) {
  return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
         code == CURLE_COULDNT_RESOLVE_PROXY;
}

}  // namespace

std::string TransportRequest::Header(const std::string& name) const {
  return FindHeader(headers, name);
}

void TransportRequest::SetHeader(const std::string& name, std::string value) {
  std::string wanted = AsciiLower(name);
  for (auto& header : headers)
    if (AsciiLower(header.name) == wanted) {
      header.value = std::move(value);
      return;
    }
  headers.push_back({name, std::move(value)});
}

std::string TransportResponse::Header(const std::string& name) const {
  return FindHeader(headers, name);
}

std::string TransportResponse::BodyText(size_t limit) const {
  std::string text(body.begin(), body.begin() + static_cast<long>(std::min(body.size(), limit)));
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') c = ' ';
  return text;
}

HttpTransport::HttpTransport(HttpTransportOptions options) : options_(std::move(options)) {
  static CurlGlobal global;
}

HttpTransport::~HttpTransport() {
  for (void* handle : handles_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* HttpTransport::TakeHandle() {
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

void HttpTransport::ReturnHandle(void* handle) {
  std::lock_guard lock(handles_mutex_);
  handles_.push_back(handle);
}

Result<TransportResponse> HttpTransport::Perform(const TransportRequest& unsigned_request) {
  TransportRequest request = unsigned_request;
  std::string what = (options_.label.empty() ? "" : options_.label + ": ") + request.method + " " +
                     UrlForMessages(request.url);
  if (options_.sign) RETURN_IF_ERROR(options_.sign(request).WithContext(what));
  CURL* curl = static_cast<CURL*>(TakeHandle());
  if (!curl) return Status::Internal("libcurl could not create a handle");
  curl_easy_reset(curl);
  TransportResponse response;
  Transfer transfer;
  transfer.request = &request;
  transfer.response = &response;
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_seconds);
  // A stalled transfer (a server gone without closing) is abandoned.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options_.stall_seconds);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteCallback);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, HeaderCallback);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  uint64_t body_length = request.body_source ? request.body_length : request.body.size();
  bool has_body = request.method == "PUT" || request.method == "POST";
  if (has_body) {
    // UPLOAD sends PUT; a POST keeps its name through CUSTOMREQUEST.
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadCallback);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, SeekCallback);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_length));
    // Packs are 16 MiB: fewer, larger socket writes.
    curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
    if (request.method == "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  struct curl_slist* headers = nullptr;
  std::vector<std::string> lines;
  lines.reserve(request.headers.size() + 1);
  for (const auto& header : request.headers)
    // "Name;" sends a header with an empty value; "Name:" would drop it.
    lines.push_back(header.value.empty() ? header.name + ";" : header.name + ": " + header.value);
  lines.push_back("Expect:");  // no 100-continue round trip
  for (const auto& line : lines) headers = curl_slist_append(headers, line.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  ++requests_;
  bytes_sent_ += transfer.upload_offset;
  bytes_received_ += transfer.received;
  if (code != CURLE_OK) {
    std::string message = curl_easy_strerror(code);
    ReturnHandle(curl);
    if (code == CURLE_WRITE_ERROR && !transfer.sink_status.ok()) return transfer.sink_status;
    if (code == CURLE_ABORTED_BY_CALLBACK && !transfer.source_status.ok())
      return transfer.source_status;
    if (Unreachable(code)) {
      message += ": nothing answers at " + Origin(request.url);
      if (!options_.unreachable_hint.empty()) message += " (" + options_.unreachable_hint + ")";
    }
    Status failure = Status::IOError(what + ": " + message);
    return PermanentCurlError(code) ? failure : failure.Retryable();
  }
  if (!transfer.headers_complete) {
    ReturnHandle(curl);
    return Status::IOError(what + ": the connection closed in the middle of the answer's headers")
        .Retryable();
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_off_t length = 0;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  response.content_length = length > 0 ? static_cast<uint64_t>(length) : 0;
  ReturnHandle(curl);
  return response;
}

Status StatusForHttpAnswer(long status, const std::string& what, const std::string& detail) {
  std::string code = "HTTP " + std::to_string(status);
  std::string message = what + ": " + (detail.empty() ? code : detail);
  auto with_code = [&] { return detail.empty() ? message : message + " (" + code + ")"; };
  if (status == 507) return Status::NoSpace(with_code());
  if (status >= 500 || status == 408 || status == 429)
    return Status::IOError(with_code()).Retryable();
  switch (status) {
    case 401:
    case 403:
      return Status::PermissionDenied(message);
    case 404:
      return Status::NotFound(message);
    case 409:
    case 412:
      return Status::AlreadyExists(message);
    case 416:
    case 422:
      return Status::Corruption(message);
    case 426:
      return Status::Unsupported(message);
    default:
      return Status::IOError(with_code());
  }
}

std::string PercentEncode(const std::string& text, bool keep_slashes) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slashes && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<std::string> PercentDecode(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int high = i + 2 < text.size() ? HexDigitValue(text[i + 1]) : -1;
    int low = i + 2 < text.size() ? HexDigitValue(text[i + 2]) : -1;
    if (high < 0 || low < 0) return Status::InvalidArgument("a '%' not followed by two hex digits");
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

std::string AsciiLower(std::string text) {
  for (char& c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

}  // namespace ferry
