#include "crypto/kdf.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <sodium.h>

#include <cstdlib>

namespace ferry {

Bytes Hkdf(ByteView key, ByteView salt, std::string_view info, size_t length) {
  static EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* context = EVP_KDF_CTX_new(kdf);
  OSSL_PARAM params[5];
  int i = 0;
  char digest[] = "SHA256";
  params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                  const_cast<uint8_t*>(key.data()), key.size());
  if (!salt.empty())  // OpenSSL rejects an empty salt; RFC 5869 treats absent as zeros
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                    const_cast<uint8_t*>(salt.data()), salt.size());
  params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                  const_cast<char*>(info.data()), info.size());
  params[i] = OSSL_PARAM_construct_end();
  Bytes out(length);
  if (context == nullptr || EVP_KDF_derive(context, out.data(), out.size(), params) != 1)
    std::abort();  // only on allocation failure or a broken OpenSSL
  EVP_KDF_CTX_free(context);
  return out;
}

Result<Bytes> Argon2id(std::string_view password, ByteView salt, const Argon2Params& params,
                       size_t length) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  if (salt.size() != crypto_pwhash_SALTBYTES)
    return Status::InvalidArgument("Argon2id salt must be 16 bytes");
  if (params.opslimit < crypto_pwhash_OPSLIMIT_MIN || params.opslimit > 64 ||
      params.memlimit < crypto_pwhash_MEMLIMIT_MIN || params.memlimit > (8ull << 30))
    return Status::InvalidArgument("Argon2id parameters out of range");
  Bytes out(length);
  if (crypto_pwhash(out.data(), out.size(), password.data(), password.size(), salt.data(),
                    params.opslimit, static_cast<size_t>(params.memlimit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Status::Internal("Argon2id ran out of memory");
  return out;
}

}  // namespace ferry
