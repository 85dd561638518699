// HttpClient: HTTP requests with libcurl for ferry's network clients (the
// vault backend, the vault admin commands, the import service client).
//
// Connections are pooled (one easy handle per concurrent request, reused), so
// uploaders keep their connections alive. Each failed attempt becomes a
// Status that says whether a retry can help (Status::retryable()): transport
// failures (refused, dropped or stalled connections, truncated answers) and
// transient server answers (5xx other than 507, 408, 429) are retryable and
// are retried with exponential backoff (0.25 s doubling to 8 s) for up to
// `retry_seconds`, which carries a backup across a restart of the server.
// Everything else is final at once: 4xx answers are returned to the caller,
// 507 ("the vault is out of space") is a permanent NoSpace error, and so are
// a bad URL or a certificate that does not verify. A streamed download cut
// off half-way is resumed with a range from the first byte its sink has not
// yet had, so the sink sees every byte exactly once.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "storage/backend.h"

namespace ferry {

// The version of the vault protocol this client speaks (docs/protocol.md).
constexpr int kClientProtocol = 1;

struct HttpClientOptions {
  std::string server;   // "http://127.0.0.1:8470"
  std::string token;    // bearer token; never logged
  std::string ca_file;  // for https with a private CA; empty: system store
  double retry_seconds = 120;
  std::string label;  // for messages: "vault prod, machine fileserver01"
};

struct HttpRequest {
  std::string method;
  std::string path;
  ByteView body;
  std::string range;  // "A-B" or "A-"; empty: whole
  std::string content_type;
  const std::function<Status(ByteView)>* sink = nullptr;  // stream a 2xx body here
};

struct HttpResponse {
  long status = 0;
  Bytes body;
  uint64_t content_length = 0;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
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
  BackendStats stats() const { return {bytes_sent_, bytes_received_, requests_}; }

 private:
  // One attempt. `streamed` counts the 2xx body bytes handed to the
  // request's sink, so that a retry can resume after them.
  Result<HttpResponse> PerformOnce(const HttpRequest& request, uint64_t* streamed);
  void* TakeHandle();
  void ReturnHandle(void* handle);

  HttpClientOptions options_;
  std::mutex handles_mutex_;
  std::vector<void*> handles_;
  std::atomic<uint64_t> bytes_sent_{0}, bytes_received_{0}, requests_{0};
};

}  // namespace ferry
