// Staging: the directory an offline backup writes its data packs to, from
// which `ferry diskprep` copies them onto disks (docs/seeding.md, "Staging").
// It may be a local disk, a NAS mount or the shipping disk itself; it is
// self-describing (staging.json) and holds packs in the repository layout.
#pragma once

#include <string>
#include <vector>

#include "engine/exclude_filter.h"
#include "format/staging_info.h"
#include "util/id.h"
#include "util/status.h"

namespace ferry {

struct StagedPack {
  Id id;
  uint64_t size = 0;
};

// Reads DIR/staging.json; NotFound if DIR is not a staging directory.
Result<StagingInfo> ReadStagingInfo(const std::string& dir);

// Creates the staging layout with `info`, or checks that an existing staging
// directory belongs to the same job and repository (a resumed or repeated
// offline backup); refuses one of another job or repository.
Status PrepareStaging(const std::string& dir, const StagingInfo& info);

// Every pack in DIR/data, sorted by ID.
Result<std::vector<StagedPack>> ListStagedPacks(const std::string& dir);

// What an offline backup of `paths` will roughly need in staging: the bytes of
// the files, times the ratio zstd achieves on a sample of them. Dedup is not
// counted, so for most data this is an upper bound.
struct SeedSizeEstimate {
  uint64_t files = 0;
  uint64_t file_bytes = 0;  // allocated bytes of regular files (holes excluded)
  double compression_ratio = 1.0;
  uint64_t estimated_bytes = 0;
};
Result<SeedSizeEstimate> EstimateSeedSize(const std::vector<std::string>& paths,
                                          const ExcludeFilter& excludes, bool one_file_system,
                                          int compression_level);

// Refuses, with the numbers, when DIR has less room than the estimate still
// needs (`already_staged` bytes of an earlier, interrupted run count as done).
Status CheckStagingSpace(const std::string& dir, const SeedSizeEstimate& estimate,
                         uint64_t already_staged);

}  // namespace ferry
