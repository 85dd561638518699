// VaultServer: `ferry serve`, the HTTP service that holds every registered
// machine's encrypted repository (docs/protocol.md). It verifies objects by
// their SHA-256 names and enforces the token rules (append-only machine
// tokens), but never holds a key that decrypts data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "service/metadata_store.h"
#include "util/clock.h"
#include "util/status.h"

namespace ferry {

struct VaultServerOptions {
  std::string data_dir;
  // The metadata store (service/metadata_store.h): a SQLite file or a
  // postgresql:// URI; default DATA/vault.db.
  std::string database;
  std::string host = "127.0.0.1";
  int port = 8470;              // 0: any free port
  std::string tls_certificate;  // PEM files; both or neither
  std::string tls_key;
  // Where the machines' repositories live (docs/storage.md): any storage
  // location, each machine's below it at VAULT/MACHINE; default DATA/repositories.
  std::string repository_store;
  // The storage accounts that datacenter ingest fills, as directories
  // ROOT/ACCOUNT/CONTAINER (Azure Blob and S3 come later); default DATA/storage.
  std::string storage_root;
  // Where the disks of import jobs are sent; shown by diskprep and job show.
  std::string shipping_address = "ferry datacenter, Receiving dock 1, 1 Harbour Road, Example City";
  // After Stop(), how long requests in flight may take to finish; then
  // uploads still running are answered 503 and connections are cut.
  int64_t shutdown_grace_ms = 30000;
};

class VaultServer {
 public:
  // Opens (creating on first start) the data directory, the metadata
  // database and the admin token file.
  static Result<std::unique_ptr<VaultServer>> Open(const VaultServerOptions& options,
                                                   const Clock& clock = Clock::System());
  ~VaultServer();

  // Binds the listening socket; returns the port (useful with port 0).
  Result<int> Bind();
  // Serves requests until Stop() is called (from another thread or a signal)
  // and the requests in flight have finished or been refused.
  Status Serve();
  // Begins a graceful shutdown: no new connections, idle ones closed, those
  // with a request in flight closed after it (docs/operations.md). May be
  // called again; only the first call starts the grace period.
  void Stop();

  std::string admin_token_path() const;
  // The token that GET /metrics accepts (docs/operations.md, "Metrics").
  std::string metrics_token_path() const;
  std::string url() const;

 private:
  struct Impl;
  explicit VaultServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry
