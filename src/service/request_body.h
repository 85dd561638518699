// The JSON bodies the vault accepts (docs/protocol.md), parsed in one place.
//
// Bodies come from anyone who can reach the port, so each parser takes the raw
// bytes and either returns a typed request whose every field has been checked
// or InvalidArgument with a message that starts with the field at fault
// ("drives[2].drive_id: ..."): the vault answers 400 with it. Nothing here
// throws, whatever the bytes (tests/fuzz: vault_json_body, import_job_body).
// Unknown fields are ignored, so that newer clients can add some.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repo/retention_policy.h"
#include "seed/import_job.h"
#include "service/seed_record.h"
#include "util/status.h"

namespace ferry {

// Vault, machine, job, storage account, container and drive names: 1-64
// characters of A-Z a-z 0-9 . _ -, not starting with '.'. They become paths on
// the vault and at the datacenter, and segments of URLs.
bool IsEntityName(std::string_view name);

// The most drives one import job may list (a shipment is a box of disks).
constexpr size_t kMaxJobDrives = 1024;
// Free text (carrier, return address, messages, reasons) is at most this long.
constexpr size_t kMaxTextField = 4096;
// A normalised tracking number: 1-64 of A-Z 0-9 -.
constexpr size_t kMaxTrackingNumber = 64;

// POST /vault/v1/vaults and /vault/v1/vaults/V/machines: {"name": NAME}. Only
// the shape is checked here; whether NAME is an entity name is the caller's
// (it answers bad_name).
Result<std::string> ParseNameRequest(std::string_view body, const std::string& what);

// POST /vault/v1/seeds/JOB.
struct SeedRegistrationRequest {
  std::string storage_account;
  std::string container;
  std::optional<std::string> staging;
  int64_t since_ns = 0;
  std::vector<SeedPack> packs;
};
Result<SeedRegistrationRequest> ParseSeedRegistrationRequest(std::string_view body);

// POST /import/v1/jobs. The vault adds vault, machine, times and events.
struct CreateJobRequest {
  std::string name;
  std::string storage_account;
  std::string container;
  std::string public_key;           // base64 of a 32-byte Ed25519 public key
  std::vector<DriveRecord> drives;  // drive_id, bytes, manifest_hash; IDs unique
};
Result<CreateJobRequest> ParseCreateJobRequest(std::string_view body);

// POST /import/v1/jobs/NAME/ship; the tracking number comes back normalised
// (NormalizeTrackingNumber).
Result<ShippingInfo> ParseShipJobRequest(std::string_view body);

// POST /import/v1/jobs/NAME/state.
struct JobStateRequest {
  JobState state = JobState::kCreating;
  std::string message;
};
Result<JobStateRequest> ParseJobStateRequest(std::string_view body);

// POST /import/v1/jobs/NAME/drives/ID: every field optional; absent ones are
// left as they are.
struct DriveUpdateRequest {
  std::optional<DriveState> state;
  std::optional<std::string> reason;
  std::optional<uint64_t> bytes_succeeded;
  std::optional<int> percent_complete;  // 0-100
  std::optional<std::vector<std::string>> missing, corrupt, unexpected;
};
Result<DriveUpdateRequest> ParseDriveUpdateRequest(std::string_view body);

// PUT /vault/v1/vaults/V/policy, and the "policy" of what GET
// /vault/v1/policy answers: a vault's backup policy. The rules are forget's
// (keep_last, keep_hourly … keep_yearly, keep_within, keep_within_hourly …,
// keep_tags), checked by CompileRetentionRules; a policy must keep something.
// `prune`: whether the agent prunes after forgetting (default true).
struct VaultPolicy {
  RetentionRules rules;
  bool prune = true;
};
// The longest duration text ("2y5m7d3h") and tag a policy may hold.
constexpr size_t kMaxPolicyText = 64;
// The most keep_tags one policy may list.
constexpr size_t kMaxPolicyTags = 64;
Result<VaultPolicy> ParseVaultPolicy(std::string_view body);
// The JSON ParseVaultPolicy reads; rules at their defaults are left out.
std::string EncodeVaultPolicy(const VaultPolicy& policy);

// POST /vault/v1/prunes: what a prune did, as the agent reports it with the
// maintenance token. The vault adds the time (its own clock) and the machine.
struct PruneReportRequest {
  uint64_t bytes_freed = 0;
  uint64_t packs_removed = 0;
  uint64_t packs_repacked = 0;
  uint64_t bytes_repacked = 0;
  uint64_t snapshots_removed = 0;
};
Result<PruneReportRequest> ParsePruneReportRequest(std::string_view body);

}  // namespace ferry
