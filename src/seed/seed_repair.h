// Seed repair: puts into the vault the packs of an offline seed that never
// arrived (a lost disk, a corrupt file), so that no snapshot is left
// referring to data the vault does not have (docs/seeding.md, "Adoption").
//
// First choice is the staging copy, checked against its name. When staging is
// gone, the pack is rebuilt from the source files: packs are deterministic
// given their salt and blobs, and the index still records each lost pack's
// salt and the offset, compression and ID of every blob in it, while the
// snapshots' trees say which file (and where in it) each blob came from. The
// rebuilt pack must hash to the lost pack's name, so it is byte-identical and
// the index needs no change. A blob whose file has changed since the backup
// cannot be rebuilt; the report says so, naming the file.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "repo/repository.h"

namespace ferry {

enum class RepairSource { kStaging, kSource, kUnrecoverable };

struct PackRepair {
  Id pack;
  RepairSource source = RepairSource::kUnrecoverable;
  uint64_t bytes = 0;
  std::string detail;  // why it could not be recovered, or which staging copy was bad
};

// Repairs `missing` packs of `repository` into `destination` (the vault;
// `repository.backend()` may include the staging directory for reads).
// `staging_dir` may be empty or no longer exist. `on_pack` is called after
// each pack (for progress). Only errors of the destination fail the call;
// packs that cannot be recovered are reported, never skipped silently.
Result<std::vector<PackRepair>> RepairMissingPacks(
    Repository& repository, Backend& destination, const std::vector<Id>& missing,
    const std::string& staging_dir, const std::function<void(const PackRepair&)>& on_pack);

}  // namespace ferry
