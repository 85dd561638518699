// Ed25519 signatures (libsodium) for disk manifests: the machine that prepares
// the disks signs each manifest, the import job records its public key, and
// the datacenter verifies every disk without any key that decrypts data.
#pragma once

#include <string>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

constexpr size_t kSigningPublicKeySize = 32;
constexpr size_t kSigningSecretKeySize = 64;
constexpr size_t kSignatureSize = 64;

struct SigningKey {
  Bytes public_key;  // kSigningPublicKeySize bytes
  Bytes secret_key;  // kSigningSecretKeySize bytes (seed ‖ public key, libsodium's form)
};

SigningKey GenerateSigningKey();

// A detached signature over `message`.
Bytes Sign(const SigningKey& key, ByteView message);

// OK if `signature` is `public_key`'s signature over exactly `message`;
// Corruption otherwise (wrong key, edited message, malformed signature).
Status VerifySignature(ByteView public_key, ByteView message, ByteView signature);

// The key file: JSON {"type": "ed25519", "public_key": B64, "secret_key": B64},
// mode 0600. Load fails with NotFound if there is none.
Result<SigningKey> LoadSigningKey(const std::string& path);
Status SaveSigningKey(const std::string& path, const SigningKey& key);
// Loads the key at `path`, creating (and saving) a new one if there is none.
Result<SigningKey> LoadOrCreateSigningKey(const std::string& path);

}  // namespace ferry
