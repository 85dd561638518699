// MetadataStore: the vault service's own state (vaults, machines, tokens,
// recovery points), as opposed to the machines' encrypted repositories, which
// live in a storage Backend. An interface because there are real alternatives:
// SQLite (embedded default) and PostgreSQL (several servers behind a balancer).
//
// Correctness across servers comes from the database, never from a process's
// mutex: names and tracking numbers are unique by constraint, records that are
// read, changed and written back (import jobs, seeds) carry a version and are
// saved by compare-and-swap, and long work is claimed with a lease. Every
// implementation passes tests/unit/metadata_store_test.cc (docs/storage.md,
// "The vault's metadata").
#pragma once

#include <cstdint>
#include <functional>
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

// The schema this build reads and writes. Both implementations number their
// schema alike; opening a database migrates an older one to this version and
// refuses a newer one (written by a newer ferry), so that an old server never
// writes rows it does not understand.
//   1  import jobs keyed by VAULT:MACHINE:NAME, tracking numbers normalised
//   2  vault policies and prune reports
//   3  record versions (compare-and-swap saves) and leases
constexpr int kMetadataSchemaVersion = 3;

// A record as stored, with the version its compare-and-swap save must name.
// Every save of the record (with or without a version) moves the version on.
template <typename T>
struct Versioned {
  T value;
  int64_t version = 0;
};

// A claim on long work (adopting a seed, sweeping deadlines) by one server:
// `holder` (a name unique to the server process) has it until `expires_ns`.
// `generation` grows each time the lease changes hands, so work can carry it
// as a fencing token.
struct Lease {
  std::string name;
  std::string holder;
  int64_t expires_ns = 0;
  int64_t generation = 0;
};

// A compare-and-swap save that lost (the record changed since it was read),
// a lease another holder has, and one lost to another holder are all
// StatusCode::kLocked, as RocksDB's Busy marks an optimistic transaction's
// conflict: someone else got there first; read again, or leave the work to
// them. "Conflict" below means this.
inline bool IsConflict(const Status& status) { return status.code() == StatusCode::kLocked; }

// Thread safety: every method may be called from any thread at any time; the
// implementations serialize or pool their connections themselves.
class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // The schema version of the open database (kMetadataSchemaVersion).
  virtual Result<int> SchemaVersion() = 0;

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

  // Import jobs, keyed by their qualified name (VAULT:MACHINE:NAME). Names
  // are unique (AlreadyExists), and so are normalised tracking numbers across
  // jobs: a save that would repeat another job's number fails with
  // AlreadyExists without naming that job (it may be another machine's).
  virtual Status CreateImportJob(const ImportJob& job) = 0;
  // Saves whatever was stored in between (last writer wins): only for a
  // caller that serializes its own read-modify-write. Others use
  // SaveImportJobIfVersion or UpdateImportJob.
  virtual Status SaveImportJob(const ImportJob& job) = 0;
  virtual Result<ImportJob> LoadImportJob(const std::string& name) = 0;  // NotFound
  virtual Result<Versioned<ImportJob>> LoadImportJobVersioned(const std::string& name) = 0;
  // Compare-and-swap: saves `job` if its stored version is still
  // `expected_version` and returns the new version; Conflict if another save
  // came in between, NotFound if the job is gone.
  virtual Result<int64_t> SaveImportJobIfVersion(const ImportJob& job,
                                                 int64_t expected_version) = 0;
  virtual Result<std::vector<ImportJob>> ListImportJobs() = 0;

  // Offline seeds, one per (machine, job). SaveSeed inserts or replaces (last
  // writer wins, as SaveImportJob).
  virtual Status SaveSeed(int64_t machine_id, const SeedRecord& seed) = 0;
  virtual Result<SeedRecord> LoadSeed(int64_t machine_id, const std::string& job) = 0;  // NotFound
  virtual Result<Versioned<SeedRecord>> LoadSeedVersioned(int64_t machine_id,
                                                          const std::string& job) = 0;
  // Compare-and-swap as SaveImportJobIfVersion; `expected_version` 0 creates
  // the record, and is a Conflict if it exists by now.
  virtual Result<int64_t> SaveSeedIfVersion(int64_t machine_id, const SeedRecord& seed,
                                            int64_t expected_version) = 0;
  virtual Result<std::vector<SeedRecord>> ListSeeds(int64_t machine_id) = 0;

  // Leases. Times are the caller's clock (inject one: tests move it on
  // instead of sleeping); servers sharing a database keep their clocks in
  // step (NTP), and a ttl far longer than their skew makes the difference moot.
  //
  // Claims `name` for `holder` until now_ns + ttl_ns when nobody holds it, its
  // holder's time has run out (taken over: generation + 1), or `holder`
  // already holds it (extended). Conflict, naming the holder and until when,
  // while another holder's time runs.
  virtual Result<Lease> ClaimLease(const std::string& name, const std::string& holder,
                                   int64_t now_ns, int64_t ttl_ns) = 0;
  // Extends a lease `holder` holds (even one whose time ran out, if nobody
  // took it over since). Conflict when the lease is lost: the work must stop.
  virtual Result<Lease> RenewLease(const std::string& name, const std::string& holder,
                                   int64_t now_ns, int64_t ttl_ns) = 0;
  // Gives the lease up; nothing to do (OK) when `holder` does not hold it.
  virtual Status ReleaseLease(const std::string& name, const std::string& holder) = 0;
  // The lease as stored, expired or not; nullopt when nobody claimed it.
  virtual Result<std::optional<Lease>> FindLease(const std::string& name) = 0;

  // Read-modify-write with compare-and-swap: loads the record, applies
  // `change`, and saves it unless another save came in between, in which case
  // it loads the newer record and applies `change` again (a bounded number of
  // times, then Conflict). `change` must be idempotent on the record it is
  // given; a non-OK status from it is returned and nothing is saved. Returns
  // the record as saved.
  Result<ImportJob> UpdateImportJob(const std::string& name,
                                    const std::function<Status(ImportJob&)>& change);
  // As UpdateImportJob. With `create`, a missing seed is created: `change`
  // gets a SeedRecord with only `job` set.
  Result<SeedRecord> UpdateSeed(int64_t machine_id, const std::string& job,
                                const std::function<Status(SeedRecord&)>& change,
                                bool create = false);
};

// How often Update* re-applies a change before giving up with Conflict: each
// retry means another server saved the same record in the meantime, so more
// than a handful in a row means something loops.
constexpr int kMaxCompareAndSwapAttempts = 16;

// Opens the store `location` names, migrating its schema to
// kMetadataSchemaVersion: a PostgreSQL connection URI (postgresql://… or
// postgres://…, libpq's syntax) or else the path of a SQLite file.
Result<std::unique_ptr<MetadataStore>> OpenMetadataStore(const std::string& location);

// Opens (creating if needed) a SQLite database at `path`.
Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(const std::string& path);

// Whether `location` names a PostgreSQL database rather than a SQLite file.
bool IsPostgresLocation(const std::string& location);

// `location` fit for messages and logs: a password in a connection URI
// (user:PASSWORD@host, or password=… among its parameters) becomes "***".
std::string RedactDatabaseLocation(const std::string& location);

}  // namespace ferry
