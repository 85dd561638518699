// Datacenter ingest (docs/seeding.md, "Datacenter ingest"): the shipped disks
// of an import job are checked against the job and copied into the job's
// storage container, and every drive ends Completed, CompletedMoreInfo or
// Failed at the import service with the exact files that were missing,
// corrupt or unexpected.
//
// For each disk: label → drive of the job → manifest hash equals the one
// recorded at job creation → signature verifies against the job's public key
// → manifest names the job's account and container → every listed pack is
// copied with CopyVerifiedPack (committed only if its SHA-256 equals its
// name). Nothing here needs a key that decrypts data.
//
// Idempotent: packs already in the container were verified when they were
// committed, so a re-run (after kill -9, or for a drive that arrives late)
// skips them, and state transitions already made are not made again.
//
// The import service is behind ImportService, so the logic is tested without
// HTTP (tests/unit/ingest_test.cc); the CLI provides the HTTP implementation.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "seed/import_job.h"
#include "util/status.h"

namespace ferry {

// What ingest needs to know about a job, as the import service reports it.
struct IngestDrive {
  std::string drive_id;
  DriveState state = DriveState::kSpecified;
  std::string manifest_hash;  // SHA-256 of the signed manifest, hex
  uint64_t bytes = 0;
};

struct IngestJob {
  std::string name;
  JobState state = JobState::kCreating;
  std::string storage_account;
  std::string container;
  std::string public_key;  // Ed25519, base64
  // Where the import service keeps the job's container (a storage location;
  // seed/ingest_container.h); empty if it does not say.
  std::string container_location;
  // For a directory: the storage root above it, as the vault's machine names
  // it, and the root's ID (seed/storage_root_id.h); empty for object stores.
  std::string storage_root;
  std::string storage_root_id;
  std::vector<IngestDrive> drives;
};

// A change to one drive: a state transition and/or progress and the lists.
struct DriveUpdate {
  std::string drive_id;
  std::optional<DriveState> state;  // no transition when empty
  std::string reason;
  uint64_t bytes_succeeded = 0;
  int percent_complete = 0;
  bool with_lists = false;  // send missing/corrupt/unexpected (final reports)
  std::vector<std::string> missing, corrupt, unexpected;
};

// The import service's side of ingest (/import/v1 with an operator token).
// Every call is one request; a refused transition is an error naming both
// states. Called from one thread at a time.
class ImportService {
 public:
  virtual ~ImportService() = default;
  virtual Result<IngestJob> GetJob(const std::string& name) = 0;
  virtual Status SetJobState(const std::string& job, JobState state,
                             const std::string& message) = 0;
  virtual Status UpdateDrive(const std::string& job, const DriveUpdate& update) = 0;
};

struct IngestOptions {
  std::string job;
  std::vector<std::string> disks;  // mount points (or directories) of the disks
  // The storage account root, a storage location of any scheme (a directory,
  // azure://…, s3://…): the job's container is ROOT/ACCOUNT/CONTAINER
  // (seed/ingest_container.h). Empty: the job's container_location, where the
  // import service (and so the vault, which adopts from it) keeps it. A root
  // that is not the vault's is refused (the vault would not find the packs):
  // a directory must hold the vault's storage root ID, an object store's
  // container must be the service's container_location.
  std::string storage_root;
  // Packs copied at once: while one waits for the device (reads and writes
  // bypass the page cache), another is hashed. 4 measured best on 2 cores.
  int copy_threads = 4;
  // Seconds between progress reports to the service while a drive copies.
  double report_interval = 5.0;
  // Polled between packs: stop cleanly (drives stay Transferring; a re-run resumes).
  const std::atomic<bool>* interrupt = nullptr;
  // Informational lines ("package received with 2 drives"), from the calling thread.
  std::function<void(const std::string&)> say;
};

// Counters for a progress line, updated while a drive copies (any thread may read).
struct IngestProgress {
  std::atomic<uint64_t> bytes_done{0};    // of the current drive: in the container
  std::atomic<uint64_t> bytes_total{0};   // of the current drive: listed in its manifest
  std::atomic<uint64_t> bytes_copied{0};  // by this run, all drives
  std::mutex mutex;
  std::string drive_id;  // guarded by mutex
};

// What happened to one presented disk.
struct DriveReport {
  std::string disk;      // the path given
  std::string drive_id;  // empty if the disk has no readable label
  // The drive's state after this run; empty if the disk was skipped (not a
  // drive of this job, unreadable label).
  std::string state;
  std::string reason;         // why Failed / CompletedMoreInfo / skipped
  bool already_done = false;  // finished by an earlier run; nothing was done now
  uint64_t files_listed = 0, bytes_listed = 0;
  uint64_t files_copied = 0, bytes_copied = 0;    // by this run
  uint64_t files_present = 0, bytes_present = 0;  // already in the container
  std::vector<std::string> missing;               // IDs listed but not on the disk
  std::vector<std::string> corrupt;               // IDs whose size or hash is wrong (not copied)
  std::vector<std::string> unexpected;            // paths on the disk the manifest does not list
};

struct IngestReport {
  std::string job;
  std::string container;  // its storage location
  std::string job_state;  // at the end
  std::vector<DriveReport> drives;
  std::vector<std::string> never_received;  // drives marked NeverReceived by this run
  uint64_t bytes_copied = 0;
  // True if every presented disk ended Completed.
  bool AllCompleted() const;
};

// Runs the ingest. An error (the service refused, the container is not
// writable, interrupted) stops it; drives already finished keep their state,
// and the one being copied stays Transferring, so a re-run resumes.
// `progress` may be null.
Result<IngestReport> Ingest(const IngestOptions& options, ImportService& service,
                            IngestProgress* progress);

}  // namespace ferry
