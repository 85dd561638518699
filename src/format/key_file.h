// Key files (docs/format.md, "Keys"): the master key sealed under a
// password. Several may exist, one per password; adding or removing a
// password never re-encrypts data.
//
//   kek    = Argon2id(password, salt[16], opslimit, memlimit) → 32 bytes
//   sealed = AES-256-GCM(kek, nonce[12], master_key[32], aad = "ferry key v1")
#pragma once

#include <string>

#include "crypto/kdf.h"
#include "util/bytes.h"

namespace ferry {

struct KeyFile {
  Argon2Params kdf;
  Bytes salt;
  Bytes nonce;
  Bytes sealed_master_key;
  int64_t created_ns = 0;
  std::string hostname;
  std::string username;
};

// Seals `master_key` under `password` with fresh salt and nonce.
Result<KeyFile> SealMasterKey(ByteView master_key, std::string_view password,
                              const Argon2Params& params);
// Returns the master key, or WrongPassword.
Result<Bytes> UnsealMasterKey(const KeyFile& key_file, std::string_view password);

Bytes EncodeKeyFile(const KeyFile& key_file);
Result<KeyFile> ParseKeyFile(ByteView json);

}  // namespace ferry
