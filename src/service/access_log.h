// AccessLog: one line per answered request on the vault's log (stderr), and
// the request's metrics. The line is "METHOD PATH STATUS": never a header (the
// Authorization header carries the bearer token) and never the query (lock
// owner keys travel in it).
//
// httplib hands its logger only the request and the response, after the
// response is written. What else the log and metrics need (the route pattern,
// body bytes in and out, the start time) is kept in the RequestTally of the
// worker thread, which answers one request at a time: started at httplib's
// pre-routing hook, added to by the router and handlers, read and cleared by
// Finish.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "service/vault_metrics.h"

namespace ferry {

struct RequestTally {
  std::optional<std::chrono::steady_clock::time_point> start;
  std::string route;      // empty until the router matches one
  uint64_t bytes_in = 0;  // request body bytes read
  uint64_t bytes_out =
      0;  // streamed response bytes (objects); bodies set whole are added by Finish

  // The tally of the request the calling thread is answering.
  static RequestTally& Current();
};

class AccessLog {
 public:
  explicit AccessLog(VaultMetrics& metrics) : metrics_(metrics) {}

  // A request's headers are in (httplib's pre-routing hook).
  void Begin();
  // Its answer is written (httplib's logger).
  void Finish(const httplib::Request& request, const httplib::Response& response);

 private:
  VaultMetrics& metrics_;
};

}  // namespace ferry
