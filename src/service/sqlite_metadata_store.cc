// MetadataStore over SQLite: one connection in WAL mode, serialized by a
// mutex (the HTTP server's threads share it; SQLite's write lock would
// serialize writers anyway, and requests hold it for microseconds). Several
// processes may open one file: every decision (uniqueness, compare-and-swap,
// lease claims) is one statement, atomic under SQLite's write lock.
#include <sqlite3.h>

#include <cstdio>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "service/metadata_store.h"
#include "service/metadata_store_internal.h"

namespace ferry {

namespace {

// The migrations, each from the version before it (kMetadataSchemaVersion in
// metadata_store.h lists what each brought). A database written before
// versions were recorded is version 0 with the tables of version 1, which is
// why version 1 creates its tables only if they are missing. Migrations never
// change once released: a new schema is a new entry at the end.
constexpr const char* kVersion1Tables = R"sql(
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
)sql";

constexpr const char* kVersion2Tables = R"sql(
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

// Rows written before version 3 are version 1: the first compare-and-swap
// save of one names that.
constexpr const char* kVersion3Changes = R"sql(
ALTER TABLE import_jobs ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE seeds ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_ns INTEGER NOT NULL,
  generation INTEGER NOT NULL
);
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

TokenKind KindFromName(const std::string& kind) {
  return kind == "admin"         ? TokenKind::kAdmin
         : kind == "maintenance" ? TokenKind::kMaintenance
         : kind == "operator"    ? TokenKind::kOperator
                                 : TokenKind::kMachine;
}

// A database error as a Status. Busy means another process holds the write
// lock past the busy timeout: trying again can help.
Status DatabaseError(int rc, const std::string& what, const std::string& message) {
  Status status = Status::IOError("metadata database: " + what + ": " + message);
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) return status.Retryable();
  return status;
}

// A prepared statement that finalizes itself. A failed prepare or bind is
// remembered and returned by Step, so that callers check one result.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    Check(sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr));
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, const std::string& text) {
    if (rc_ == SQLITE_OK)
      Check(sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                              SQLITE_TRANSIENT));
    return *this;
  }
  Statement& Bind(int index, int64_t value) {
    if (rc_ == SQLITE_OK) Check(sqlite3_bind_int64(statement_, index, value));
    return *this;
  }
  Statement& Bind(int index, const std::optional<std::string>& text) {
    return text ? Bind(index, *text) : BindNull(index);
  }
  Statement& BindBlob(int index, ByteView blob) {
    if (rc_ == SQLITE_OK)
      Check(sqlite3_bind_blob(statement_, index, blob.data(), static_cast<int>(blob.size()),
                              SQLITE_TRANSIENT));
    return *this;
  }
  Statement& BindNull(int index) {
    if (rc_ == SQLITE_OK) Check(sqlite3_bind_null(statement_, index));
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code (of the prepare or a bind too).
  int Step() {
    if (rc_ != SQLITE_OK) return rc_;
    int rc = sqlite3_step(statement_);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      // The extended code tells a unique key from a foreign key.
      rc_ = sqlite3_extended_errcode(db_);
      message_ = sqlite3_errmsg(db_);
      return rc_;
    }
    return rc;
  }
  // Steps a statement that returns no rows.
  Status Run(const std::string& what) {
    int rc = Step();
    return rc == SQLITE_DONE ? Status::Ok() : Error(what);
  }
  int64_t Int(int column) { return sqlite3_column_int64(statement_, column); }
  std::string Text(int column) {
    const unsigned char* text = sqlite3_column_text(statement_, column);
    return text ? reinterpret_cast<const char*>(text) : "";
  }
  bool IsNull(int column) { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
  // The error of the last Step (or prepare, or bind).
  int error_code() const { return rc_; }
  bool IsConstraint() const { return (rc_ & 0xff) == SQLITE_CONSTRAINT; }
  Status Error(const std::string& what) {
    if (rc_ == SQLITE_OK) return Status::Internal("metadata database: " + what + ": no error");
    return DatabaseError(rc_, what, message_);
  }

 private:
  void Check(int rc) {
    if (rc == SQLITE_OK) return;
    rc_ = rc;
    message_ = sqlite3_errmsg(db_);
  }

  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
  int rc_ = SQLITE_OK;
  std::string message_;
};

Status Execute(sqlite3* db, const char* sql, const std::string& what) {
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string message = error ? error : sqlite3_errmsg(db);
  sqlite3_free(error);
  return DatabaseError(rc, what, message);
}

Result<int> ReadUserVersion(sqlite3* db) {
  Statement version(db, "PRAGMA user_version");
  if (version.Step() != SQLITE_ROW) return version.Error("read the schema version");
  return static_cast<int>(version.Int(0));
}

// Version 1: import jobs keyed by their qualified name (VAULT:MACHINE:NAME)
// and tracking numbers normalised. Databases written before keyed jobs by the
// bare name; rewrite their keys once. A tracking number that collides only
// once normalised keeps its old spelling (and says so in the log): refusing
// to open the vault over it would be worse.
Status MigrateImportJobKeys(sqlite3* db) {
  std::vector<std::pair<std::string, ImportJob>> jobs;
  {
    Statement select(db, "SELECT name, document FROM import_jobs");
    int rc;
    while ((rc = select.Step()) == SQLITE_ROW) {
      auto job = ParseImportJob(select.Text(1));
      if (job.ok()) jobs.emplace_back(select.Text(0), std::move(*job));
    }
    if (rc != SQLITE_DONE) return select.Error("read import jobs");
  }
  for (const auto& [old_key, job] : jobs) {
    Statement rename(db, "UPDATE import_jobs SET name = ? WHERE name = ?");
    rename.Bind(1, job.qualified_name()).Bind(2, old_key);
    RETURN_IF_ERROR(rename.Run("rename import job " + old_key));
    if (!job.shipping) continue;
    Statement tracking(db, "UPDATE import_jobs SET tracking_number = ? WHERE name = ?");
    tracking.Bind(1, NormalizeTrackingNumber(job.shipping->tracking_number))
        .Bind(2, job.qualified_name());
    int rc = tracking.Step();
    if (rc == SQLITE_DONE) continue;
    if (!tracking.IsConstraint()) return tracking.Error("normalise a tracking number");
    std::fprintf(stderr, "import job %s: tracking number %s is another job's once normalised\n",
                 job.qualified_name().c_str(), job.shipping->tracking_number.c_str());
  }
  return Status::Ok();
}

struct Migration {
  int version;
  const char* sql;
  Status (*rewrite)(sqlite3*);  // after the SQL; may be null
};

constexpr Migration kMigrations[] = {
    {1, kVersion1Tables, MigrateImportJobKeys},
    {2, kVersion2Tables, nullptr},
    {3, kVersion3Changes, nullptr},
};
static_assert(std::size(kMigrations) == kMetadataSchemaVersion);

// Brings the schema to kMetadataSchemaVersion in one transaction: a crash or
// an error midway leaves the database as it was. BEGIN IMMEDIATE takes the
// write lock first, so two servers opening the file together migrate it once.
Status Migrate(sqlite3* db, const std::string& path) {
  RETURN_IF_ERROR(Execute(db, "BEGIN IMMEDIATE", "start the schema migration"));
  auto migrate = [&]() -> Status {
    ASSIGN_OR_RETURN(int version, ReadUserVersion(db));
    if (version > kMetadataSchemaVersion)
      return Status::Unsupported("metadata database " + path + " has schema version " +
                                 std::to_string(version) + ", newer than this ferry's " +
                                 std::to_string(kMetadataSchemaVersion) +
                                 ": run the newer ferry that wrote it");
    for (const Migration& migration : kMigrations) {
      if (migration.version <= version) continue;
      std::string step = "migrate the schema to version " + std::to_string(migration.version);
      RETURN_IF_ERROR(Execute(db, migration.sql, step));
      if (migration.rewrite) RETURN_IF_ERROR(migration.rewrite(db).WithContext(step));
      std::string bump = "PRAGMA user_version = " + std::to_string(migration.version);
      RETURN_IF_ERROR(Execute(db, bump.c_str(), step));
    }
    return Status::Ok();
  };
  Status status = migrate();
  if (!status.ok()) {
    Execute(db, "ROLLBACK", "roll the schema migration back").IgnoreError();  // status says why
    return status;
  }
  return Execute(db, "COMMIT", "commit the schema migration");
}

class SqliteMetadataStore : public MetadataStore {
 public:
  explicit SqliteMetadataStore(sqlite3* db) : db_(db) {}
  ~SqliteMetadataStore() override { sqlite3_close(db_); }

  Result<int> SchemaVersion() override {
    std::lock_guard lock(mutex_);
    return ReadUserVersion(db_);
  }

  Result<VaultRecord> CreateVault(const std::string& name, int64_t now_ns) override {
    std::lock_guard lock(mutex_);
    Statement insert(db_, "INSERT INTO vaults (name, created_ns) VALUES (?, ?)");
    insert.Bind(1, name).Bind(2, now_ns);
    if (insert.Step() != SQLITE_DONE) {
      if (insert.IsConstraint()) return Status::AlreadyExists("vault " + name + " already exists");
      return insert.Error("create vault");
    }
    return VaultRecord{sqlite3_last_insert_rowid(db_), name, now_ns};
  }

  Result<VaultRecord> FindVault(const std::string& name) override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT id, created_ns FROM vaults WHERE name = ?");
    select.Bind(1, name);
    int rc = select.Step();
    if (rc == SQLITE_DONE) return Status::NotFound("there is no vault " + name);
    if (rc != SQLITE_ROW) return select.Error("find vault");
    return VaultRecord{select.Int(0), name, select.Int(1)};
  }

  Result<std::vector<VaultRecord>> ListVaults() override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT id, name, created_ns FROM vaults ORDER BY name");
    std::vector<VaultRecord> vaults;
    int rc;
    while ((rc = select.Step()) == SQLITE_ROW)
      vaults.push_back({select.Int(0), select.Text(1), select.Int(2)});
    if (rc != SQLITE_DONE) return select.Error("list vaults");
    return vaults;
  }

  Result<MachineRecord> CreateMachine(const VaultRecord& vault, const std::string& name,
                                      int64_t now_ns) override {
    std::lock_guard lock(mutex_);
    Statement insert(db_, "INSERT INTO machines (vault_id, name, created_ns) VALUES (?, ?, ?)");
    insert.Bind(1, vault.id).Bind(2, name).Bind(3, now_ns);
    if (insert.Step() != SQLITE_DONE) {
      if (insert.error_code() == SQLITE_CONSTRAINT_UNIQUE)
        return Status::AlreadyExists("machine " + name + " is already registered in vault " +
                                     vault.name);
      if (insert.error_code() == SQLITE_CONSTRAINT_FOREIGNKEY)
        return Status::NotFound("there is no vault " + vault.name);
      return insert.Error("register machine");
    }
    return MachineRecord{sqlite3_last_insert_rowid(db_), vault.id, vault.name, name, now_ns};
  }

  Result<MachineRecord> FindMachine(const VaultRecord& vault, const std::string& name) override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT id, created_ns FROM machines WHERE vault_id = ? AND name = ?");
    select.Bind(1, vault.id).Bind(2, name);
    int rc = select.Step();
    if (rc == SQLITE_DONE)
      return Status::NotFound("there is no machine " + name + " in vault " + vault.name);
    if (rc != SQLITE_ROW) return select.Error("find machine");
    return MachineRecord{select.Int(0), vault.id, vault.name, name, select.Int(1)};
  }

  Result<std::vector<MachineRecord>> ListMachines(const VaultRecord& vault) override {
    std::lock_guard lock(mutex_);
    Statement select(db_,
                     "SELECT id, name, created_ns FROM machines WHERE vault_id = ? ORDER BY name");
    select.Bind(1, vault.id);
    std::vector<MachineRecord> machines;
    int rc;
    while ((rc = select.Step()) == SQLITE_ROW)
      machines.push_back({select.Int(0), vault.id, vault.name, select.Text(1), select.Int(2)});
    if (rc != SQLITE_DONE) return select.Error("list machines");
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
    if (insert.Step() != SQLITE_DONE) {
      if (insert.error_code() == SQLITE_CONSTRAINT_PRIMARYKEY)
        return Status::AlreadyExists("this token is already stored");
      return insert.Error("store token");
    }
    return Status::Ok();
  }

  Result<TokenRecord> FindToken(const Id& token_hash) override {
    std::lock_guard lock(mutex_);
    Statement select(db_,
                     "SELECT t.kind, m.id, m.vault_id, v.name, m.name, m.created_ns "
                     "FROM tokens t LEFT JOIN machines m ON t.machine_id = m.id "
                     "LEFT JOIN vaults v ON m.vault_id = v.id WHERE t.hash = ?");
    select.BindBlob(1, token_hash.bytes);
    int rc = select.Step();
    if (rc == SQLITE_DONE) return Status::NotFound("unknown token");
    if (rc != SQLITE_ROW) return select.Error("find token");
    TokenRecord record;
    record.kind = KindFromName(select.Text(0));
    if (!select.IsNull(1))
      record.machine = MachineRecord{select.Int(1), select.Int(2), select.Text(3), select.Text(4),
                                     select.Int(5)};
    return record;
  }

  Status AddRecoveryPoint(int64_t machine_id, const RecoveryPoint& point) override {
    std::lock_guard lock(mutex_);
    Statement insert(db_,
                     "INSERT INTO recovery_points (machine_id, snapshot, received_ns, size) "
                     "VALUES (?, ?, ?, ?) ON CONFLICT (machine_id, snapshot) DO NOTHING");
    insert.Bind(1, machine_id)
        .Bind(2, point.snapshot)
        .Bind(3, point.received_ns)
        .Bind(4, static_cast<int64_t>(point.size));
    return insert.Run("record recovery point");
  }

  Status RemoveRecoveryPoint(int64_t machine_id, const std::string& snapshot) override {
    std::lock_guard lock(mutex_);
    Statement remove(db_, "DELETE FROM recovery_points WHERE machine_id = ? AND snapshot = ?");
    remove.Bind(1, machine_id).Bind(2, snapshot);
    return remove.Run("remove recovery point");
  }

  Result<std::vector<RecoveryPoint>> ListRecoveryPoints(int64_t machine_id) override {
    std::lock_guard lock(mutex_);
    Statement select(db_,
                     "SELECT snapshot, received_ns, size FROM recovery_points WHERE machine_id = ? "
                     "ORDER BY received_ns, snapshot");
    select.Bind(1, machine_id);
    std::vector<RecoveryPoint> points;
    int rc;
    while ((rc = select.Step()) == SQLITE_ROW)
      points.push_back({select.Text(0), select.Int(1), static_cast<uint64_t>(select.Int(2))});
    if (rc != SQLITE_DONE) return select.Error("list recovery points");
    return points;
  }

  Status SetLockOwner(int64_t machine_id, const std::string& lock, const Id& key_hash) override {
    std::lock_guard guard(mutex_);
    Statement upsert(db_,
                     "INSERT INTO lock_owners (machine_id, lock, key_hash) VALUES (?, ?, ?) "
                     "ON CONFLICT (machine_id, lock) DO UPDATE SET key_hash = excluded.key_hash");
    upsert.Bind(1, machine_id).Bind(2, lock).Bind(3, key_hash.Hex());
    return upsert.Run("record lock owner");
  }

  Result<Id> FindLockOwner(int64_t machine_id, const std::string& lock) override {
    std::lock_guard guard(mutex_);
    Statement select(db_, "SELECT key_hash FROM lock_owners WHERE machine_id = ? AND lock = ?");
    select.Bind(1, machine_id).Bind(2, lock);
    int rc = select.Step();
    if (rc == SQLITE_DONE) return Status::NotFound("no owner recorded for lock " + lock);
    if (rc != SQLITE_ROW) return select.Error("find lock owner");
    return Id::FromHex(select.Text(0));
  }

  Status RemoveLockOwner(int64_t machine_id, const std::string& lock) override {
    std::lock_guard guard(mutex_);
    Statement remove(db_, "DELETE FROM lock_owners WHERE machine_id = ? AND lock = ?");
    remove.Bind(1, machine_id).Bind(2, lock);
    return remove.Run("remove lock owner");
  }

  // Jobs are keyed by QualifiedJobName, tracking numbers by their normalised
  // form (import_job.h): "1z 999 aa1" and "1Z999AA1" are one shipment.
  Status CreateImportJob(const ImportJob& job) override {
    std::lock_guard lock(mutex_);
    Statement insert(db_,
                     "INSERT INTO import_jobs (name, tracking_number, created_ns, document, "
                     "version) VALUES (?, ?, ?, ?, 1)");
    insert.Bind(1, job.qualified_name())
        .Bind(2, TrackingKey(job))
        .Bind(3, job.created_ns)
        .Bind(4, EncodeImportJob(job));
    if (insert.Step() == SQLITE_DONE) return Status::Ok();
    if (insert.error_code() == SQLITE_CONSTRAINT_PRIMARYKEY)
      return Status::AlreadyExists("import job " + job.name + " already exists");
    if (insert.error_code() == SQLITE_CONSTRAINT_UNIQUE) return TrackingNumberTaken(job);
    return insert.Error("create import job");
  }

  Status SaveImportJob(const ImportJob& job) override {
    std::lock_guard lock(mutex_);
    Statement update(db_,
                     "UPDATE import_jobs SET tracking_number = ?, document = ?, "
                     "version = version + 1 WHERE name = ?");
    update.Bind(1, TrackingKey(job)).Bind(2, EncodeImportJob(job)).Bind(3, job.qualified_name());
    if (update.Step() != SQLITE_DONE) {
      if (update.IsConstraint()) return TrackingNumberTaken(job);
      return update.Error("save import job");
    }
    if (sqlite3_changes(db_) == 0) return Status::NotFound("there is no import job " + job.name);
    return Status::Ok();
  }

  Result<ImportJob> LoadImportJob(const std::string& name) override {
    ASSIGN_OR_RETURN(Versioned<ImportJob> job, LoadImportJobVersioned(name));
    return std::move(job.value);
  }

  Result<Versioned<ImportJob>> LoadImportJobVersioned(const std::string& name) override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT document, version FROM import_jobs WHERE name = ?");
    select.Bind(1, name);
    int rc = select.Step();
    if (rc == SQLITE_DONE) return Status::NotFound("there is no import job " + name);
    if (rc != SQLITE_ROW) return select.Error("load import job");
    ASSIGN_OR_RETURN(ImportJob job, ParseImportJob(select.Text(0)));
    return Versioned<ImportJob>{std::move(job), select.Int(1)};
  }

  Result<int64_t> SaveImportJobIfVersion(const ImportJob& job, int64_t expected_version) override {
    std::lock_guard lock(mutex_);
    Statement update(db_,
                     "UPDATE import_jobs SET tracking_number = ?, document = ?, "
                     "version = version + 1 WHERE name = ? AND version = ?");
    update.Bind(1, TrackingKey(job))
        .Bind(2, EncodeImportJob(job))
        .Bind(3, job.qualified_name())
        .Bind(4, expected_version);
    if (update.Step() != SQLITE_DONE) {
      if (update.IsConstraint()) return TrackingNumberTaken(job);
      return update.Error("save import job");
    }
    if (sqlite3_changes(db_) == 1) return expected_version + 1;
    Statement exists(db_, "SELECT version FROM import_jobs WHERE name = ?");
    exists.Bind(1, job.qualified_name());
    int rc = exists.Step();
    if (rc == SQLITE_DONE) return Status::NotFound("there is no import job " + job.name);
    if (rc != SQLITE_ROW) return exists.Error("save import job");
    return JobChanged(job, expected_version, exists.Int(0));
  }

  Result<std::vector<ImportJob>> ListImportJobs() override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT document FROM import_jobs ORDER BY created_ns, name");
    std::vector<ImportJob> jobs;
    int rc;
    while ((rc = select.Step()) == SQLITE_ROW) {
      ASSIGN_OR_RETURN(ImportJob job, ParseImportJob(select.Text(0)));
      jobs.push_back(std::move(job));
    }
    if (rc != SQLITE_DONE) return select.Error("list import jobs");
    return jobs;
  }

  Status SetVaultPolicy(int64_t vault_id, const VaultPolicyRecord& policy) override {
    std::lock_guard lock(mutex_);
    Statement upsert(db_,
                     "INSERT INTO vault_policies (vault_id, updated_ns, document) VALUES (?, ?, ?) "
                     "ON CONFLICT (vault_id) DO UPDATE SET updated_ns = excluded.updated_ns, "
                     "document = excluded.document");
    upsert.Bind(1, vault_id).Bind(2, policy.updated_ns).Bind(3, policy.document);
    return upsert.Run("save vault policy");
  }

  Result<VaultPolicyRecord> FindVaultPolicy(int64_t vault_id) override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT document, updated_ns FROM vault_policies WHERE vault_id = ?");
    select.Bind(1, vault_id);
    int rc = select.Step();
    if (rc == SQLITE_DONE) return Status::NotFound("the vault has no backup policy");
    if (rc != SQLITE_ROW) return select.Error("find vault policy");
    return VaultPolicyRecord{select.Text(0), select.Int(1)};
  }

  Status RemoveVaultPolicy(int64_t vault_id) override {
    std::lock_guard lock(mutex_);
    Statement remove(db_, "DELETE FROM vault_policies WHERE vault_id = ?");
    remove.Bind(1, vault_id);
    RETURN_IF_ERROR(remove.Run("remove vault policy"));
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
    return insert.Run("record prune");
  }

  Result<std::optional<PruneRecord>> LastPrune(int64_t machine_id) override {
    std::lock_guard lock(mutex_);
    Statement select(db_,
                     "SELECT time_ns, bytes_freed, packs_removed, packs_repacked, bytes_repacked, "
                     "snapshots_removed FROM prunes WHERE machine_id = ? "
                     "ORDER BY time_ns DESC, id DESC LIMIT 1");
    select.Bind(1, machine_id);
    int rc = select.Step();
    if (rc == SQLITE_DONE) return std::optional<PruneRecord>();
    if (rc != SQLITE_ROW) return select.Error("find the last prune");
    auto u = [&](int column) { return static_cast<uint64_t>(select.Int(column)); };
    return std::optional<PruneRecord>(PruneRecord{select.Int(0), u(1), u(2), u(3), u(4), u(5)});
  }

  Status SaveSeed(int64_t machine_id, const SeedRecord& seed) override {
    std::lock_guard lock(mutex_);
    Statement upsert(db_,
                     "INSERT INTO seeds (machine_id, job, registered_ns, document, version) "
                     "VALUES (?, ?, ?, ?, 1) ON CONFLICT (machine_id, job) DO UPDATE SET "
                     "registered_ns = excluded.registered_ns, document = excluded.document, "
                     "version = version + 1");
    upsert.Bind(1, machine_id).Bind(2, seed.job).Bind(3, seed.registered_ns);
    upsert.Bind(4, EncodeSeedRecord(seed));
    return upsert.Run("save seed");
  }

  Result<SeedRecord> LoadSeed(int64_t machine_id, const std::string& job) override {
    ASSIGN_OR_RETURN(Versioned<SeedRecord> seed, LoadSeedVersioned(machine_id, job));
    return std::move(seed.value);
  }

  Result<Versioned<SeedRecord>> LoadSeedVersioned(int64_t machine_id,
                                                  const std::string& job) override {
    std::lock_guard lock(mutex_);
    Statement select(db_, "SELECT document, version FROM seeds WHERE machine_id = ? AND job = ?");
    select.Bind(1, machine_id).Bind(2, job);
    int rc = select.Step();
    if (rc == SQLITE_DONE) return Status::NotFound("this machine has no seed for job " + job);
    if (rc != SQLITE_ROW) return select.Error("load seed");
    ASSIGN_OR_RETURN(SeedRecord seed, ParseSeedRecord(select.Text(0)));
    return Versioned<SeedRecord>{std::move(seed), select.Int(1)};
  }

  Result<int64_t> SaveSeedIfVersion(int64_t machine_id, const SeedRecord& seed,
                                    int64_t expected_version) override {
    std::lock_guard lock(mutex_);
    if (expected_version == 0) {
      Statement insert(db_,
                       "INSERT INTO seeds (machine_id, job, registered_ns, document, version) "
                       "VALUES (?, ?, ?, ?, 1)");
      insert.Bind(1, machine_id).Bind(2, seed.job).Bind(3, seed.registered_ns);
      insert.Bind(4, EncodeSeedRecord(seed));
      if (insert.Step() == SQLITE_DONE) return int64_t{1};
      if (insert.error_code() == SQLITE_CONSTRAINT_PRIMARYKEY) return SeedCreated(seed);
      return insert.Error("save seed");
    }
    Statement update(db_,
                     "UPDATE seeds SET registered_ns = ?, document = ?, version = version + 1 "
                     "WHERE machine_id = ? AND job = ? AND version = ?");
    update.Bind(1, seed.registered_ns).Bind(2, EncodeSeedRecord(seed));
    update.Bind(3, machine_id).Bind(4, seed.job).Bind(5, expected_version);
    RETURN_IF_ERROR(update.Run("save seed"));
    if (sqlite3_changes(db_) == 1) return expected_version + 1;
    Statement exists(db_, "SELECT version FROM seeds WHERE machine_id = ? AND job = ?");
    exists.Bind(1, machine_id).Bind(2, seed.job);
    int rc = exists.Step();
    if (rc == SQLITE_DONE) return Status::NotFound("this machine has no seed for job " + seed.job);
    if (rc != SQLITE_ROW) return exists.Error("save seed");
    return SeedChanged(seed, expected_version, exists.Int(0));
  }

  Result<std::vector<SeedRecord>> ListSeeds(int64_t machine_id) override {
    std::lock_guard lock(mutex_);
    Statement select(db_,
                     "SELECT document FROM seeds WHERE machine_id = ? ORDER BY registered_ns, job");
    select.Bind(1, machine_id);
    std::vector<SeedRecord> seeds;
    int rc;
    while ((rc = select.Step()) == SQLITE_ROW) {
      ASSIGN_OR_RETURN(SeedRecord seed, ParseSeedRecord(select.Text(0)));
      seeds.push_back(std::move(seed));
    }
    if (rc != SQLITE_DONE) return select.Error("list seeds");
    return seeds;
  }

  // One statement decides: the row is inserted, or updated only while its
  // holder is the claimant or its time has run out.
  Result<Lease> ClaimLease(const std::string& name, const std::string& holder, int64_t now_ns,
                           int64_t ttl_ns) override {
    RETURN_IF_ERROR(CheckLeaseArguments(name, holder, ttl_ns));
    std::lock_guard lock(mutex_);
    Statement claim(
        db_,
        "INSERT INTO leases (name, holder, expires_ns, generation) VALUES (?1, ?2, ?3, 1) "
        "ON CONFLICT (name) DO UPDATE SET "
        "generation = CASE WHEN holder = excluded.holder THEN generation "
        "ELSE generation + 1 END, "
        "holder = excluded.holder, expires_ns = excluded.expires_ns "
        "WHERE holder = excluded.holder OR expires_ns <= ?4 "
        "RETURNING generation");
    int64_t expires = LeaseExpiry(now_ns, ttl_ns);
    claim.Bind(1, name).Bind(2, holder).Bind(3, expires).Bind(4, now_ns);
    int rc = claim.Step();
    if (rc == SQLITE_ROW) return Lease{name, holder, expires, claim.Int(0)};
    if (rc != SQLITE_DONE) return claim.Error("claim lease " + name);
    auto current = FindLeaseLocked(name);
    if (!current.ok()) return current.status();
    if (!current->has_value()) return Status::Locked("lease " + name + " vanished; claim again");
    return LeaseHeld(**current);
  }

  Result<Lease> RenewLease(const std::string& name, const std::string& holder, int64_t now_ns,
                           int64_t ttl_ns) override {
    RETURN_IF_ERROR(CheckLeaseArguments(name, holder, ttl_ns));
    std::lock_guard lock(mutex_);
    Statement renew(db_,
                    "UPDATE leases SET expires_ns = ? WHERE name = ? AND holder = ? "
                    "RETURNING generation");
    int64_t expires = LeaseExpiry(now_ns, ttl_ns);
    renew.Bind(1, expires).Bind(2, name).Bind(3, holder);
    int rc = renew.Step();
    if (rc == SQLITE_ROW) return Lease{name, holder, expires, renew.Int(0)};
    if (rc != SQLITE_DONE) return renew.Error("renew lease " + name);
    return LeaseLost(name, holder);
  }

  Status ReleaseLease(const std::string& name, const std::string& holder) override {
    std::lock_guard lock(mutex_);
    Statement release(db_, "DELETE FROM leases WHERE name = ? AND holder = ?");
    release.Bind(1, name).Bind(2, holder);
    return release.Run("release lease " + name);
  }

  Result<std::optional<Lease>> FindLease(const std::string& name) override {
    std::lock_guard lock(mutex_);
    return FindLeaseLocked(name);
  }

 private:
  // REQUIRES: mutex_ held.
  Result<std::optional<Lease>> FindLeaseLocked(const std::string& name) {
    Statement select(db_, "SELECT holder, expires_ns, generation FROM leases WHERE name = ?");
    select.Bind(1, name);
    int rc = select.Step();
    if (rc == SQLITE_DONE) return std::optional<Lease>();
    if (rc != SQLITE_ROW) return select.Error("find lease " + name);
    return std::optional<Lease>(Lease{name, select.Text(0), select.Int(1), select.Int(2)});
  }

  std::mutex mutex_;  // the connection is used by one thread at a time
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
  // The busy timeout first: switching to WAL needs a lock another process
  // opening the same file may hold for a moment.
  sqlite3_busy_timeout(db, 5000);
  Status status = Execute(db,
                          "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                          "PRAGMA foreign_keys=ON;",
                          "set the database up");
  if (status.ok()) status = Migrate(db, path);
  if (!status.ok()) {
    sqlite3_close(db);
    return status.WithContext("cannot open metadata database " + path);
  }
  return std::unique_ptr<MetadataStore>(new SqliteMetadataStore(db));
}

}  // namespace ferry
