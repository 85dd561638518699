// HttpClient: the vault protocol (docs/protocol.md) over HttpTransport, for
// the vault backend, the vault admin commands and the import service client:
// the server's address, the bearer token, the protocol header, the vault's
// JSON error documents.
//
// Each failed attempt becomes a Status that says whether a retry can help
// (Status::retryable()): transport failures and transient server answers
// (5xx other than 507, 408, 429) are retryable and are retried with
// Retrier's backoff for up to `retry_seconds` (0 for the vault backend,
// which RetryBackend wraps instead). Everything else is final at once: 4xx
// answers are returned to the caller, 507 ("the vault is out of space") is a
// permanent NoSpace error, and so are a bad URL or a certificate that does
// not verify. A streamed download that fails after its sink had bytes is not
// retried here (the sink would see them twice): RetryBackend::ReadStream
// resumes it with a range from the first byte the sink has not had.
#pragma once

#include <functional>
#include <string>

#include "storage/backend.h"
#include "storage/http_transport.h"
#include "storage/retry_policy.h"

namespace ferry {

// The version of the vault protocol this client speaks (docs/protocol.md).
constexpr int kClientProtocol = 1;

struct HttpClientOptions {
  std::string server;   // "http://127.0.0.1:8470"
  std::string token;    // bearer token; never logged
  std::string ca_file;  // for https with a private CA; empty: system store
  double retry_seconds = 120;
  std::string label;  // for messages: "vault prod, machine fileserver01"
  // Said when the server refuses the token (401): which credential to check.
  std::string unauthorized_hint = "check the agent credentials file";
  // Said when nothing answers at `server` (HttpTransportOptions).
  std::string unreachable_hint = "check that `ferry serve` runs there";
};

struct HttpRequest {
  std::string method;
  std::string path;
  ByteView body;
  std::string range;  // "A-B" or "A-"; empty: whole
  std::string content_type;
  const std::function<Status(ByteView)>* sink = nullptr;  // stream a 2xx body here
  bool write_once = false;  // a PUT with If-None-Match: * (409 if the name is taken)
};

struct HttpResponse {
  long status = 0;
  Bytes body;
  uint64_t content_length = 0;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient() = default;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs `request`, retrying as described above. A non-OK Status means no
  // usable answer was obtained (its retryable() tells whether the last
  // attempt's failure was transient); a 4xx answer is a successful Result.
  Result<HttpResponse> Perform(const HttpRequest& request);
  // A Status for a non-2xx answer, with the server's JSON error message.
  Status ErrorFor(const HttpRequest& request, const HttpResponse& response) const;
  // "label at server" for messages.
  std::string Describe() const;
  const HttpClientOptions& options() const { return options_; }
  BackendStats stats() const { return transport_.stats(); }

 private:
  // One attempt; `delivered` becomes true once the request's sink has had bytes.
  Result<HttpResponse> PerformOnce(const HttpRequest& request, bool* delivered);

  HttpClientOptions options_;
  HttpTransport transport_;
  Retrier retrier_;
};

}  // namespace ferry
