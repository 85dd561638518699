// HttpTransport: one HTTP request, with libcurl, for every network backend —
// the vault protocol (HttpClient), Azure Blob and S3. It knows nothing of
// any service: the caller names the URL and every header, and a signing hook
// (SharedKey, SigV4) sees the finished request just before it is sent.
//
// A transport performs one attempt and says what went wrong: a failure to
// reach the server or to read its whole answer (refused, dropped, stalled,
// truncated) is a retryable IOError; a certificate that does not verify or a
// malformed URL is permanent. Any answer the server gave — 2xx, 4xx or 5xx —
// is a successful Result; StatusForHttpAnswer turns a non-2xx one into a
// Status whose retryable() tells a RetryBackend whether to try again.
// Retrying is not the transport's business: the caller knows whether a
// request can be repeated.
//
// Connections are pooled (one libcurl handle per request in flight, reused
// afterwards), so a backend with several uploaders keeps its connections
// alive; Perform may be called from several threads at once.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "storage/backend.h"

namespace ferry {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct TransportRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE, …
  std::string url;     // complete and already percent-encoded
  std::vector<HttpHeader> headers;
  // The body of a PUT or POST: either `body`, or `body_length` bytes that
  // `body_source` hands out piece by piece (it fills up to `capacity` bytes
  // of `buffer` and returns how many; it is never asked to start over).
  ByteView body;
  std::function<Result<size_t>(uint8_t* buffer, size_t capacity)> body_source;
  uint64_t body_length = 0;
  // A 2xx answer's body goes here piece by piece instead of into the
  // response; an error document is kept in the response whole.
  const std::function<Status(ByteView)>* sink = nullptr;

  // The value of a header (case-insensitive), or "".
  std::string Header(const std::string& name) const;
  void SetHeader(const std::string& name, std::string value);
};

struct TransportResponse {
  long status = 0;
  std::vector<HttpHeader> headers;  // names lower-case, in the order received
  Bytes body;
  uint64_t content_length = 0;  // as the server declared it (HEAD: the object's size)

  std::string Header(const std::string& name) const;  // case-insensitive, "" if absent
  std::string BodyText(size_t limit = 300) const;     // for messages
};

struct HttpTransportOptions {
  std::string ca_file;  // for https with a private CA; empty: the system store
  long connect_timeout_seconds = 10;
  // A transfer that moves nothing for this long is abandoned (retryable).
  long stall_seconds = 60;
  // Called with the finished request just before each send: adds the
  // signature. A non-OK Status fails the request without sending it.
  std::function<Status(TransportRequest&)> sign;
  // For messages ("Azure account acct1"); never contains a secret.
  std::string label;
  // Added when nothing answers at the URL's host and port ("check that
  // `ferry serve` runs there"); the message names the server's address.
  std::string unreachable_hint;
};

class HttpTransport {
 public:
  explicit HttpTransport(HttpTransportOptions options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // One attempt. `request` is copied before signing, so the caller's stays
  // unsigned and can be sent again.
  Result<TransportResponse> Perform(const TransportRequest& request);

  const HttpTransportOptions& options() const { return options_; }
  BackendStats stats() const { return {bytes_sent_, bytes_received_, requests_}; }

 private:
  void* TakeHandle();
  void ReturnHandle(void* handle);

  HttpTransportOptions options_;
  std::mutex handles_mutex_;
  std::vector<void*> handles_;
  std::atomic<uint64_t> bytes_sent_{0}, bytes_received_{0}, requests_{0};
};

// The Status for a non-2xx answer, `what` and `detail` (the service's own
// error text) in its message: 5xx other than 507, 408 and 429 are retryable
// IOErrors; 507 is NoSpace; 401/403 PermissionDenied; 404 NotFound; 409 and
// 412 AlreadyExists; 416 Corruption; the rest IOError with the code.
Status StatusForHttpAnswer(long status, const std::string& what, const std::string& detail);

// RFC 3986 percent-encoding of everything but unreserved characters; with
// `keep_slashes`, "/" stays as it is (object keys in a URL path).
std::string PercentEncode(const std::string& text, bool keep_slashes = false);
// The inverse: each "%XX" becomes its byte; a "%" without two hex digits
// after it is InvalidArgument.
Result<std::string> PercentDecode(const std::string& text);
// ASCII lower case (header names, URL schemes), whatever the locale.
std::string AsciiLower(std::string text);

}  // namespace ferry
