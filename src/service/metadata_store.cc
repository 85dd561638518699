// What every MetadataStore shares: the compare-and-swap update loops and the
// factory that picks an implementation from a location.
#include "service/metadata_store.h"

#include <cstdint>
#include <utility>

#include "service/metadata_store_internal.h"
#include "service/postgres_metadata_store.h"
#include "util/clock.h"

namespace ferry {

std::optional<std::string> TrackingKey(const ImportJob& job) {
  if (!job.shipping) return std::nullopt;
  return NormalizeTrackingNumber(job.shipping->tracking_number);
}

Status TrackingNumberTaken(const ImportJob& job) {
  return Status::AlreadyExists("tracking number " + TrackingKey(job).value_or("") +
                               " already belongs to another import job; check the number on the "
                               "carrier's receipt");
}

Status JobChanged(const ImportJob& job, int64_t expected_version, int64_t stored_version) {
  return Status::Locked("import job " + job.name + " changed since it was read (version " +
                        std::to_string(expected_version) + ", now " +
                        std::to_string(stored_version) + "); read it again");
}

Status SeedChanged(const SeedRecord& seed, int64_t expected_version, int64_t stored_version) {
  return Status::Locked("seed " + seed.job + " changed since it was read (version " +
                        std::to_string(expected_version) + ", now " +
                        std::to_string(stored_version) + "); read it again");
}

Status SeedCreated(const SeedRecord& seed) {
  return Status::Locked("seed " + seed.job +
                        " was registered by another request meanwhile; "
                        "read it again");
}

Status CheckLeaseArguments(const std::string& name, const std::string& holder, int64_t ttl_ns) {
  if (name.empty()) return Status::InvalidArgument("a lease needs a name");
  if (holder.empty()) return Status::InvalidArgument("lease " + name + " needs a holder");
  if (ttl_ns <= 0)
    return Status::InvalidArgument("lease " + name + ": the time to live must be positive");
  return Status::Ok();
}

Status LeaseHeld(const Lease& lease) {
  return Status::Locked("lease " + lease.name + " is held by " + lease.holder + " until " +
                        FormatTimeRfc3339(lease.expires_ns));
}

Status LeaseLost(const std::string& name, const std::string& holder) {
  return Status::Locked("lease " + name + " is no longer held by " + holder +
                        " (another holder took it over, or it was released): stop its work");
}

int64_t LeaseExpiry(int64_t now_ns, int64_t ttl_ns) {
  if (ttl_ns > 0 && now_ns > INT64_MAX - ttl_ns) return INT64_MAX;
  return now_ns + ttl_ns;
}

Result<ImportJob> MetadataStore::UpdateImportJob(const std::string& name,
                                                 const std::function<Status(ImportJob&)>& change) {
  for (int attempt = 0; attempt < kMaxCompareAndSwapAttempts; ++attempt) {
    ASSIGN_OR_RETURN(Versioned<ImportJob> stored, LoadImportJobVersioned(name));
    RETURN_IF_ERROR(change(stored.value));
    auto saved = SaveImportJobIfVersion(stored.value, stored.version);
    if (saved.ok()) return std::move(stored.value);
    if (!IsConflict(saved.status())) return saved.status();
  }
  return Status::Locked("import job " + name + " changed " +
                        std::to_string(kMaxCompareAndSwapAttempts) +
                        " times while this change was applied; try again");
}

Result<SeedRecord> MetadataStore::UpdateSeed(int64_t machine_id, const std::string& job,
                                             const std::function<Status(SeedRecord&)>& change,
                                             bool create) {
  for (int attempt = 0; attempt < kMaxCompareAndSwapAttempts; ++attempt) {
    Versioned<SeedRecord> stored;
    auto loaded = LoadSeedVersioned(machine_id, job);
    if (loaded.ok()) {
      stored = std::move(*loaded);
    } else if (!create || !loaded.status().IsNotFound()) {
      return loaded.status();
    } else {
      stored.value.job = job;  // version 0: created by the save below
    }
    RETURN_IF_ERROR(change(stored.value));
    auto saved = SaveSeedIfVersion(machine_id, stored.value, stored.version);
    if (saved.ok()) return std::move(stored.value);
    if (!IsConflict(saved.status())) return saved.status();
  }
  return Status::Locked("seed " + job + " changed " + std::to_string(kMaxCompareAndSwapAttempts) +
                        " times while this change was applied; try again");
}

bool IsPostgresLocation(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::string RedactDatabaseLocation(const std::string& location) {
  if (!IsPostgresLocation(location)) return location;
  std::string out = location;
  // postgresql://user:secret@host/db: the password sits between the first
  // ':' after the scheme and the last '@' of the authority.
  size_t authority = out.find("://") + 3;
  size_t authority_end = out.find_first_of("/?", authority);
  if (authority_end == std::string::npos) authority_end = out.size();
  size_t at = out.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority) {
    size_t colon = out.find(':', authority);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // …?password=secret&sslmode=…
  for (size_t search = 0;;) {
    size_t key = out.find("password=", search);
    if (key == std::string::npos) break;
    search = key + 9;
    if (key > 0 && out[key - 1] != '?' && out[key - 1] != '&') continue;  // e.g. "nopassword="
    size_t end = out.find('&', search);
    out.replace(search, (end == std::string::npos ? out.size() : end) - search, "***");
  }
  return out;
}

Result<std::unique_ptr<MetadataStore>> OpenMetadataStore(const std::string& location) {
  if (location.empty())
    return Status::InvalidArgument("no metadata database given: a file path or postgresql://…");
  if (IsPostgresLocation(location)) return OpenPostgresMetadataStore(location);
  return OpenSqliteMetadataStore(location);
}

}  // namespace ferry
