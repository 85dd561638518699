// PackRewriter: stores blobs that must move (salvaged from a damaged pack by
// `repair packs`, kept from a mostly unused one by `prune`) in new packs,
// trees and file data apart as always (repo/pack_writer.h says why), and
// remembers what it wrote so that the caller can index it. The caller writes
// the index and removes the old packs, in that order.
#pragma once

#include <memory>
#include <vector>

#include "format/index_file.h"
#include "format/pack.h"
#include "repo/repository.h"

namespace ferry {

class PackRewriter {
 public:
  // With `dry_run` the packs are built (so sizes are real) but not stored.
  PackRewriter(Repository& repository, bool dry_run);

  Status Add(BlobType type, const Id& id, ByteView plaintext);
  // A blob already compressed (as `compression` says; OpenBlobPayload): only
  // encrypted again, under the new pack's key.
  Status AddPayload(BlobType type, const Id& id, Compression compression, uint32_t raw_length,
                    ByteView payload);
  // Stores the partly filled packs.
  Status Finish();

  // Every pack stored so far, as an index lists it.
  const std::vector<IndexedPack>& packs() const { return packs_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  PackBuilder& BuilderFor(BlobType type);
  Status StoreIfFull(BlobType type);
  Status Store(BlobType type, PackBuilder& builder);

  Repository& repository_;
  bool dry_run_;
  std::unique_ptr<PackBuilder> builders_[2];  // by BlobType
  std::vector<IndexedPack> packs_;
  uint64_t bytes_written_ = 0;
};

}  // namespace ferry
