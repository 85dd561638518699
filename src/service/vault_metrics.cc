#include "service/vault_metrics.h"

namespace ferry {

namespace {

// Latency buckets from 1 ms (a HEAD, a small object from the page cache) to
// 60 s (a 256 MiB object over a slow link); Prometheus adds +Inf.
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

}  // namespace

VaultMetrics::VaultMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("ferry_http_requests_total")
                    .Help("HTTP requests answered, by method, route pattern and status")
                    .Register(*registry_)),
      latency_(prometheus::BuildHistogram()
                   .Name("ferry_http_request_duration_seconds")
                   .Help("Time from a request's headers to the end of its answer, by method and "
                         "route pattern")
                   .Register(*registry_)),
      received_bytes_(prometheus::BuildCounter()
                          .Name("ferry_http_received_bytes_total")
                          .Help("Request body bytes received, by route pattern")
                          .Register(*registry_)),
      sent_bytes_(prometheus::BuildCounter()
                      .Name("ferry_http_sent_bytes_total")
                      .Help("Response body bytes sent, by route pattern")
                      .Register(*registry_)),
      objects_stored_(prometheus::BuildCounter()
                          .Name("ferry_vault_objects_stored_total")
                          .Help("Objects newly stored in machines' repositories, by vault and "
                                "object kind")
                          .Register(*registry_)),
      object_bytes_stored_(prometheus::BuildCounter()
                               .Name("ferry_vault_stored_bytes_total")
                               .Help("Bytes of objects newly stored, by vault")
                               .Register(*registry_)),
      storage_errors_(prometheus::BuildCounter()
                          .Name("ferry_storage_errors_total")
                          .Help("Storage operations that failed (not counting absent objects), "
                                "by operation")
                          .Register(*registry_)) {}

void VaultMetrics::RecordRequest(const std::string& method, const std::string& route, int status,
                                 std::chrono::duration<double> latency, uint64_t bytes_in,
                                 uint64_t bytes_out) {
  requests_.Add({{"method", method}, {"route", route}, {"status", std::to_string(status)}})
      .Increment();
  latency_.Add({{"method", method}, {"route", route}}, kLatencyBuckets).Observe(latency.count());
  if (bytes_in > 0)
    received_bytes_.Add({{"route", route}}).Increment(static_cast<double>(bytes_in));
  if (bytes_out > 0) sent_bytes_.Add({{"route", route}}).Increment(static_cast<double>(bytes_out));
}

void VaultMetrics::RecordObjectStored(const std::string& vault, const std::string& kind,
                                      uint64_t bytes) {
  objects_stored_.Add({{"vault", vault}, {"kind", kind}}).Increment();
  object_bytes_stored_.Add({{"vault", vault}}).Increment(static_cast<double>(bytes));
}

void VaultMetrics::RecordStorageError(const std::string& operation) {
  storage_errors_.Add({{"operation", operation}}).Increment();
}

}  // namespace ferry
