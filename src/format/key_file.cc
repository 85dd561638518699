#include "format/key_file.h"

#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/random.h"
#include "crypto/subkeys.h"
#include "format/json_util.h"
#include "util/clock.h"

namespace ferry {

namespace {
constexpr std::string_view kAssociatedDataV1 = "ferry key v1";
constexpr std::string_view kAssociatedDataV2 = "ferry key v2";
constexpr std::string_view kKdfName = "argon2id";

Bytes AssociatedData(const KeyFile& key_file) {
  if (key_file.version == kKeyFileVersionLegacy) {
    std::string_view label = kAssociatedDataV1;
    return Bytes(label.begin(), label.end());
  }
  return KeyFileAssociatedData(key_file);
}

void AppendString(Bytes& out, std::string_view text) {
  AppendU32(out, static_cast<uint32_t>(text.size()));
  AppendBytes(out, AsBytes(text));
}

// A base64 field of exactly `size` decoded bytes; Corruption naming the field.
Result<Bytes> GetBase64(const nlohmann::json& j, const std::string& field, size_t size) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string())
    return Status::Corruption("field '" + field + "' is missing or not a string");
  auto bytes = Base64Decode(it->get<std::string>());
  if (!bytes.ok()) return Status::Corruption("field '" + field + "': " + bytes.status().message());
  if (bytes->size() != size)
    return Status::Corruption("field '" + field + "' holds " + std::to_string(bytes->size()) +
                              " bytes, not " + std::to_string(size));
  return bytes;
}

// "64 MiB", not HumanBytes' "64.0 MiB": the bounds are whole units, and a
// refused value is shown as exactly as it is written.
std::string MemoryText(uint64_t bytes) {
  if (bytes != 0 && bytes % (1ull << 30) == 0) return std::to_string(bytes >> 30) + " GiB";
  if (bytes != 0 && bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return HumanBytes(bytes) + " (" + std::to_string(bytes) + " bytes)";
}

}  // namespace

Status CheckKeyFileKdf(const Argon2Params& params) {
  if (params.memlimit > kMaxKeyFileMemlimit)
    return Status::Corruption("Argon2 memory " + MemoryText(params.memlimit) + " is beyond the " +
                              MemoryText(kMaxKeyFileMemlimit) + " ferry ever writes");
  if (params.memlimit < kMinKeyFileMemlimit)
    return Status::Corruption("Argon2 memory " + MemoryText(params.memlimit) + " is below the " +
                              MemoryText(kMinKeyFileMemlimit) + " ferry ever writes");
  if (params.memlimit % kKeyFileMemlimitUnit != 0)
    return Status::Corruption("Argon2 memory " + std::to_string(params.memlimit) +
                              " bytes is not a whole number of KiB, which ferry never writes");
  if (params.opslimit > kMaxKeyFileOpslimit || params.opslimit < kMinKeyFileOpslimit)
    return Status::Corruption("Argon2 opslimit " + std::to_string(params.opslimit) +
                              " is outside the " + std::to_string(kMinKeyFileOpslimit) + "–" +
                              std::to_string(kMaxKeyFileOpslimit) + " ferry ever writes");
  return Status::Ok();
}

Bytes KeyFileAssociatedData(const KeyFile& k) {
  Bytes aad(kAssociatedDataV2.begin(), kAssociatedDataV2.end());
  AppendU32(aad, static_cast<uint32_t>(k.version));
  AppendString(aad, kKdfName);
  AppendU64(aad, k.kdf.opslimit);
  AppendU64(aad, k.kdf.memlimit);
  AppendBytes(aad, k.salt);
  AppendBytes(aad, k.nonce);
  AppendU64(aad, static_cast<uint64_t>(k.created_ns));
  AppendString(aad, k.hostname);
  AppendString(aad, k.username);
  return aad;
}

Result<KeyFile> SealMasterKey(ByteView master_key, std::string_view password,
                              const Argon2Params& params, const KeyFileOrigin& origin) {
  if (Status bounds = CheckKeyFileKdf(params); !bounds.ok())
    return Status::InvalidArgument("refusing to write a key file readers would refuse: " +
                                   bounds.message());
  KeyFile key_file;
  key_file.version = kKeyFileVersion;
  key_file.kdf = params;
  key_file.salt = RandomBytes(crypto_pwhash_SALTBYTES);
  key_file.nonce = RandomBytes(kAeadNonceSize);
  key_file.created_ns = origin.created_ns;
  key_file.hostname = origin.hostname;
  key_file.username = origin.username;
  ASSIGN_OR_RETURN(Bytes kek, Argon2id(password, key_file.salt, params, kAeadKeySize));
  AeadNonce nonce;
  std::copy(key_file.nonce.begin(), key_file.nonce.end(), nonce.begin());
  AeadSeal(kek, nonce, master_key, AssociatedData(key_file), key_file.sealed_master_key);
  return key_file;
}

Result<Bytes> UnsealMasterKey(const KeyFile& key_file, std::string_view password) {
  // Defence in depth: whoever parsed the file may not have checked the bounds.
  RETURN_IF_ERROR(CheckKeyFileKdf(key_file.kdf));
  if (key_file.version != kKeyFileVersionLegacy && key_file.version != kKeyFileVersion)
    return Status::Unsupported("unknown key file version " + std::to_string(key_file.version));
  if (key_file.nonce.size() != kAeadNonceSize)
    return Status::Corruption("key file nonce is not " + std::to_string(kAeadNonceSize) + " bytes");
  ASSIGN_OR_RETURN(Bytes kek, Argon2id(password, key_file.salt, key_file.kdf, kAeadKeySize));
  AeadNonce nonce;
  std::copy(key_file.nonce.begin(), key_file.nonce.end(), nonce.begin());
  auto master = AeadOpen(kek, nonce, key_file.sealed_master_key, AssociatedData(key_file));
  if (!master.ok()) return Status::WrongPassword("wrong password");
  return master;
}

Bytes EncodeKeyFile(const KeyFile& k) {
  nlohmann::json j = {{"version", k.version},
                      {"kdf", kKdfName},
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
  if (!j.is_object()) return Status::Corruption("key file is not a JSON object");
  KeyFile k;
  // The version first: a newer ferry's file may differ in any other field.
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer())
    return Status::Corruption("field 'version' is missing or not an integer");
  if (*version != kKeyFileVersionLegacy && *version != kKeyFileVersion)
    return Status::Unsupported("version " + version->dump() +
                               " is unknown to this ferry, which reads versions " +
                               std::to_string(kKeyFileVersionLegacy) + " and " +
                               std::to_string(kKeyFileVersion) + " (written by a newer ferry?)");
  k.version = version->get<int>();
  auto kdf = j.find("kdf");
  if (kdf == j.end() || !kdf->is_string())
    return Status::Corruption("field 'kdf' is missing or not a string");
  if (kdf->get<std::string>() != kKdfName)
    // dump() escapes control characters; the length is the file's to choose.
    return Status::Unsupported("key file uses the unknown KDF " + kdf->dump().substr(0, 40));
  ASSIGN_OR_RETURN(k.kdf.opslimit, GetUnsigned(j, "opslimit"));
  ASSIGN_OR_RETURN(k.kdf.memlimit, GetUnsigned(j, "memlimit"));
  ASSIGN_OR_RETURN(k.salt, GetBase64(j, "salt", crypto_pwhash_SALTBYTES));
  ASSIGN_OR_RETURN(k.nonce, GetBase64(j, "nonce", kAeadNonceSize));
  ASSIGN_OR_RETURN(k.sealed_master_key, GetBase64(j, "data", kMasterKeySize + kAeadTagSize));
  auto created = j.find("created");
  if (created == j.end() || !created->is_string() ||
      !ParseTimeRfc3339(created->get<std::string>(), &k.created_ns))
    return Status::Corruption("field 'created' is missing or not an RFC 3339 time");
  ASSIGN_OR_RETURN(k.hostname, GetByteString(j, "hostname"));
  ASSIGN_OR_RETURN(k.username, GetByteString(j, "username"));
  return k;
}

}  // namespace ferry
