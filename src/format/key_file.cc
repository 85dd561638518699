#include "format/key_file.h"

#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/random.h"
#include "crypto/subkeys.h"
#include "format/json_util.h"
#include "util/clock.h"

namespace ferry {

namespace {
constexpr std::string_view kAssociatedData = "ferry key v1";
}

Result<KeyFile> SealMasterKey(ByteView master_key, std::string_view password,
                              const Argon2Params& params) {
  KeyFile key_file;
  key_file.kdf = params;
  key_file.salt = RandomBytes(crypto_pwhash_SALTBYTES);
  key_file.nonce = RandomBytes(kAeadNonceSize);
  ASSIGN_OR_RETURN(Bytes kek, Argon2id(password, key_file.salt, params, kAeadKeySize));
  AeadNonce nonce;
  std::copy(key_file.nonce.begin(), key_file.nonce.end(), nonce.begin());
  AeadSeal(kek, nonce, master_key, AsBytes(kAssociatedData), key_file.sealed_master_key);
  return key_file;
}

Result<Bytes> UnsealMasterKey(const KeyFile& key_file, std::string_view password) {
  ASSIGN_OR_RETURN(Bytes kek, Argon2id(password, key_file.salt, key_file.kdf, kAeadKeySize));
  AeadNonce nonce;
  std::copy(key_file.nonce.begin(), key_file.nonce.end(), nonce.begin());
  auto master = AeadOpen(kek, nonce, key_file.sealed_master_key, AsBytes(kAssociatedData));
  if (!master.ok()) return Status::WrongPassword("wrong password or damaged key file");
  return master;
}

Bytes EncodeKeyFile(const KeyFile& k) {
  nlohmann::json j = {{"version", 1},
                      {"kdf", "argon2id"},
                      {"opslimit", k.kdf.opslimit},
                      {"memlimit", k.kdf.memlimit},
                      {"salt", Base64Encode(k.salt)},
                      {"nonce", Base64Encode(k.nonce)},
                      {"data", Base64Encode(k.sealed_master_key)},
                      {"created", FormatTimeRfc3339(k.created_ns)}};
  PutByteString(j, "hostname", k.hostname);
  PutByteString(j, "username", k.username);
  std::string text = j.dump(2);
  return Bytes(text.begin(), text.end());
}

Result<KeyFile> ParseKeyFile(ByteView json) {
  ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(json, "key file"));
  KeyFile k;
  try {
    if (j.at("kdf").get<std::string>() != "argon2id")
      return Status::Unsupported("key file uses an unknown KDF");
    k.kdf.opslimit = j.at("opslimit").get<uint64_t>();
    k.kdf.memlimit = j.at("memlimit").get<uint64_t>();
    ASSIGN_OR_RETURN(k.salt, Base64Decode(j.at("salt").get<std::string>()));
    ASSIGN_OR_RETURN(k.nonce, Base64Decode(j.at("nonce").get<std::string>()));
    ASSIGN_OR_RETURN(k.sealed_master_key, Base64Decode(j.at("data").get<std::string>()));
    if (k.nonce.size() != kAeadNonceSize ||
        k.sealed_master_key.size() != kMasterKeySize + kAeadTagSize)
      return Status::Corruption("key file has fields of the wrong size");
    if (!ParseTimeRfc3339(j.at("created").get<std::string>(), &k.created_ns))
      return Status::Corruption("key file has an invalid creation time");
    ASSIGN_OR_RETURN(k.hostname, GetByteString(j, "hostname"));
    ASSIGN_OR_RETURN(k.username, GetByteString(j, "username"));
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("key file: ") + e.what());
  }
  return k;
}

}  // namespace ferry
