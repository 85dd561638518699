// Key files (docs/format.md, "Key files"): the master key sealed under a
// password. Several may exist, one per password; adding or removing a
// password never re-encrypts data.
//
//   kek    = Argon2id(password, salt[16], opslimit, memlimit) → 32 bytes
//   sealed = AES-256-GCM(kek, nonce[12], master_key[32], aad)
//   aad    = v1: "ferry key v1"
//            v2: KeyFileAssociatedData(): every other field of the file, so
//                that none (KDF parameters, host, user, creation time) can be
//                changed without the key failing to open.
//
// A key file comes from the repository, which anyone with write access (a
// machine token, a hostile vault) may fill, so only what ferry itself writes
// is accepted: ParseKeyFile takes known versions, canonical base64 and fields
// of their exact sizes (else the file is damaged); CheckKeyFileKdf takes KDF
// parameters within the bounds below (else the file is refused), and
// UnsealMasterKey never runs Argon2 outside them.
#pragma once

#include <cstdint>
#include <string>

#include "crypto/kdf.h"
#include "util/bytes.h"

namespace ferry {

// Version 1: the AEAD binds only the master key. Version 2 (written since
// December 2026): it binds every field. Both are read.
constexpr int kKeyFileVersionLegacy = 1;
constexpr int kKeyFileVersion = 2;

// The Argon2id parameters a reader accepts: the range `init` and `key add`
// have ever written. ferry writes opslimit 3 and 64 MiB (Argon2Params'
// defaults); its tests write opslimit 1 and 8 MiB to run fast. Past these
// bounds a planted key file would make every command pay its cost before the
// password is known to be wrong (2 GiB and 18 s per command were shown); below
// them it would be weaker than anything ferry offers. A future ferry that
// writes stronger parameters raises them with a new key file version, so an
// older reader says "unknown version", not "damaged".
constexpr uint64_t kMinKeyFileOpslimit = 1;
constexpr uint64_t kMaxKeyFileOpslimit = 3;
constexpr uint64_t kMinKeyFileMemlimit = 8ull << 20;
constexpr uint64_t kMaxKeyFileMemlimit = 64ull << 20;
// Argon2 counts memory in KiB (libsodium uses memlimit / 1024): a memlimit
// that is not a whole number of KiB has a second spelling, so it is refused.
constexpr uint64_t kKeyFileMemlimitUnit = 1024;
// A key file is about 330 bytes; host and user names bound the rest. Larger
// objects under keys/ are not read at all.
constexpr uint64_t kMaxKeyFileSize = 64 << 10;

struct KeyFile {
  int version = kKeyFileVersion;
  Argon2Params kdf;
  Bytes salt;
  Bytes nonce;
  Bytes sealed_master_key;
  int64_t created_ns = 0;
  std::string hostname;
  std::string username;
};

// Who made a key file and when: stored in it and, from version 2 on,
// authenticated with the master key.
struct KeyFileOrigin {
  int64_t created_ns = 0;
  std::string hostname;
  std::string username;
};

// OK if `params` lie within the bounds above; else Corruption saying which
// parameter is out of range and what ferry writes.
Status CheckKeyFileKdf(const Argon2Params& params);

// Seals `master_key` under `password` with fresh salt and nonce, as a key file
// of the current version. InvalidArgument if `params` are outside the bounds
// readers accept (ferry never writes a key file it would refuse to read).
Result<KeyFile> SealMasterKey(ByteView master_key, std::string_view password,
                              const Argon2Params& params, const KeyFileOrigin& origin = {});
// Returns the master key, or WrongPassword (for a version 2 file also when any
// of its fields was changed: that cannot be told apart from a wrong password).
// Corruption, before any Argon2 work, if CheckKeyFileKdf refuses the file.
Result<Bytes> UnsealMasterKey(const KeyFile& key_file, std::string_view password);

// The associated data of a version 2 key file (docs/format.md, "Key files").
Bytes KeyFileAssociatedData(const KeyFile& key_file);

Bytes EncodeKeyFile(const KeyFile& key_file);
// Corruption naming the field for a malformed file; Unsupported for a
// version or KDF this ferry does not know. Does not check the KDF bounds.
Result<KeyFile> ParseKeyFile(ByteView json);

}  // namespace ferry
