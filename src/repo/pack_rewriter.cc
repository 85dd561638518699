#include "repo/pack_rewriter.h"

#include <algorithm>

#include "crypto/hash.h"

namespace ferry {

PackRewriter::PackRewriter(Repository& repository, bool dry_run)
    : repository_(repository), dry_run_(dry_run) {}

PackBuilder& PackRewriter::BuilderFor(BlobType type) {
  auto& builder = builders_[static_cast<int>(type)];
  if (!builder)
    builder =
        std::make_unique<PackBuilder>(repository_.pack_keys(), repository_.config().pack_size);
  return *builder;
}

Status PackRewriter::StoreIfFull(BlobType type) {
  PackBuilder& builder = BuilderFor(type);
  if (builder.size() >= repository_.config().pack_size) return Store(type, builder);
  return Status::Ok();
}

Status PackRewriter::Add(BlobType type, const Id& id, ByteView plaintext) {
  BuilderFor(type).AddBlob(type, id, plaintext, repository_.config().compression_level);
  return StoreIfFull(type);
}

Status PackRewriter::AddPayload(BlobType type, const Id& id, Compression compression,
                                uint32_t raw_length, ByteView payload) {
  BuilderFor(type).AddBlob(type, id, compression, raw_length, payload);
  return StoreIfFull(type);
}

Status PackRewriter::Finish() {
  for (int type = 0; type < 2; ++type)
    if (builders_[type] && !builders_[type]->empty())
      RETURN_IF_ERROR(Store(static_cast<BlobType>(type), *builders_[type]));
  return Status::Ok();
}

Status PackRewriter::Store(BlobType type, PackBuilder& builder) {
  IndexedPack indexed;
  Bytes salt;
  BufferBytes bytes = builder.Finish(&indexed.blobs, &salt);
  std::copy(salt.begin(), salt.end(), indexed.salt.begin());
  indexed.pack_id = Sha256(bytes);
  if (!dry_run_)
    RETURN_IF_ERROR(
        repository_.backend()
            .Put({ObjectKind::kData, indexed.pack_id.Hex(), type == BlobType::kTree}, bytes)
            .WithContext("storing pack " + indexed.pack_id.Hex()));
  bytes_written_ += bytes.size();
  packs_.push_back(std::move(indexed));
  return Status::Ok();
}

}  // namespace ferry
