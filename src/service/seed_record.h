// Seed records: what the vault knows of a machine's offline seed — the packs
// an offline backup wrote to staging, which travel on disks instead of the
// network (docs/seeding.md). The record lets the vault list snapshots as
// awaiting seed, adopt the packs from the storage container when the import
// job is done, and say which packs never arrived.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/id.h"
#include "util/status.h"

namespace ferry {

enum class SeedState {
  kAwaiting,   // registered; the disks are being prepared or travelling
  kAdopting,   // the vault is copying packs from the container
  kAdopted,    // adoption ran; packs it could not find are listed in `missing`
  kCleanedUp,  // every pack is in the vault; staging and container copies deleted
};

const char* SeedStateName(SeedState state);

struct SeedPack {
  Id id;
  uint64_t size = 0;
};

struct SeedRecord {
  std::string job;
  std::string storage_account;
  std::string container;
  int64_t registered_ns = 0;
  // The start of the earliest backup that staged packs: snapshots from then on
  // may need the seed's packs, so they are listed as awaiting it.
  int64_t since_ns = 0;
  // Where the machine staged the packs (a path on the machine, not a secret):
  // the agent reads from there while the disks travel and repairs from there.
  std::string staging;
  SeedState state = SeedState::kAwaiting;
  std::vector<SeedPack> packs;  // sorted by ID, no duplicates

  // The last adoption's report.
  int64_t adopted_ns = 0;
  uint64_t packs_from_container = 0;
  uint64_t bytes_from_container = 0;
  std::vector<Id> missing;  // not in the container
  std::vector<Id> corrupt;  // in the container, but not matching their name
};

// Adds packs (registering the same pack twice is harmless: backups resume).
// Returns how many were new.
size_t AddSeedPacks(SeedRecord& seed, const std::vector<SeedPack>& packs);

std::string EncodeSeedRecord(const SeedRecord& seed);
Result<SeedRecord> ParseSeedRecord(const std::string& json);

}  // namespace ferry
