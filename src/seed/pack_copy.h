// Copying a pack between backends while proving it: the bytes are hashed as
// they stream through, and the copy is committed only if the hash equals the
// pack's name. Disk → container (ingest), container → vault (adoption) and
// staging → vault (repair) all move packs this way; none of them needs a key,
// because a pack's name is the SHA-256 of its ciphertext.
#pragma once

#include <cstdint>
#include <optional>

#include "storage/backend.h"
#include "util/id.h"

namespace ferry {

// Copies pack `id` from `from` to `to` and returns its size. NotFound if
// `from` has no such pack; Corruption (nothing written) if its bytes do not
// hash to `id`. With `expected_size` (a manifest's), the read stops as soon
// as the pack runs past it, and a shorter one is refused too: a source that
// grows while it is read (a hostile disk's file system) cannot make the copy
// write more than it promised.
Result<uint64_t> CopyVerifiedPack(Backend& from, Backend& to, const Id& id,
                                  std::optional<uint64_t> expected_size = std::nullopt);

// Copies pack `id` from `from` into `to` inside their storage service where
// the two share one (Backend::CopyFrom: the bytes never pass through this
// process), then proves the copy by reading it back from `to`: a copy that
// does not hash to its name is removed again and is Corruption, as a damaged
// source is for CopyVerifiedPack — which is used where no server-side copy is
// possible. `server_side` says which way the pack went.
Result<uint64_t> CopyVerifiedPackServerSide(Backend& from, Backend& to, const Id& id,
                                            bool* server_side = nullptr);

// Reads pack `id` from `backend` and checks its hash; returns its size.
Result<uint64_t> VerifyPack(Backend& backend, const Id& id);

}  // namespace ferry
