// MetadataStore: the vault service's own state (vaults, machines, tokens,
// recovery points), as opposed to the machines' encrypted repositories, which
// live in a storage Backend. An interface because there are real alternatives:
// SQLite (embedded default) and PostgreSQL (several servers behind a balancer).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "seed/import_job.h"
#include "service/seed_record.h"
#include "util/id.h"
#include "util/status.h"

namespace ferry {

struct VaultRecord {
  int64_t id = 0;
  std::string name;
  int64_t created_ns = 0;
};

struct MachineRecord {
  int64_t id = 0;
  int64_t vault_id = 0;
  std::string vault;
  std::string name;
  int64_t created_ns = 0;
};

// Operators run datacenter ingest: they may move import jobs and drives on.
enum class TokenKind { kAdmin, kMachine, kMaintenance, kOperator };

struct TokenRecord {
  TokenKind kind = TokenKind::kMachine;
  std::optional<MachineRecord> machine;  // for machine and maintenance tokens
};

struct RecoveryPoint {
  std::string snapshot;  // object name
  int64_t received_ns = 0;
  uint64_t size = 0;
};

// A vault's backup policy: the JSON of service/request_body.h's VaultPolicy,
// stored as the vault checked it.
struct VaultPolicyRecord {
  std::string document;
  int64_t updated_ns = 0;
};

// What one prune on a machine's repository did, as its agent reported it
// with the maintenance token; the time is the vault's.
struct PruneRecord {
  int64_t time_ns = 0;
  uint64_t bytes_freed = 0;
  uint64_t packs_removed = 0;
  uint64_t packs_repacked = 0;
  uint64_t bytes_repacked = 0;
  uint64_t snapshots_removed = 0;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // AlreadyExists if the name is taken.
  virtual Result<VaultRecord> CreateVault(const std::string& name, int64_t now_ns) = 0;
  virtual Result<VaultRecord> FindVault(const std::string& name) = 0;  // NotFound
  virtual Result<std::vector<VaultRecord>> ListVaults() = 0;

  virtual Result<MachineRecord> CreateMachine(const VaultRecord& vault, const std::string& name,
                                              int64_t now_ns) = 0;
  virtual Result<MachineRecord> FindMachine(const VaultRecord& vault, const std::string& name) = 0;
  virtual Result<std::vector<MachineRecord>> ListMachines(const VaultRecord& vault) = 0;

  // Tokens are stored by their SHA-256 only.
  virtual Status AddToken(const Id& token_hash, TokenKind kind, std::optional<int64_t> machine_id,
                          int64_t now_ns) = 0;
  virtual Result<TokenRecord> FindToken(const Id& token_hash) = 0;  // NotFound

  virtual Status AddRecoveryPoint(int64_t machine_id, const RecoveryPoint& point) = 0;
  virtual Status RemoveRecoveryPoint(int64_t machine_id, const std::string& snapshot) = 0;
  virtual Result<std::vector<RecoveryPoint>> ListRecoveryPoints(int64_t machine_id) = 0;

  // Which process wrote a lock object: the SHA-256 of the random key it sent
  // with the PUT. Only that key (or the maintenance token) removes the lock.
  virtual Status SetLockOwner(int64_t machine_id, const std::string& lock, const Id& key_hash) = 0;
  virtual Result<Id> FindLockOwner(int64_t machine_id, const std::string& lock) = 0;  // NotFound
  virtual Status RemoveLockOwner(int64_t machine_id, const std::string& lock) = 0;

  // One policy per vault. Set inserts or replaces; Find and Remove are
  // NotFound when the vault has none.
  virtual Status SetVaultPolicy(int64_t vault_id, const VaultPolicyRecord& policy) = 0;
  virtual Result<VaultPolicyRecord> FindVaultPolicy(int64_t vault_id) = 0;
  virtual Status RemoveVaultPolicy(int64_t vault_id) = 0;

  // Every prune reported is kept (an audit trail); LastPrune is the newest by
  // time, nullopt before the first.
  virtual Status AddPrune(int64_t machine_id, const PruneRecord& prune) = 0;
  virtual Result<std::optional<PruneRecord>> LastPrune(int64_t machine_id) = 0;

  // Import jobs. Names are unique (AlreadyExists), and so are tracking numbers
  // across jobs: SaveImportJob fails with AlreadyExists naming the other job.
  virtual Status CreateImportJob(const ImportJob& job) = 0;
  virtual Status SaveImportJob(const ImportJob& job) = 0;
  virtual Result<ImportJob> LoadImportJob(const std::string& name) = 0;  // NotFound
  virtual Result<std::vector<ImportJob>> ListImportJobs() = 0;

  // Offline seeds, one per (machine, job). Save inserts or replaces.
  virtual Status SaveSeed(int64_t machine_id, const SeedRecord& seed) = 0;
  virtual Result<SeedRecord> LoadSeed(int64_t machine_id, const std::string& job) = 0;  // NotFound
  virtual Result<std::vector<SeedRecord>> ListSeeds(int64_t machine_id) = 0;
};

// Opens (creating if needed) a SQLite database at `path`.
Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(const std::string& path);

}  // namespace ferry
