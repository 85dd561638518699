#include <gtest/gtest.h>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "format/key_file.h"

namespace ferry {
namespace {

TEST(CryptoTest, Sha256KnownAnswer) {
  EXPECT_EQ(Sha256(AsBytes("abc")).Hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Stream stream;
  stream.Update(AsBytes("a"));
  stream.Update(AsBytes("bc"));
  EXPECT_EQ(stream.Finish(), Sha256(AsBytes("abc")));
}

TEST(CryptoTest, HmacKnownAnswerRfc4231Case2) {
  EXPECT_EQ(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?")).Hex(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, HkdfKnownAnswerRfc5869Case1) {
  Bytes ikm(22, 0x0b);
  Bytes salt = *HexDecode("000102030405060708090a0b0c");
  Bytes info = *HexDecode("f0f1f2f3f4f5f6f7f8f9");
  Bytes okm = Hkdf(ikm, salt, AsString(info), 42);
  EXPECT_EQ(HexEncode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(CryptoTest, AeadRoundTripAndTamperDetection) {
  Bytes key = RandomBytes(32);
  AeadNonce nonce{};
  nonce[3] = 7;
  Bytes sealed;
  AeadSeal(key, nonce, AsBytes("hello ferry"), AsBytes("context"), sealed);
  ASSERT_EQ(sealed.size(), 11 + kAeadTagSize);
  auto opened = AeadOpen(key, nonce, sealed, AsBytes("context"));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(AsString(*opened), "hello ferry");
  EXPECT_FALSE(AeadOpen(key, nonce, sealed, AsBytes("other")).ok());
  sealed[2] ^= 1;
  EXPECT_TRUE(AeadOpen(key, nonce, sealed, AsBytes("context")).status().IsCorruption());
  EXPECT_FALSE(AeadOpen(key, nonce, ByteView(sealed).first(5), AsBytes("context")).ok());
}

TEST(CryptoTest, KeyFileSealsMasterKeyUnderPassword) {
  Argon2Params weak{1, 8 << 20};
  Bytes master = RandomBytes(32);
  auto key_file = SealMasterKey(master, "correct horse", weak);
  ASSERT_TRUE(key_file.ok());
  auto parsed = ParseKeyFile(EncodeKeyFile(*key_file));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto opened = UnsealMasterKey(*parsed, "correct horse");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, master);
  auto wrong = UnsealMasterKey(*parsed, "battery staple");
  EXPECT_EQ(wrong.status().code(), StatusCode::kWrongPassword);
}

TEST(CryptoTest, HexAndBase64RoundTrip) {
  Bytes data = RandomBytes(33);
  EXPECT_EQ(*HexDecode(HexEncode(data)), data);
  EXPECT_EQ(*Base64Decode(Base64Encode(data)), data);
  for (size_t n = 0; n < 5; ++n) {
    Bytes part(data.begin(), data.begin() + static_cast<long>(n));
    EXPECT_EQ(*Base64Decode(Base64Encode(part)), part);
  }
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
  EXPECT_FALSE(Base64Decode("abc").ok());
}

}  // namespace
}  // namespace ferry
