// Sealed objects: how config, index, snapshot and lock objects are encrypted
// (docs/format.md, "Sealed objects").
//
//   object = salt[32] ‖ AES-256-GCM(key, nonce(2, 0), compression:u8 ‖ payload, aad) ‖ tag
//   key    = HKDF-SHA256(data_key, salt, "ferry object v1")
//   aad    = "ferry object v1" ‖ repository_id[32] ‖ kind
//
// Binding the kind into the AAD stops an attacker with write access from
// passing off, say, a snapshot as an index.
#pragma once

#include <string_view>

#include "util/bytes.h"
#include "util/id.h"

namespace ferry {

Bytes SealObject(ByteView data_key, const Id& repository_id, std::string_view kind,
                 ByteView plaintext);
Result<Bytes> OpenObject(ByteView data_key, const Id& repository_id, std::string_view kind,
                         ByteView sealed);

}  // namespace ferry
