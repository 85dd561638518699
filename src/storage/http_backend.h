// HttpBackend: a machine's repository in a ferry vault, over the vault
// protocol (docs/protocol.md). Retries and connection reuse come from HttpClient.
#pragma once

#include <string>

#include "storage/backend.h"
#include "storage/http_client.h"

namespace ferry {

class HttpBackend : public Backend {
 public:
  explicit HttpBackend(HttpClientOptions options);

  // Asks the server for its protocol version; fails with a clear message if
  // either side is too old for the other.
  Status CheckVersion();

  Status Create() override;
  Status Put(const ObjectName& name, ByteView data) override;
  // The vault's write-once PUT (If-None-Match: *): AlreadyExists if the name
  // is taken, decided by the vault's storage, not by a Stat first.
  Status PutIfAbsent(const ObjectName& name, ByteView data) override;
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Stat(const ObjectName& name) override;
  Status List(ObjectKind kind,
              const std::function<Status(const std::string&, uint64_t)>& visit) override;
  Status Remove(const ObjectName& name) override;
  Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                    const std::function<Status(ByteView)>& sink) override;
  std::string Location() const override;
  BackendStats stats() const override;

 private:
  HttpClient client_;
  // Sent with this process's lock PUTs and DELETEs: the vault lets a machine
  // token remove only the locks written with the same key (docs/protocol.md).
  std::string lock_key_;
};

}  // namespace ferry
