// The engine of `ferry diskprep`: puts the packs of a staging directory on
// shipping disks, proves every copy by reading it back from the device,
// writes each disk's label, manifest and signature, and creates the import
// job (docs/seeding.md, "diskprep").
//
//   check the job name → take the disks (refuse another job's, erase foreign
//   content only when confirmed) → look at what the disks already hold →
//   place the missing packs (largest first, first disk with room) → copy and
//   read back, several packs in flight at once (each: read staging → write →
//   fdatasync → rename → read back → journal)
//   → manifests and signatures → create the import job
//
// Every step is journalled (seed/diskprep_journal.h), so a re-run resumes.
// Nothing here talks to a terminal or the network: prompts, the import
// service and progress go through DiskPrepHooks, ImportJobClient and
// DiskPrepProgress, which the command (cli/cmd_diskprep.cc) provides.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crypto/signature.h"
#include "format/staging_info.h"
#include "seed/prepared_disk.h"
#include "util/status.h"

namespace ferry {

// What a job looks like to diskprep at the import service.
struct ImportJobDrive {
  std::string drive_id;
  uint64_t bytes = 0;
  std::string manifest_hash;  // SHA-256 hex of the manifest's bytes
};

struct ImportJobRequest {
  std::string name;
  std::string storage_account;
  std::string container;
  std::string public_key;  // base64 of the Ed25519 public key
  std::vector<ImportJobDrive> drives;
};

struct ImportJobInfo {
  std::string name;
  std::string state;
  std::string public_key;
  std::string ship_to;  // the datacenter's shipping address
  std::vector<ImportJobDrive> drives;
};

// The import service, as the machine (POST/GET /import/v1/jobs).
class ImportJobClient {
 public:
  virtual ~ImportJobClient() = default;
  // The job, or nullopt if the service has none of that name (404).
  virtual Result<std::optional<ImportJobInfo>> Find(const std::string& name) = 0;
  virtual Result<ImportJobInfo> Create(const ImportJobRequest& request) = 0;
};

// What a disk holds that is not ferry's (anything but lost+found).
struct ForeignFiles {
  uint64_t files = 0;  // everything but directories: files, links, devices, …
  uint64_t bytes = 0;  // of the regular files
  // The first few, as paths relative to the disk (printable), to show the user.
  std::vector<std::string> examples;
  static constexpr size_t kMaxExamples = 5;
};

struct DiskPrepHooks {
  // A disk holds files that are not ferry's. OK erases them; any other Status
  // refuses the disk with that error. Unset: refuse.
  std::function<Status(const std::string& disk, const ForeignFiles& foreign)> confirm_erase;
  // Every disk is full and `packs` packs (`bytes` bytes) are left: the path of
  // one more disk, or nullopt to stop (the packs that fit are still copied).
  std::function<std::optional<std::string>(uint64_t packs, uint64_t bytes)> another_disk;
  // Called once, when copying (or, direct-to-device, reading back) starts and
  // no more hooks that ask the user will be called: time to show progress.
  std::function<void()> start_copy;
  // Something the user should know that does not stop the run.
  std::function<void(const std::string&)> warn;
  // Tests only: called with a copy's path after it is renamed into place and
  // before it is read back (to corrupt it, or count copies).
  std::function<void(const std::string& path)> before_read_back;
};

// Updated by the engine while it runs; read by a progress display.
struct DiskPrepProgress {
  std::atomic<uint64_t> packs_total{0};  // packs to copy or read back in this run
  std::atomic<uint64_t> packs_done{0};
  std::atomic<uint64_t> bytes_total{0};
  std::atomic<uint64_t> bytes_copied{0};
  std::atomic<uint64_t> bytes_verified{0};
};

struct DiskPrepOptions {
  std::string staging;             // the staging directory
  std::vector<std::string> disks;  // mount points (directories), in order
  uint64_t max_per_disk = 0;       // bytes of this job per disk; 0 = no limit
  SigningKey signing_key;
  const std::atomic<bool>* interrupted = nullptr;  // stop cleanly when it turns true
};

struct DiskPrepResult {
  StagingInfo staging;
  bool direct = false;  // the staging directory is the shipping disk
  // False when the disks were full: `packs_left` packs of `bytes_left` bytes
  // are on no disk yet, and no manifest or job was written.
  bool complete = false;
  uint64_t packs_left = 0;
  uint64_t bytes_left = 0;
  std::vector<std::string> disks_used;  // every disk taken, including prompted ones
  std::vector<PreparedDisk> disks;      // when complete
  std::optional<ImportJobInfo> job;     // when complete
  bool job_existed = false;             // created by an earlier run (journal)
  // What this run did, for the summary (and tests).
  uint64_t packs_copied = 0;
  uint64_t packs_reverified = 0;  // found on a disk without a journal record
  uint64_t packs_already_done = 0;
  uint64_t bytes_copied = 0;
};

Result<DiskPrepResult> PrepareDisks(const DiskPrepOptions& options, const DiskPrepHooks& hooks,
                                    ImportJobClient& jobs, DiskPrepProgress& progress);

}  // namespace ferry
