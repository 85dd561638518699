// Copying a pack between backends while proving it: the bytes are hashed as
// they stream through, and the copy is committed only if the hash equals the
// pack's name. Disk → container (ingest), container → vault (adoption) and
// staging → vault (repair) all move packs this way; none of them needs a key,
// because a pack's name is the SHA-256 of its ciphertext.
#pragma once

#include <cstdint>

#include "storage/backend.h"
#include "util/id.h"

namespace ferry {

// Copies pack `id` from `from` to `to` and returns its size. NotFound if
// `from` has no such pack; Corruption (nothing written) if its bytes do not
// hash to `id`.
Result<uint64_t> CopyVerifiedPack(Backend& from, Backend& to, const Id& id);

// Reads pack `id` from `backend` and checks its hash; returns its size.
Result<uint64_t> VerifyPack(Backend& backend, const Id& id);

}  // namespace ferry
