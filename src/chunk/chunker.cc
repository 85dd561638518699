#include "chunk/chunker.h"

#include <bit>

#include "crypto/kdf.h"

namespace ferry {

Status ChunkerParams::Validate() const {
  if (!std::has_single_bit(average_size) || average_size < 4096)
    return Status::InvalidArgument("chunker average size must be a power of two ≥ 4 KiB");
  if (min_size == 0 || min_size > average_size || average_size > max_size)
    return Status::InvalidArgument("chunker sizes must satisfy 0 < min ≤ average ≤ max");
  if (max_size > 64u * 1024 * 1024)
    return Status::InvalidArgument("chunker max size must be at most 64 MiB");
  return Status::Ok();
}

namespace {
// A mask of the top `bits` bits: after (h << 1) shifts, the top bits of the
// gear hash depend on the last 64 input bytes, which is the rolling window.
uint64_t TopBits(int bits) { return bits <= 0 ? 0 : ~uint64_t{0} << (64 - bits); }
}  // namespace

Chunker::Chunker(ByteView seed, const ChunkerParams& params) : params_(params) {
  int average_bits = std::countr_zero(params.average_size);
  mask_strict_ = TopBits(average_bits + 2);
  mask_loose_ = TopBits(average_bits - 2);
  Bytes table = Hkdf(seed, {}, "ferry gear table v1", gear_.size() * sizeof(uint64_t));
  for (size_t i = 0; i < gear_.size(); ++i) gear_[i] = LoadU64(&table[i * 8]);
}

size_t Chunker::NextBoundary(ByteView data, bool at_end) const {
  size_t size = data.size();
  if (size <= params_.min_size) return (at_end || size >= params_.max_size) ? size : 0;
  size_t limit = std::min<size_t>(size, params_.max_size);
  size_t normal = std::min<size_t>(limit, params_.average_size);
  const uint8_t* p = data.data();
  uint64_t hash = 0;
  size_t i = params_.min_size;
  for (; i < normal; ++i) {
    hash = (hash << 1) + gear_[p[i]];
    if ((hash & mask_strict_) == 0) return i + 1;
  }
  for (; i < limit; ++i) {
    hash = (hash << 1) + gear_[p[i]];
    if ((hash & mask_loose_) == 0) return i + 1;
  }
  if (limit == params_.max_size) return limit;
  return at_end ? size : 0;
}

}  // namespace ferry
