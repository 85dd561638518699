#include "format/sealed_object.h"

#include "crypto/aead.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "format/compression.h"

namespace ferry {

namespace {
constexpr size_t kSaltSize = 32;
// Sealed objects are metadata; 1 GiB bounds what a damaged length can make us allocate.
constexpr uint32_t kMaxSealedPlaintext = 1u << 30;

AeadNonce ObjectNonce() {
  AeadNonce nonce{};
  nonce[0] = 2;  // domain 2: sealed objects (0 and 1 are pack blobs and headers)
  return nonce;
}

Bytes AssociatedData(const Id& repository_id, std::string_view kind) {
  Bytes aad;
  AppendBytes(aad, AsBytes("ferry object v1"));
  AppendBytes(aad, repository_id.bytes);
  AppendBytes(aad, AsBytes(kind));
  return aad;
}
}  // namespace

Bytes SealObject(ByteView data_key, const Id& repository_id, std::string_view kind,
                 ByteView plaintext) {
  Bytes sealed = RandomBytes(kSaltSize);
  Bytes key = Hkdf(data_key, sealed, "ferry object v1", kAeadKeySize);
  BufferBytes scratch;
  ByteView stored;
  Compression compression = CompressIfUseful(plaintext, 3, scratch, &stored);
  Bytes body;
  AppendU8(body, static_cast<uint8_t>(compression));
  AppendU32(body, static_cast<uint32_t>(plaintext.size()));
  AppendBytes(body, stored);
  AeadSeal(key, ObjectNonce(), body, AssociatedData(repository_id, kind), sealed);
  return sealed;
}

Result<Bytes> OpenObject(ByteView data_key, const Id& repository_id, std::string_view kind,
                         ByteView sealed) {
  if (sealed.size() < kSaltSize + 5 + kAeadTagSize)
    return Status::Corruption(std::string(kind) + " object is too short (" +
                              std::to_string(sealed.size()) + " bytes)");
  Bytes key = Hkdf(data_key, sealed.first(kSaltSize), "ferry object v1", kAeadKeySize);
  auto body =
      AeadOpen(key, ObjectNonce(), sealed.subspan(kSaltSize), AssociatedData(repository_id, kind));
  if (!body.ok()) return body.status().WithContext(std::string(kind) + " object");
  ByteReader reader(*body);
  uint8_t compression = reader.U8();
  uint32_t raw_length = reader.U32();
  if (!reader.ok() || compression > 1 || raw_length > kMaxSealedPlaintext)
    return Status::Corruption(std::string(kind) + " object has a bad encoding header");
  return Decompress(static_cast<Compression>(compression), ByteView(*body).subspan(5), raw_length);
}

}  // namespace ferry
