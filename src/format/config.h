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
  // zstd level 3 (zstd's own default, and restic's): on the benchmark corpus
  // the initial repository is as large as at level 2 (its bulk does not
  // compress), but an incremental of edited text sends ~4% less, for ~6% more
  // backup CPU; on a slow link the bytes are what counts (docs/benchmarks.md).
  // Fixed per repository: lost seed packs are rebuilt byte for byte with it.
  int compression_level = 3;
};

Bytes EncodeConfig(const RepositoryConfig& config);
Result<RepositoryConfig> ParseConfig(ByteView json);

}  // namespace ferry
