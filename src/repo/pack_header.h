// Reading what a stored pack says about itself — its salt (first 32 bytes)
// and its authenticated header (located by the trailer) — without an index.
// This is how `repair index` rebuilds the index and how `check` tells a
// stray pack of an interrupted backup from a forged or damaged one.
#pragma once

#include "format/index_file.h"
#include "repo/repository.h"

namespace ferry {

// Three ranged reads (salt, trailer, header) of the pack `pack_id` of
// `size` bytes. Corruption if the header does not authenticate under this
// repository's keys or does not fit the pack.
Result<IndexedPack> ReadPackHeader(Repository& repository, const Id& pack_id, uint64_t size);

// Reads the whole pack and verifies its name and every blob it lists (MAC
// included): a planted copy of a real pack with one bit flipped has a valid
// header and a correct name, and only its blobs tell.
Status VerifyPackBlobs(Repository& repository, const IndexedPack& pack);

}  // namespace ferry
