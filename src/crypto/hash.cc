#include "crypto/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace ferry {

Id Sha256(ByteView data) {
  Id id;
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), id.bytes.data(), &length, EVP_sha256(), nullptr);
  return id;
}

struct Sha256Stream::State {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  ~State() { EVP_MD_CTX_free(context); }
};

Sha256Stream::Sha256Stream() : state_(std::make_unique<State>()) {
  // Allocation failure inside OpenSSL is not recoverable here.
  if (state_->context == nullptr || EVP_DigestInit_ex(state_->context, EVP_sha256(), nullptr) != 1)
    std::abort();
}

Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::Update(ByteView data) {
  EVP_DigestUpdate(state_->context, data.data(), data.size());
}

Id Sha256Stream::Finish() {
  Id id;
  unsigned int length = 0;
  EVP_DigestFinal_ex(state_->context, id.bytes.data(), &length);
  EVP_DigestInit_ex(state_->context, EVP_sha256(), nullptr);
  return id;
}

Id HmacSha256(ByteView key, ByteView data) {
  Id id;
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
       id.bytes.data(), &length);
  return id;
}

}  // namespace ferry
