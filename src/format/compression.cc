#include "format/compression.h"

#include <zstd.h>

namespace ferry {

namespace {
struct CompressContext {
  ZSTD_CCtx* context = ZSTD_createCCtx();
  ~CompressContext() { ZSTD_freeCCtx(context); }
};
struct DecompressContext {
  ZSTD_DCtx* context = ZSTD_createDCtx();
  ~DecompressContext() { ZSTD_freeDCtx(context); }
};
}  // namespace

Compression CompressIfUseful(ByteView raw, int level, BufferBytes& scratch, ByteView* stored) {
  thread_local CompressContext holder;
  // Anything not at least 1/32 smaller is stored raw; zstd gives up early
  // when the output would not fit, which makes incompressible data cheap.
  size_t limit = raw.size() - raw.size() / 32;
  if (scratch.size() < limit) scratch.resize(limit);
  size_t n =
      ZSTD_compressCCtx(holder.context, scratch.data(), limit, raw.data(), raw.size(), level);
  if (ZSTD_isError(n) || n >= limit) {
    *stored = raw;
    return Compression::kNone;
  }
  *stored = ByteView(scratch.data(), n);
  return Compression::kZstd;
}

Result<Bytes> Decompress(Compression compression, ByteView stored, uint32_t raw_length) {
  if (compression == Compression::kNone) {
    if (stored.size() != raw_length)
      return Status::Corruption("uncompressed blob has " + std::to_string(stored.size()) +
                                " bytes, index says " + std::to_string(raw_length));
    return Bytes(stored.begin(), stored.end());
  }
  if (compression != Compression::kZstd)
    return Status::Corruption("unknown compression " + std::to_string(int(compression)));
  thread_local DecompressContext holder;
  Bytes out(raw_length);
  size_t n =
      ZSTD_decompressDCtx(holder.context, out.data(), out.size(), stored.data(), stored.size());
  if (ZSTD_isError(n)) return Status::Corruption(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != raw_length)
    return Status::Corruption("blob decompressed to " + std::to_string(n) + " bytes, expected " +
                              std::to_string(raw_length));
  return out;
}

}  // namespace ferry
