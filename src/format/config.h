// The repository config object (docs/format.md, "Config"): format version,
// repository ID and chunker parameters. Sealed as kind "config" with an
// all-zero repository ID in the associated data, because the ID is inside.
#pragma once

#include "chunk/chunker.h"
#include "util/bytes.h"
#include "util/id.h"

namespace ferry {

constexpr uint32_t kRepositoryFormatVersion = 1;

struct RepositoryConfig {
  uint32_t version = kRepositoryFormatVersion;
  Id id;
  ChunkerParams chunker;
  uint32_t pack_size = 16u << 20;
  // zstd level 2: ~1% smaller than level 1 on mixed data for ~15% more
  // compression time. Level 3 made the benchmark's incremental ~3% smaller
  // but cost ~12% of backup throughput; smaller chunks saved more bytes for
  // less (ChunkerParams). Fixed per repository: lost seed packs are rebuilt
  // byte for byte with it.
  int compression_level = 2;
};

Bytes EncodeConfig(const RepositoryConfig& config);
Result<RepositoryConfig> ParseConfig(ByteView json);

}  // namespace ferry
