// VaultMetrics: what `ferry serve` counts about itself, for GET /metrics in
// the Prometheus text format (docs/operations.md lists every series). Kept
// with prometheus-cpp's core library (Debian's prometheus-cpp-dev), which also
// writes the text exposition; the vault serves it over its own HTTP server.
//
// Two kinds of series:
// - counted by this process as requests pass (requests, latency, bytes,
//   objects stored, storage errors): they start at zero with each process, as
//   Prometheus's rate() and increase() expect of counters;
// - read from the MetadataStore at each scrape (recovery points and the last
//   backup per machine, import jobs by state, seeds and adoption progress):
//   the same on every server of one database, and they survive restarts.
// Thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <memory>
#include <string>

namespace ferry {

class VaultMetrics {
 public:
  VaultMetrics();

  // One answered request. `route` is the pattern the router matched (so that
  // the number of series stays bounded whatever paths clients send), or
  // "unrouted" for requests refused before routing or matching no route.
  void RecordRequest(const std::string& method, const std::string& route, int status,
                     std::chrono::duration<double> latency, uint64_t bytes_in, uint64_t bytes_out);
  // An object newly stored in a machine's repository (not a repeated upload).
  void RecordObjectStored(const std::string& vault, const std::string& kind, uint64_t bytes);
  // A storage operation that failed for a reason other than the object's
  // absence (docs/operations.md: alert on its rate).
  void RecordStorageError(const std::string& operation);

  // The counted series, for the exposition.
  const prometheus::Registry& registry() const { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Counter>& received_bytes_;
  prometheus::Family<prometheus::Counter>& sent_bytes_;
  prometheus::Family<prometheus::Counter>& objects_stored_;
  prometheus::Family<prometheus::Counter>& object_bytes_stored_;
  prometheus::Family<prometheus::Counter>& storage_errors_;
};

}  // namespace ferry
