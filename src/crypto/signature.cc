#include "crypto/signature.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "util/file_util.h"

namespace ferry {

namespace {
void InitSodium() {
  static const bool initialized = [] { return sodium_init() >= 0; }();
  (void)initialized;
}
}  // namespace

SigningKey GenerateSigningKey() {
  InitSodium();
  SigningKey key;
  key.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  key.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(key.public_key.data(), key.secret_key.data());
  return key;
}

Bytes Sign(const SigningKey& key, ByteView message) {
  InitSodium();
  Bytes signature(crypto_sign_BYTES);
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(),
                       key.secret_key.data());
  return signature;
}

Status VerifySignature(ByteView public_key, ByteView message, ByteView signature) {
  InitSodium();
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES)
    return Status::Corruption("the public key is not an Ed25519 key (" +
                              std::to_string(public_key.size()) + " bytes)");
  if (signature.size() != crypto_sign_BYTES)
    return Status::Corruption("the signature is not an Ed25519 signature (" +
                              std::to_string(signature.size()) + " bytes)");
  if (crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                  public_key.data()) != 0)
    return Status::Corruption(
        "the signature does not match: the manifest was changed or "
        "signed by another key");
  return Status::Ok();
}

Result<SigningKey> LoadSigningKey(const std::string& path) {
  ASSIGN_OR_RETURN(Bytes text, ReadWholeFile(path));
  auto document = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  auto bad = [&] { return Status::Corruption(path + " is not a ferry signing key file"); };
  if (!document.is_object() || document.value("type", "") != "ed25519" ||
      !document.contains("public_key") || !document["public_key"].is_string() ||
      !document.contains("secret_key") || !document["secret_key"].is_string())
    return bad();
  auto public_key = Base64Decode(document["public_key"].get<std::string>());
  auto secret_key = Base64Decode(document["secret_key"].get<std::string>());
  if (!public_key.ok() || !secret_key.ok() || public_key->size() != kSigningPublicKeySize ||
      secret_key->size() != kSigningSecretKeySize)
    return bad();
  // libsodium's secret key ends with the public key; a mismatch means the file was edited.
  if (!std::equal(public_key->begin(), public_key->end(),
                  secret_key->begin() + (kSigningSecretKeySize - kSigningPublicKeySize)))
    return bad();
  return SigningKey{std::move(*public_key), std::move(*secret_key)};
}

Status SaveSigningKey(const std::string& path, const SigningKey& key) {
  nlohmann::json document = {{"type", "ed25519"},
                             {"public_key", Base64Encode(key.public_key)},
                             {"secret_key", Base64Encode(key.secret_key)}};
  return WriteFileAtomic(path, AsBytes(document.dump(2) + "\n"), 0600);
}

Result<SigningKey> LoadOrCreateSigningKey(const std::string& path) {
  auto key = LoadSigningKey(path);
  if (key.ok() || !key.status().IsNotFound()) return key;
  SigningKey created = GenerateSigningKey();
  RETURN_IF_ERROR(SaveSigningKey(path, created));
  return created;
}

}  // namespace ferry
