// Blob compression: zstd, skipped where it does not pay.
#pragma once

#include <cstdint>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

enum class Compression : uint8_t { kNone = 0, kZstd = 1 };

// Compresses `raw` with zstd at `level` into `out` and returns kZstd, or leaves
// `out` empty and returns kNone when compression saves less than 1/32 of the
// size (incompressible data costs nothing on restore that way).
Compression CompressIfUseful(ByteView raw, int level, Bytes& out);

// Decompresses a zstd frame whose decompressed size must be exactly `raw_length`.
Result<Bytes> Decompress(Compression compression, ByteView stored, uint32_t raw_length);

}  // namespace ferry
