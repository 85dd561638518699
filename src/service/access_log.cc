#include "service/access_log.h"

#include <cstdio>

namespace ferry {

RequestTally& RequestTally::Current() {
  thread_local RequestTally tally;
  return tally;
}

void AccessLog::Begin() {
  RequestTally& tally = RequestTally::Current();
  tally = RequestTally{};
  tally.start = std::chrono::steady_clock::now();
}

void AccessLog::Finish(const httplib::Request& request, const httplib::Response& response) {
  RequestTally& tally = RequestTally::Current();
  auto now = std::chrono::steady_clock::now();
  std::chrono::duration<double> latency = now - tally.start.value_or(now);
  // httplib answers only methods it knows; anything else is one label value,
  // so that hostile request lines cannot add series.
  static const char* const kMethods[] = {"GET",    "HEAD",  "POST",   "PUT",
                                         "DELETE", "PATCH", "OPTIONS"};
  std::string method = "other";
  for (const char* known : kMethods)
    if (request.method == known) method = known;
  uint64_t bytes_out = tally.bytes_out;
  if (request.method != "HEAD") bytes_out += response.body.size();
  metrics_.RecordRequest(method, tally.route.empty() ? "unrouted" : tally.route, response.status,
                         latency, tally.bytes_in, bytes_out);
  std::fprintf(stderr, "%s %s %d\n", request.method.c_str(), request.path.c_str(), response.status);
  tally = RequestTally{};
}

}  // namespace ferry
