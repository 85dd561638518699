// Import jobs: the offline-seeding shipment of disks to the datacenter, with
// the job and drive state machines of the cloud import service (DESIGN.md,
// "The workflow"). Pure logic — no storage, no HTTP — so every transition rule
// is unit-tested on its own and the clock is always passed in.
//
// Job:   Creating → Shipping → Received → Transferring → Packaging → Completed | Closed
//        Creating | Shipping → Cancelled;  Creating → Expired (no tracking number
//        14 days after creation; kept for the audit trail).
// Drive: Specified → Received → Transferring → Completed | CompletedMoreInfo | Failed
//        Specified → NeverReceived (14 days after shipping) → Received (it may still arrive)
//        Completed | CompletedMoreInfo | Failed → ShippedBack
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace ferry {

enum class JobState {
  kCreating,
  kShipping,
  kReceived,
  kTransferring,
  kPackaging,
  kCompleted,
  kClosed,
  kCancelled,
  kExpired
};
enum class DriveState {
  kSpecified,
  kReceived,
  kTransferring,
  kCompleted,
  kCompletedMoreInfo,
  kFailed,
  kNeverReceived,
  kShippedBack
};

const char* JobStateName(JobState state);
const char* DriveStateName(DriveState state);
Result<JobState> ParseJobState(const std::string& name);
Result<DriveState> ParseDriveState(const std::string& name);

constexpr int64_t kDay = 24ll * 3600 * 1000000000;
// A job without a tracking number this long after creation expires.
constexpr int64_t kTrackingDeadline = 14 * kDay;
// A drive not received this long after the job shipped is NeverReceived.
constexpr int64_t kArrivalDeadline = 14 * kDay;
// Deadlines are warned about this long before they bite.
constexpr int64_t kDeadlineWarning = 3 * kDay;

struct ShippingInfo {
  std::string carrier;
  std::string tracking_number;
  std::string return_address;
  std::string return_carrier_account;
};

struct DriveRecord {
  std::string drive_id;  // the disk's serial or the ID diskprep wrote on it
  DriveState state = DriveState::kSpecified;
  std::string manifest_hash;  // SHA-256 of the signed manifest, hex
  uint64_t bytes = 0;         // bytes of packs placed on the drive
  uint64_t bytes_succeeded = 0;
  int percent_complete = 0;
  std::string reason;                                     // why Failed / CompletedMoreInfo
  std::vector<std::string> missing, corrupt, unexpected;  // files, from ingest
};

struct JobEvent {
  int64_t time_ns = 0;
  std::string message;
};

// A job's key at the import service: "VAULT:MACHINE:NAME" for a machine's job,
// NAME alone for one the admin created. Job names are chosen by machines, so
// they are scoped: two machines may both call a job seed-nov, and neither can
// take, see or learn of the other's. Names never contain ':' (they are entity
// names, A-Z a-z 0-9 . _ -), so the two forms cannot collide.
std::string QualifiedJobName(const std::string& vault, const std::string& machine,
                             const std::string& name);

// A tracking number as the import service compares them: without spaces and in
// upper case. Carriers print them in groups and people type them in either case
// ("1z 999 aa1" is 1Z999AA1), and one shipment must not be claimed by two jobs.
std::string NormalizeTrackingNumber(std::string_view tracking_number);

struct ImportJob {
  std::string name;
  std::string storage_account;
  std::string container;
  std::string public_key;  // the machine's Ed25519 key for manifests, base64
  std::string vault;       // who created it, for authorization
  std::string machine;
  JobState state = JobState::kCreating;
  int64_t created_ns = 0;
  int64_t shipped_ns = 0;
  std::optional<ShippingInfo> shipping;
  std::vector<DriveRecord> drives;
  std::vector<JobEvent> events;

  DriveRecord* FindDrive(const std::string& drive_id);
  // The job's key at the import service (QualifiedJobName).
  std::string qualified_name() const { return QualifiedJobName(vault, machine, name); }
};

// Refuses a transition the state machine does not allow, with a message that
// names both states (the HTTP layer answers 409 with it).
Status CheckJobTransition(JobState from, JobState to);
Status CheckDriveTransition(DriveState from, DriveState to);

// Moves the job (and records an event) if the transition is legal.
Status TransitionJob(ImportJob& job, JobState to, int64_t now_ns, const std::string& why);
Status TransitionDrive(ImportJob& job, DriveRecord& drive, DriveState to, int64_t now_ns,
                       const std::string& why);

// Attaches shipping information: only while Creating or Shipping (a correction),
// never after the deadline has expired the job. Moves Creating → Shipping.
Status ShipJob(ImportJob& job, const ShippingInfo& shipping, int64_t now_ns);

// Applies the deadlines that have passed by `now_ns` (expiry, NeverReceived).
// Returns true if anything changed.
bool ApplyDeadlines(ImportJob& job, int64_t now_ns);
// Human warnings for deadlines within kDeadlineWarning of `now_ns`.
std::vector<std::string> DeadlineWarnings(const ImportJob& job, int64_t now_ns);

// JSON encoding for storage and the API.
std::string EncodeImportJob(const ImportJob& job);
Result<ImportJob> ParseImportJob(const std::string& json);

}  // namespace ferry
