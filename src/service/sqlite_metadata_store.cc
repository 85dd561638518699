// MetadataStore over SQLite: one connection in WAL mode, serialized by a
// mutex (the HTTP server's threads share it; SQLite's write lock would
// serialize writers anyway, and requests hold it for microseconds).
#include <sqlite3.h>

#include <cstdio>
#include <mutex>
#include <utility>
#include <vector>

#include "service/metadata_store.h"

namespace ferry {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS vaults (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS machines (
  id INTEGER PRIMARY KEY,
  vault_id INTEGER NOT NULL REFERENCES vaults(id),
  name TEXT NOT NULL,
  created_ns INTEGER NOT NULL,
  UNIQUE (vault_id, name)
);
CREATE TABLE IF NOT EXISTS tokens (
  hash BLOB PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('admin', 'machine', 'maintenance', 'operator')),
  machine_id INTEGER REFERENCES machines(id),
  created_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS recovery_points (
  machine_id INTEGER NOT NULL REFERENCES machines(id),
  snapshot TEXT NOT NULL,
  received_ns INTEGER NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (machine_id, snapshot)
);
CREATE TABLE IF NOT EXISTS lock_owners (
  machine_id INTEGER NOT NULL REFERENCES machines(id),
  lock TEXT NOT NULL,
  key_hash TEXT NOT NULL,
  PRIMARY KEY (machine_id, lock)
);
CREATE TABLE IF NOT EXISTS import_jobs (
  name TEXT PRIMARY KEY,
  tracking_number TEXT UNIQUE,
  created_ns INTEGER NOT NULL,
  document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS seeds (
  machine_id INTEGER NOT NULL REFERENCES machines(id),
  job TEXT NOT NULL,
  registered_ns INTEGER NOT NULL,
  document TEXT NOT NULL,
  PRIMARY KEY (machine_id, job)
);
CREATE TABLE IF NOT EXISTS vault_policies (
  vault_id INTEGER PRIMARY KEY REFERENCES vaults(id),
  updated_ns INTEGER NOT NULL,
  document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS prunes (
  id INTEGER PRIMARY KEY,
  machine_id INTEGER NOT NULL REFERENCES machines(id),
  time_ns INTEGER NOT NULL,
  bytes_freed INTEGER NOT NULL,
  packs_removed INTEGER NOT NULL,
  packs_repacked INTEGER NOT NULL,
  bytes_repacked INTEGER NOT NULL,
  snapshots_removed INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS prunes_by_machine ON prunes (machine_id, time_ns);
)sql";

const char* KindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kAdmin:
      return "admin";
    case TokenKind::kMachine:
      return "machine";
    case TokenKind::kMaintenance:
      return "maintenance";
    case TokenKind::kOperator:
      return "operator";
  }
  return "?";
}

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr) != SQLITE_OK) statement_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(statement_); }
  bool ok() const { return statement_ != nullptr; }
  Statement& Bind(int index, const std::string& text) {
    sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int index, int64_t value) {
    sqlite3_bind_int64(statement_, index, value);
    return *this;
  }
  Statement& BindBlob(int index, ByteView blob) {
    sqlite3_bind_blob(statement_, index, blob.data(), static_cast<int>(blob.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindNull(int index) {
    sqlite3_bind_null(statement_, index);
    return *this;
  }
  int Step() { return sqlite3_step(statement_); }
  int64_t Int(int column) { return sqlite3_column_int64(statement_, column); }
  std::string Text(int column) {
    const unsigned char* text = sqlite3_column_text(statement_, column);
    return text ? reinterpret_cast<const char*>(text) : "";
  }
  bool IsNull(int column) { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
  Status Error(const std::string& what) {
    return Status::IOError("metadata database: " + what + ": " + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

// Schema version 1 (PRAGMA user_version): import jobs keyed by their
// qualified name (VAULT:MACHINE:NAME) and tracking numbers normalised.
// Databases written before (version 0) keyed jobs by the bare name; rewrite
// their keys once, at open. A tracking number that collides only once
// normalised keeps its old spelling (and says so in the log): refusing to
// open the vault over it would be worse.
Status MigrateImportJobKeys(sqlite3* db) {
  Statement version(db, "PRAGMA user_version");
  if (version.Step() != SQLITE_ROW) return version.Error("read the schema version");
  if (version.Int(0) >= 1) return Status::Ok();
  std::vector<std::pair<std::string, ImportJob>> jobs;
  {
    Statement select(db, "SELECT name, document FROM import_jobs");
    while (select.Step() == SQLITE_ROW) {
      auto job = ParseImportJob(select.Text(1));
      if (job.ok()) jobs.emplace_back(select.Text(0), std::move(*job));
    }
  }
  for (const auto& [old_key, job] : jobs) {
    Statement rename(db, "UPDATE import_jobs SET name = ? WHERE name = ?");
    rename.Bind(1, job.qualified_name()).Bind(2, old_key);
    if (rename.Step() != SQLITE_DONE) return rename.Error("rename import job " + old_key);
    if (!job.shipping) continue;
    Statement tracking(db, "UPDATE import_jobs SET tracking_number = ? WHERE name = ?");
    tracking.Bind(1, NormalizeTrackingNumber(job.shipping->tracking_number))
        .Bind(2, job.qualified_name());
    if (tracking.Step() != SQLITE_DONE)
      std::fprintf(stderr, "import job %s: tracking number %s is another job's once normalised\n",
                   job.qualified_name().c_str(), job.shipping->tracking_number.c_str());
  }
  Statement bump(db, "PRAGMA user_version = 1");
  if (bump.Step() != SQLITE_DONE) return bump.Error("write the schema version");
  return Status::Ok();
}

// Schema version 2: vault_policies and prunes. They are new tables, which
// kSchema's CREATE TABLE IF NOT EXISTS adds to an older database at open;
// nothing is rewritten, only the version is recorded.
Status MigrateToPolicies(sqlite3* db) {
  Statement version(db, "PRAGMA user_version");
  if (version.Step() != SQLITE_ROW) return version.Error("read the schema version");
  if (version.Int(0) >= 2) return Status::Ok();
  Statement bump(db, "PRAGMA user_version = 2");
  if (bump.Step() != SQLITE_DONE) return bump.Error("write the schema version");
  return Status::Ok();
}

class SqliteMetadataStore : public MetadataStore {
 public:
  explicit SqliteMetadataStore(sqlite3* db) : db_(db) {}
  ~SqliteMetadataStore() override { sqlite3_close(db_); }

  Result<VaultRecord> CreateVault(const std::string& name, int64_t now_ns) override {
    std::lock_guard lock(mutex_);
    Statement insert(db_, "INSERT INTO vaults (name, created_ns) VALUES (?, ?)");
    insert.Bind(1, name).Bind(2, now_ns);
    int rc = insert.Step();
    if (rc == SQLITE_CONSTRAINT) return Status::AlreadyExists("vault " + name + " already exists");
    if (rc != SQLITE_DONE) return insert.Error("create vault");
    return VaultRecord{sqlite3_last_insert_rowid(db_), name, now_ns};
  }

  Result<VaultRecord> FindVault(const std::string& name) override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT id, created_ns FROM vaults WHERE name = ?");
    select.Bind(1, name);
    if (select.Step() != SQLITE_ROW) return Status::NotFound("there is no vault " + name);
    return VaultRecord{select.Int(0), name, select.Int(1)};
  }

  Result<std::vector<VaultRecord>> ListVaults() override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT id, name, created_ns FROM vaults ORDER BY name");
    std::vector<VaultRecord> vaults;
    while (select.Step() == SQLITE_ROW)
      vaults.push_back({select.Int(0), select.Text(1), select.Int(2)});
    return vaults;
  }

  Result<MachineRecord> CreateMachine(const VaultRecord& vault, const std::string& name,
                                      int64_t now_ns) override {
    std::lock_guard lock(mutex_);
    Statement insert(db_, "INSERT INTO machines (vault_id, name, created_ns) VALUES (?, ?, ?)");
    insert.Bind(1, vault.id).Bind(2, name).Bind(3, now_ns);
    int rc = insert.Step();
    if (rc == SQLITE_CONSTRAINT)
      return Status::AlreadyExists("machine " + name + " is already registered in vault " +
                                   vault.name);
    if (rc != SQLITE_DONE) return insert.Error("register machine");
    return MachineRecord{sqlite3_last_insert_rowid(db_), vault.id, vault.name, name, now_ns};
  }

  Result<MachineRecord> FindMachine(const VaultRecord& vault, const std::string& name) override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT id, created_ns FROM machines WHERE vault_id = ? AND name = ?");
    select.Bind(1, vault.id).Bind(2, name);
    if (select.Step() != SQLITE_ROW)
      return Status::NotFound("there is no machine " + name + " in vault " + vault.name);
    return MachineRecord{select.Int(0), vault.id, vault.name, name, select.Int(1)};
  }

  Result<std::vector<MachineRecord>> ListMachines(const VaultRecord& vault) override {
    std::lock_guard lock(mutex_);
    Statement select(db_,
                     "SELECT id, name, created_ns FROM machines WHERE vault_id = ? ORDER BY name");
    select.Bind(1, vault.id);
    std::vector<MachineRecord> machines;
    while (select.Step() == SQLITE_ROW)
      machines.push_back({select.Int(0), vault.id, vault.name, select.Text(1), select.Int(2)});
    return machines;
  }

  Status AddToken(const Id& token_hash, TokenKind kind, std::optional<int64_t> machine_id,
                  int64_t now_ns) override {
    std::lock_guard lock(mutex_);
    Statement insert(db_,
                     "INSERT INTO tokens (hash, kind, machine_id, created_ns) VALUES (?, ?, ?, ?)");
    insert.BindBlob(1, token_hash.bytes).Bind(2, std::string(KindName(kind))).Bind(4, now_ns);
    if (machine_id)
      insert.Bind(3, *machine_id);
    else
      insert.BindNull(3);
    if (insert.Step() != SQLITE_DONE) return insert.Error("store token");
    return Status::Ok();
  }

  Result<TokenRecord> FindToken(const Id& token_hash) override {
    std::lock_guard lock(mutex_);
    Statement select(db_,
                     "SELECT t.kind, m.id, m.vault_id, v.name, m.name, m.created_ns "
                     "FROM tokens t LEFT JOIN machines m ON t.machine_id = m.id "
                     "LEFT JOIN vaults v ON m.vault_id = v.id WHERE t.hash = ?");
    select.BindBlob(1, token_hash.bytes);
    if (select.Step() != SQLITE_ROW) return Status::NotFound("unknown token");
    TokenRecord record;
    std::string kind = select.Text(0);
    record.kind = kind == "admin"         ? TokenKind::kAdmin
                  : kind == "maintenance" ? TokenKind::kMaintenance
                  : kind == "operator"    ? TokenKind::kOperator
                                          : TokenKind::kMachine;
    if (!select.IsNull(1))
      record.machine = MachineRecord{select.Int(1), select.Int(2), select.Text(3), select.Text(4),
                                     select.Int(5)};
    return record;
  }

  Status AddRecoveryPoint(int64_t machine_id, const RecoveryPoint& point) override {
    std::lock_guard lock(mutex_);
    Statement insert(
        db_,
        "INSERT OR IGNORE INTO recovery_points (machine_id, snapshot, received_ns, size) "
        "VALUES (?, ?, ?, ?)");
    insert.Bind(1, machine_id)
        .Bind(2, point.snapshot)
        .Bind(3, point.received_ns)
        .Bind(4, static_cast<int64_t>(point.size));
    if (insert.Step() != SQLITE_DONE) return insert.Error("record recovery point");
    return Status::Ok();
  }

  Status RemoveRecoveryPoint(int64_t machine_id, const std::string& snapshot) override {
    std::lock_guard lock(mutex_);
    Statement remove(db_, "DELETE FROM recovery_points WHERE machine_id = ? AND snapshot = ?");
    remove.Bind(1, machine_id).Bind(2, snapshot);
    if (remove.Step() != SQLITE_DONE) return remove.Error("remove recovery point");
    return Status::Ok();
  }

  Result<std::vector<RecoveryPoint>> ListRecoveryPoints(int64_t machine_id) override {
    std::lock_guard lock(mutex_);
    Statement select(db_,
                     "SELECT snapshot, received_ns, size FROM recovery_points WHERE machine_id = ? "
                     "ORDER BY received_ns");
    select.Bind(1, machine_id);
    std::vector<RecoveryPoint> points;
    while (select.Step() == SQLITE_ROW)
      points.push_back({select.Text(0), select.Int(1), static_cast<uint64_t>(select.Int(2))});
    return points;
  }

  Status SetLockOwner(int64_t machine_id, const std::string& lock, const Id& key_hash) override {
    std::lock_guard guard(mutex_);
    Statement insert(
        db_, "INSERT OR REPLACE INTO lock_owners (machine_id, lock, key_hash) VALUES (?, ?, ?)");
    insert.Bind(1, machine_id).Bind(2, lock).Bind(3, key_hash.Hex());
    if (insert.Step() != SQLITE_DONE) return insert.Error("record lock owner");
    return Status::Ok();
  }

  Result<Id> FindLockOwner(int64_t machine_id, const std::string& lock) override {
    std::lock_guard guard(mutex_);
    Statement select(db_, "SELECT key_hash FROM lock_owners WHERE machine_id = ? AND lock = ?");
    select.Bind(1, machine_id).Bind(2, lock);
    if (select.Step() != SQLITE_ROW) return Status::NotFound("no owner recorded for lock " + lock);
    return Id::FromHex(select.Text(0));
  }

  Status RemoveLockOwner(int64_t machine_id, const std::string& lock) override {
    std::lock_guard guard(mutex_);
    Statement remove(db_, "DELETE FROM lock_owners WHERE machine_id = ? AND lock = ?");
    remove.Bind(1, machine_id).Bind(2, lock);
    if (remove.Step() != SQLITE_DONE) return remove.Error("remove lock owner");
    return Status::Ok();
  }

  // Jobs are keyed by QualifiedJobName, tracking numbers by their normalised
  // form (import_job.h): "1z 999 aa1" and "1Z999AA1" are one shipment.
  Status CreateImportJob(const ImportJob& job) override {
    std::lock_guard lock(mutex_);
    Statement insert(db_,
                     "INSERT INTO import_jobs (name, tracking_number, created_ns, document) VALUES "
                     "(?, ?, ?, ?)");
    insert.Bind(1, job.qualified_name()).Bind(3, job.created_ns).Bind(4, EncodeImportJob(job));
    if (job.shipping)
      insert.Bind(2, NormalizeTrackingNumber(job.shipping->tracking_number));
    else
      insert.BindNull(2);
    int rc = insert.Step();
    if (rc == SQLITE_CONSTRAINT)
      return Status::AlreadyExists(job.shipping ? "import job " + job.name +
                                                      " already exists, or its tracking number "
                                                      "is another job's"
                                                : "import job " + job.name + " already exists");
    if (rc != SQLITE_DONE) return insert.Error("create import job");
    return Status::Ok();
  }

  Status SaveImportJob(const ImportJob& job) override {
    std::lock_guard lock(mutex_);
    std::string key = job.qualified_name();
    std::optional<std::string> tracking;
    if (job.shipping) tracking = NormalizeTrackingNumber(job.shipping->tracking_number);
    if (tracking) {
      // The other job may be another machine's: never say which.
      Statement owner(db_, "SELECT 1 FROM import_jobs WHERE tracking_number = ? AND name <> ?");
      owner.Bind(1, *tracking).Bind(2, key);
      if (owner.Step() == SQLITE_ROW)
        return Status::AlreadyExists("tracking number " + *tracking +
                                     " already belongs to another import job; check the number "
                                     "on the carrier's receipt");
    }
    Statement update(db_,
                     "UPDATE import_jobs SET tracking_number = ?, document = ? WHERE name = ?");
    if (tracking)
      update.Bind(1, *tracking);
    else
      update.BindNull(1);
    update.Bind(2, EncodeImportJob(job)).Bind(3, key);
    if (update.Step() != SQLITE_DONE) return update.Error("save import job");
    if (sqlite3_changes(db_) == 0) return Status::NotFound("there is no import job " + job.name);
    return Status::Ok();
  }

  Result<ImportJob> LoadImportJob(const std::string& name) override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT document FROM import_jobs WHERE name = ?");
    select.Bind(1, name);
    if (select.Step() != SQLITE_ROW) return Status::NotFound("there is no import job " + name);
    return ParseImportJob(select.Text(0));
  }

  Result<std::vector<ImportJob>> ListImportJobs() override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT document FROM import_jobs ORDER BY created_ns");
    std::vector<ImportJob> jobs;
    while (select.Step() == SQLITE_ROW) {
      ASSIGN_OR_RETURN(ImportJob job, ParseImportJob(select.Text(0)));
      jobs.push_back(std::move(job));
    }
    return jobs;
  }

  Status SetVaultPolicy(int64_t vault_id, const VaultPolicyRecord& policy) override {
    std::lock_guard lock(mutex_);
    Statement upsert(db_,
                     "INSERT OR REPLACE INTO vault_policies (vault_id, updated_ns, document) "
                     "VALUES (?, ?, ?)");
    upsert.Bind(1, vault_id).Bind(2, policy.updated_ns).Bind(3, policy.document);
    if (upsert.Step() != SQLITE_DONE) return upsert.Error("save vault policy");
    return Status::Ok();
  }

  Result<VaultPolicyRecord> FindVaultPolicy(int64_t vault_id) override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT document, updated_ns FROM vault_policies WHERE vault_id = ?");
    select.Bind(1, vault_id);
    if (select.Step() != SQLITE_ROW) return Status::NotFound("the vault has no backup policy");
    return VaultPolicyRecord{select.Text(0), select.Int(1)};
  }

  Status RemoveVaultPolicy(int64_t vault_id) override {
    std::lock_guard lock(mutex_);
    Statement remove(db_, "DELETE FROM vault_policies WHERE vault_id = ?");
    remove.Bind(1, vault_id);
    if (remove.Step() != SQLITE_DONE) return remove.Error("remove vault policy");
    if (sqlite3_changes(db_) == 0) return Status::NotFound("the vault has no backup policy");
    return Status::Ok();
  }

  Status AddPrune(int64_t machine_id, const PruneRecord& prune) override {
    std::lock_guard lock(mutex_);
    Statement insert(db_,
                     "INSERT INTO prunes (machine_id, time_ns, bytes_freed, packs_removed, "
                     "packs_repacked, bytes_repacked, snapshots_removed) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)");
    // SQLite integers are signed: counts past 2^63 do not occur, and would
    // read back as the same bits.
    insert.Bind(1, machine_id)
        .Bind(2, prune.time_ns)
        .Bind(3, static_cast<int64_t>(prune.bytes_freed))
        .Bind(4, static_cast<int64_t>(prune.packs_removed))
        .Bind(5, static_cast<int64_t>(prune.packs_repacked))
        .Bind(6, static_cast<int64_t>(prune.bytes_repacked))
        .Bind(7, static_cast<int64_t>(prune.snapshots_removed));
    if (insert.Step() != SQLITE_DONE) return insert.Error("record prune");
    return Status::Ok();
  }

  Result<std::optional<PruneRecord>> LastPrune(int64_t machine_id) override {
    std::lock_guard lock(mutex_);
    Statement select(db_,
                     "SELECT time_ns, bytes_freed, packs_removed, packs_repacked, bytes_repacked, "
                     "snapshots_removed FROM prunes WHERE machine_id = ? "
                     "ORDER BY time_ns DESC, id DESC LIMIT 1");
    select.Bind(1, machine_id);
    if (select.Step() != SQLITE_ROW) return std::optional<PruneRecord>();
    auto u = [&](int column) { return static_cast<uint64_t>(select.Int(column)); };
    return std::optional<PruneRecord>(PruneRecord{select.Int(0), u(1), u(2), u(3), u(4), u(5)});
  }

  Status SaveSeed(int64_t machine_id, const SeedRecord& seed) override {
    std::lock_guard lock(mutex_);
    Statement upsert(db_,
                     "INSERT OR REPLACE INTO seeds (machine_id, job, registered_ns, document) "
                     "VALUES (?, ?, ?, ?)");
    upsert.Bind(1, machine_id).Bind(2, seed.job).Bind(3, seed.registered_ns);
    upsert.Bind(4, EncodeSeedRecord(seed));
    if (upsert.Step() != SQLITE_DONE) return upsert.Error("save seed");
    return Status::Ok();
  }

  Result<SeedRecord> LoadSeed(int64_t machine_id, const std::string& job) override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT document FROM seeds WHERE machine_id = ? AND job = ?");
    select.Bind(1, machine_id).Bind(2, job);
    if (select.Step() != SQLITE_ROW)
      return Status::NotFound("this machine has no seed for job " + job);
    return ParseSeedRecord(select.Text(0));
  }

  Result<std::vector<SeedRecord>> ListSeeds(int64_t machine_id) override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT document FROM seeds WHERE machine_id = ? ORDER BY registered_ns");
    select.Bind(1, machine_id);
    std::vector<SeedRecord> seeds;
    while (select.Step() == SQLITE_ROW) {
      ASSIGN_OR_RETURN(SeedRecord seed, ParseSeedRecord(select.Text(0)));
      seeds.push_back(std::move(seed));
    }
    return seeds;
  }

 private:
  std::mutex mutex_;
  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IOError("cannot open metadata database " + path + ": " + message);
  }
  char* error = nullptr;
  std::string setup = std::string(
                          "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                          "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;") +
                      kSchema;
  if (sqlite3_exec(db, setup.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    sqlite3_close(db);
    return Status::IOError("cannot prepare metadata database " + path + ": " + message);
  }
  Status migrated = MigrateImportJobKeys(db);
  if (migrated.ok()) migrated = MigrateToPolicies(db);
  if (Status status = migrated; !status.ok()) {
    sqlite3_close(db);
    return status.WithContext("cannot migrate metadata database " + path);
  }
  return std::unique_ptr<MetadataStore>(new SqliteMetadataStore(db));
}

}  // namespace ferry
