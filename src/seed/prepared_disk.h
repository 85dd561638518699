// PreparedDisk: a shipping disk whose manifest diskprep has written and
// signed — what diskprep reports, and what its journal records so that a
// re-run after the import job was created can report it again.
#pragma once

#include <cstdint>
#include <string>

namespace ferry {

struct PreparedDisk {
  std::string drive_id;
  std::string path;  // where the disk is mounted
  int disk_number = 0;
  int disk_count = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::string manifest_hash;  // SHA-256 of the manifest, as the import job holds it
};

}  // namespace ferry
