// AES-256-GCM authenticated encryption (OpenSSL). Ciphertext = encrypted bytes
// followed by the 16-byte tag; the associated data binds the ciphertext to its
// context (repository, object type, blob ID) so it cannot be moved elsewhere.
#pragma once

#include <array>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

constexpr size_t kAeadKeySize = 32;
constexpr size_t kAeadNonceSize = 12;
constexpr size_t kAeadTagSize = 16;

using AeadNonce = std::array<uint8_t, kAeadNonceSize>;

// Writes ciphertext ‖ tag for `plaintext` to `out`, which must have room for
// plaintext.size() + kAeadTagSize bytes (and may be the plaintext itself).
void AeadSeal(ByteView key, const AeadNonce& nonce, ByteView plaintext, ByteView associated_data,
              uint8_t* out);
// Appends ciphertext ‖ tag for `plaintext` to `out`.
void AeadSeal(ByteView key, const AeadNonce& nonce, ByteView plaintext, ByteView associated_data,
              Bytes& out);
// Returns the plaintext, or Corruption if the tag does not verify.
Result<Bytes> AeadOpen(ByteView key, const AeadNonce& nonce, ByteView ciphertext,
                       ByteView associated_data);

}  // namespace ferry
