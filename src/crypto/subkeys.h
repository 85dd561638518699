// The repository's master key and the subkeys derived from it with HKDF.
// One master key per repository; each purpose gets its own subkey so that a
// weakness in one use (say, chunk-size leakage through the chunker) does not
// touch the others.
#pragma once

#include "util/bytes.h"

namespace ferry {

constexpr size_t kMasterKeySize = 32;

struct Subkeys {
  Bytes data;     // AES-256-GCM: per-pack and per-object keys are derived from it
  Bytes mac;      // HMAC-SHA256 chunk IDs
  Bytes chunker;  // gear-table seed of the content-defined chunker
};

Subkeys DeriveSubkeys(ByteView master_key);

}  // namespace ferry
