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

Compression CompressIfUseful(ByteView raw, int level, Bytes& out) {
  thread_local CompressContext holder;
  out.resize(ZSTD_compressBound(raw.size()));
  size_t n = ZSTD_compressCCtx(holder.context, out.data(), out.size(), raw.data(), raw.size(),
                               level);
  if (ZSTD_isError(n) || n + raw.size() / 32 >= raw.size()) {
    out.clear();
    return Compression::kNone;
  }
  out.resize(n);
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
  size_t n = ZSTD_decompressDCtx(holder.context, out.data(), out.size(), stored.data(),
                                 stored.size());
  if (ZSTD_isError(n))
    return Status::Corruption(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != raw_length)
    return Status::Corruption("blob decompressed to " + std::to_string(n) + " bytes, expected " +
                              std::to_string(raw_length));
  return out;
}

}  // namespace ferry
