// Key derivation: HKDF-SHA256 for subkeys and per-pack keys, Argon2id (libsodium)
// for turning a password into a key-encryption key.
#pragma once

#include <string_view>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

// HKDF-SHA256 (RFC 5869): extract with `salt`, expand with `info` to `length` bytes.
Bytes Hkdf(ByteView key, ByteView salt, std::string_view info, size_t length);

struct Argon2Params {
  uint64_t opslimit = 3;
  uint64_t memlimit = 64ull << 20;  // 64 MiB: ~0.2 s on this class of machine
};

Result<Bytes> Argon2id(std::string_view password, ByteView salt, const Argon2Params& params,
                       size_t length);

}  // namespace ferry
