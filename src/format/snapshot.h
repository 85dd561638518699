// Snapshot objects: one backup's root tree and its description
// (docs/format.md, "Snapshots"). JSON, sealed as kind "snapshot".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/id.h"

namespace ferry {

struct SnapshotSummary {
  uint64_t files_new = 0;
  uint64_t files_changed = 0;
  uint64_t files_unmodified = 0;
  uint64_t dirs = 0;
  uint64_t bytes_total = 0;  // sum of file sizes in the snapshot
  uint64_t bytes_read = 0;
  uint64_t data_added = 0;  // bytes of new packs
  uint64_t warnings = 0;
};

struct Snapshot {
  int64_t time_ns = 0;
  Id tree;
  std::vector<std::string> paths;  // absolute, as given
  std::string hostname;
  std::string username;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<std::string> tags;
  std::vector<std::string> excludes;
  std::optional<Id> parent;
  bool incomplete = false;  // some files could not be read
  std::string program_version;
  SnapshotSummary summary;
};

Bytes EncodeSnapshot(const Snapshot& snapshot);
Result<Snapshot> ParseSnapshot(ByteView json);

}  // namespace ferry
