#include "crypto/aead.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace ferry {

namespace {
struct CipherContext {
  EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
  ~CipherContext() { EVP_CIPHER_CTX_free(context); }
};
// Reusing one context per thread avoids an allocation per blob.
EVP_CIPHER_CTX* ThreadContext() {
  thread_local CipherContext holder;
  if (holder.context == nullptr) std::abort();
  return holder.context;
}
}  // namespace

void AeadSeal(ByteView key, const AeadNonce& nonce, ByteView plaintext, ByteView associated_data,
              Bytes& out) {
  size_t start = out.size();
  out.resize(start + plaintext.size() + kAeadTagSize);
  AeadSeal(key, nonce, plaintext, associated_data, out.data() + start);
}

void AeadSeal(ByteView key, const AeadNonce& nonce, ByteView plaintext, ByteView associated_data,
              uint8_t* out) {
  EVP_CIPHER_CTX* context = ThreadContext();
  int length = 0;
  bool ok =
      EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) == 1 &&
      EVP_EncryptUpdate(context, nullptr, &length, associated_data.data(),
                        static_cast<int>(associated_data.size())) == 1 &&
      EVP_EncryptUpdate(context, out, &length, plaintext.data(),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(context, out + length, &length) == 1 &&
      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, kAeadTagSize, out + plaintext.size()) == 1;
  if (!ok) std::abort();  // only on a broken OpenSSL; nothing sane to return
}

Result<Bytes> AeadOpen(ByteView key, const AeadNonce& nonce, ByteView ciphertext,
                       ByteView associated_data) {
  if (ciphertext.size() < kAeadTagSize)
    return Status::Corruption("ciphertext shorter than its authentication tag");
  EVP_CIPHER_CTX* context = ThreadContext();
  size_t body = ciphertext.size() - kAeadTagSize;
  Bytes plaintext(body);
  int length = 0;
  bool ok =
      EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) == 1 &&
      EVP_DecryptUpdate(context, nullptr, &length, associated_data.data(),
                        static_cast<int>(associated_data.size())) == 1 &&
      EVP_DecryptUpdate(context, plaintext.data(), &length, ciphertext.data(),
                        static_cast<int>(body)) == 1 &&
      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, kAeadTagSize,
                          const_cast<uint8_t*>(ciphertext.data() + body)) == 1 &&
      EVP_DecryptFinal_ex(context, plaintext.data() + length, &length) == 1;
  if (!ok) return Status::Corruption("authentication failed (data damaged or wrong key)");
  return plaintext;
}

}  // namespace ferry
