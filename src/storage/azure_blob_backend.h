// AzureBlobBackend: a repository in a container of an Azure Blob storage
// account (or Azurite), over the Blob service's REST API with HttpTransport.
//
// Location: azure://CONTAINER[/PREFIX]?account=NAME[&endpoint=URL]. Objects
// are block blobs at PREFIX/<ObjectName::Path()>. The endpoint defaults to
// https://NAME.blob.core.windows.net (or the connection string's
// BlobEndpoint); a path-style endpoint such as Azurite's
// http://127.0.0.1:10000/devstoreaccount1 works the same way.
//
// Each method is one request (or one listing's pages) and is not retried
// here: OpenBackend wraps the backend in a RetryBackend, which asks each
// Status whether a retry can help. A streamed writer is the exception: it
// uploads its blocks (Put Block, then Put Block List on Commit) and retries
// each block itself, since a RetryBackend cannot repeat bytes already handed
// over. A writer destroyed before Commit leaves only uncommitted blocks,
// which the service never lists and discards after a week.
//
// Thread-safe: the only shared state is the transport (which is).
#pragma once

#include <memory>
#include <string>

#include "storage/azure_credentials.h"
#include "storage/backend.h"
#include "storage/http_transport.h"
#include "storage/retry_policy.h"

namespace ferry {

struct AzureBlobLocation {
  std::string container;
  std::string prefix;    // without leading or trailing '/'; may be empty
  std::string account;   // may be empty when the credential names it
  std::string endpoint;  // may be empty: from the credential or the default
};

// Parses the address part of "azure://ADDRESS" (CONTAINER[/PREFIX]?account=…).
Result<AzureBlobLocation> ParseAzureBlobLocation(const std::string& address);

struct AzureBlobOptions {
  // A streamed object is uploaded in blocks of this size (the last may be
  // smaller); an object that fits in one block is a single Put Blob.
  size_t block_size = 8 << 20;
  // Blobs per List Blobs page (the service allows at most 5000).
  size_t list_page_size = 5000;
  // How each block of a streamed upload is retried.
  RetryPolicy block_retry;
  std::string ca_file;
};

class AzureBlobBackend : public Backend {
 public:
  // REQUIRES: `location` parsed by ParseAzureBlobLocation. Combines it with
  // the credential (account and endpoint may come from a connection string).
  static Result<std::unique_ptr<AzureBlobBackend>> Open(const AzureBlobLocation& location,
                                                        AzureCredential credential,
                                                        AzureBlobOptions options = {});

  Status Create() override;
  Status Put(const ObjectName& name, ByteView data) override;
  Status PutIfAbsent(const ObjectName& name, ByteView data) override;
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Stat(const ObjectName& name) override;
  Status List(ObjectKind kind,
              const std::function<Status(const std::string& name, uint64_t size)>& visit) override;
  Status Remove(const ObjectName& name) override;
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(const ObjectName& name) override;
  Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                    const std::function<Status(ByteView)>& sink) override;
  std::string Location() const override;
  BackendStats stats() const override { return transport_->stats(); }

  // Copies `name` from `source` (an Azure backend, possibly inside a
  // RetryBackend) with a server-side Copy Blob, waiting while the copy is
  // pending. The source must be in the same account or reachable with its
  // SAS token. Unsupported if `source` is not on Azure Blob.
  Status CopyFrom(Backend& source, const ObjectName& name) override;

  // The URL of an object, percent-encoded, without any SAS.
  std::string BlobUrl(const ObjectName& name) const;

 private:
  friend class AzureBlockWriter;
  AzureBlobBackend(AzureBlobLocation location, AzureCredential credential,
                   AzureBlobOptions options);

  std::string BlobPath(const ObjectName& name) const;  // "PREFIX/data/3f/3f…"
  std::string ContainerUrl() const;
  // One request; a non-2xx answer becomes a Status naming `what`, the
  // service's error code, and for a 403 the credential that was used.
  Result<TransportResponse> Send(const TransportRequest& request, const std::string& what);
  Status AnswerStatus(const TransportResponse& response, const std::string& what) const;
  Status PutBlob(const ObjectName& name, ByteView data, bool if_absent);

  AzureBlobLocation location_;
  AzureCredential credential_;
  AzureBlobOptions options_;
  std::unique_ptr<HttpTransport> transport_;
};

class BackendRegistry;
// Registers the "azure" scheme (the factory wraps the backend in a RetryBackend).
void RegisterAzureBlobBackend(BackendRegistry& registry);

}  // namespace ferry
