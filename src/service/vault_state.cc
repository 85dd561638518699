#include "service/vault_state.h"

#include <openssl/crypto.h>

#include "seed/ingest_container.h"
#include "service/token.h"
#include "storage/backend_registry.h"
#include "util/file_util.h"

namespace ferry {

namespace {

// Reads the token in `path`, or writes a new one there (mode 0600) when the
// file does not exist.
Result<std::string> LoadOrCreateToken(const std::string& path) {
  auto existing = ReadWholeFile(path);
  if (existing.status().IsNotFound()) {
    std::string token = GenerateToken();
    RETURN_IF_ERROR(WriteFileAtomic(path, AsBytes(token + "\n"), 0600));
    return token;
  }
  if (!existing.ok()) return existing.status();
  std::string token(existing->begin(), existing->end());
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (!LooksLikeToken(token))
    return Status::Corruption(path + " does not hold a token (64 hex digits)");
  return token;
}

}  // namespace

VaultState::VaultState(const VaultServerOptions& options, const Clock& clock,
                       std::unique_ptr<MetadataStore> store)
    : options_(options), clock_(clock), store_(std::move(store)) {}

std::string VaultState::RepositoryStore() const {
  return options_.repository_store.empty() ? options_.data_dir + "/repositories"
                                           : options_.repository_store;
}

std::string VaultState::StorageRoot() const {
  return options_.storage_root.empty() ? options_.data_dir + "/storage" : options_.storage_root;
}

Status VaultState::EnsureTokens() {
  ASSIGN_OR_RETURN(std::string metrics_token, LoadOrCreateToken(MetricsTokenPath()));
  metrics_token_hash_ = HashToken(metrics_token);
  ASSIGN_OR_RETURN(std::string admin_token, LoadOrCreateToken(AdminTokenPath()));
  Id hash = HashToken(admin_token);
  if (store_->FindToken(hash).ok()) return Status::Ok();
  return store_->AddToken(hash, TokenKind::kAdmin, std::nullopt, clock_.NowNanos());
}

bool VaultState::IsMetricsToken(const std::string& token) const {
  if (!LooksLikeToken(token)) return false;
  Id hash = HashToken(token);
  return CRYPTO_memcmp(hash.bytes.data(), metrics_token_hash_.bytes.data(), hash.bytes.size()) == 0;
}

Result<Backend*> VaultState::MachineBackend(const MachineRecord& machine) {
  std::lock_guard lock(backends_mutex_);
  auto it = backends_.find(machine.id);
  if (it != backends_.end()) return it->second.get();
  // Names were checked when the machine was registered: plain path parts.
  ASSIGN_OR_RETURN(std::string location,
                   StorageLocationChild(RepositoryStore(), machine.vault + "/" + machine.name));
  ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, OpenBackend(location));
  // Create lays out what a repository needs (directories, a container);
  // it refuses only once the machine's config exists, which is fine.
  Status created = backend->Create();
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists)
    return StorageFailure("create", created);
  Backend* raw = backend.get();
  backends_.emplace(machine.id, std::move(backend));
  return raw;
}

Result<std::unique_ptr<Backend>> VaultState::OpenContainer(const SeedRecord& seed) const {
  ASSIGN_OR_RETURN(std::string location,
                   ContainerLocation(StorageRoot(), seed.storage_account, seed.container));
  return OpenBackend(location);
}

std::string VaultState::HidePaths(const std::string& text) const {
  std::string out = text;
  for (const std::string& root : {StorageRoot(), RepositoryStore(), options_.data_dir}) {
    if (root.empty()) continue;
    for (size_t at; (at = out.find(root)) != std::string::npos;) {
      size_t end = out.find_first_of(" \"':,", at + root.size());
      out.replace(at, (end == std::string::npos ? out.size() : end) - at, "(vault storage)");
    }
  }
  return out;
}

const Status& VaultState::StorageFailure(const std::string& operation, const Status& status) {
  if (!status.ok() && !status.IsNotFound()) metrics_.RecordStorageError(operation);
  return status;
}

}  // namespace ferry
