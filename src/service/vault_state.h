// VaultState: what every handler of `ferry serve` shares: the options, the
// clock, the MetadataStore, the machines' repositories (opened once each),
// the metrics, and whether the server is shutting down. Thread-safe; the
// handlers run on many threads at once.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "service/metadata_store.h"
#include "service/vault_metrics.h"
#include "service/vault_server.h"
#include "storage/backend.h"
#include "util/clock.h"
#include "util/status.h"

namespace ferry {

class VaultState {
 public:
  VaultState(const VaultServerOptions& options, const Clock& clock,
             std::unique_ptr<MetadataStore> store);

  const VaultServerOptions& options() const { return options_; }
  const Clock& clock() const { return clock_; }
  MetadataStore& store() { return *store_; }
  VaultMetrics& metrics() { return metrics_; }

  // Where the machines' repositories live: any storage location.
  std::string RepositoryStore() const;
  // The storage accounts that datacenter ingest fills.
  std::string StorageRoot() const;
  std::string AdminTokenPath() const { return options_.data_dir + "/admin.token"; }
  std::string MetricsTokenPath() const { return options_.data_dir + "/metrics.token"; }

  // Creates the admin and metrics tokens on first start (files of mode 0600
  // in the data directory) and registers the admin token in the store.
  Status EnsureTokens();
  // Whether `token` is the metrics token (compared by hash, in constant time).
  bool IsMetricsToken(const std::string& token) const;

  // The machine's repository, opened (and laid out) on first use.
  Result<Backend*> MachineBackend(const MachineRecord& machine);
  // A seed's container in the storage accounts below StorageRoot().
  Result<std::unique_ptr<Backend>> OpenContainer(const SeedRecord& seed) const;

  // Error bodies never show the vault's own file paths (a client learns the
  // object, not where it lives): each path under the data directory or the
  // storage root becomes "(vault storage)".
  std::string HidePaths(const std::string& text) const;

  // Counts a failed storage operation in the metrics (absent objects are not
  // failures) and passes the status on.
  const Status& StorageFailure(const std::string& operation, const Status& status);

  // Set when a shutdown begins; `refusing` once its grace period is over:
  // uploads still running then are answered 503 and streamed answers cut.
  std::atomic<bool> stopping{false};
  std::atomic<bool> refusing{false};

 private:
  VaultServerOptions options_;
  const Clock& clock_;
  std::unique_ptr<MetadataStore> store_;
  VaultMetrics metrics_;
  Id metrics_token_hash_;
  std::mutex backends_mutex_;
  std::map<int64_t, std::unique_ptr<Backend>> backends_;
};

}  // namespace ferry
