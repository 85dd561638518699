// Blob compression: zstd, skipped where it does not pay.
#pragma once

#include <cstdint>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

enum class Compression : uint8_t { kNone = 0, kZstd = 1 };

// Compresses `raw` with zstd at `level` into `scratch` and returns kZstd with
// `*stored` viewing the compressed bytes, or returns kNone with `*stored` =
// `raw` when compression saves less than 1/32 of the size (incompressible data
// then costs nothing on restore).
Compression CompressIfUseful(ByteView raw, int level, BufferBytes& scratch, ByteView* stored);

// Decompresses a zstd frame whose decompressed size must be exactly `raw_length`.
Result<Bytes> Decompress(Compression compression, ByteView stored, uint32_t raw_length);

}  // namespace ferry
