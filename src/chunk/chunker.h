// Content-defined chunker (FastCDC with normalized chunking, Xia et al. 2016).
//
// A boundary is declared where a rolling "gear" hash of the last 64 bytes has
// its top bits zero. The gear table is derived from the repository's secret
// chunker seed, so the boundaries (and therefore chunk sizes, which an
// observer of the encrypted repository can see) do not fingerprint known
// plaintext. Boundaries depend only on the bytes since the previous boundary,
// so after an insertion they resynchronise within a chunk or two.
//
// Algorithm per chunk, with min ≤ avg ≤ max:
//   skip the first `min` bytes (no cut can happen there);
//   for i in [min, avg):  h = (h << 1) + gear[b];  cut if h & mask_strict == 0
//   for i in [avg, max):  h = (h << 1) + gear[b];  cut if h & mask_loose  == 0
//   cut at max.
// mask_strict has log2(avg)+2 bits, mask_loose log2(avg)-2 bits: this
// concentrates chunk sizes around avg (the "normalized" part of FastCDC).
#pragma once

#include <array>
#include <cstdint>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

// The defaults for new repositories. 512 KiB on average (restic: 1 MiB,
// ~1.5 MiB in effect): an edit or append re-sends the chunks around it, and on
// the benchmark's 1% mutation halving the chunks cut the incremental by ~9%
// (0.95 of restic's bytes on the wire instead of 1.04), for ~4% more backup
// CPU, twice the index entries (~120 MB of memory per TB backed up) and a
// slightly smaller initial repository (docs/benchmarks.md).
struct ChunkerParams {
  uint32_t min_size = 256 * 1024;
  uint32_t average_size = 512 * 1024;  // must be a power of two
  uint32_t max_size = 8 * 1024 * 1024;

  Status Validate() const;
};

class Chunker {
 public:
  // `seed` is the repository's chunker subkey (32 bytes).
  Chunker(ByteView seed, const ChunkerParams& params);

  // Returns the length of the first chunk of `data`, or 0 if no boundary lies
  // within `data` and more input could still move it (data.size() < max and
  // !at_end). With at_end, returns data.size() when no boundary is found.
  size_t NextBoundary(ByteView data, bool at_end) const;

  const ChunkerParams& params() const { return params_; }

 private:
  ChunkerParams params_;
  uint64_t mask_strict_;
  uint64_t mask_loose_;
  std::array<uint64_t, 256> gear_;
};

}  // namespace ferry
