// Key files (docs/format.md, "Key files"): what is sealed, what is bound into
// the AEAD, and what a reader refuses before any Argon2 work — a key file
// comes from the repository, which anyone with write access may fill.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "crypto/aead.h"
#include "crypto/random.h"
#include "format/key_file.h"

namespace ferry {
namespace {

const Argon2Params kFastKdf{1, 8 << 20};
const KeyFileOrigin kOrigin{1764654278138246442, "host", "user"};

nlohmann::json ToJson(const KeyFile& key_file) {
  Bytes bytes = EncodeKeyFile(key_file);
  return nlohmann::json::parse(bytes.begin(), bytes.end());
}

Result<KeyFile> FromJson(const nlohmann::json& j) { return ParseKeyFile(AsBytes(j.dump())); }

TEST(KeyFileTest, WritesVersion2AndBindsEveryFieldIntoTheAead) {
  Bytes master = RandomBytes(32);
  auto sealed = SealMasterKey(master, "pw", kFastKdf, kOrigin);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  nlohmann::json j = ToJson(*sealed);
  EXPECT_EQ(j["version"], 2);
  auto parsed = FromJson(j);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->version, 2);
  EXPECT_EQ(parsed->hostname, "host");
  EXPECT_EQ(parsed->created_ns, kOrigin.created_ns);
  auto opened = UnsealMasterKey(*parsed, "pw");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, master);

  // Each field, changed alone, makes the key fail to open: the AEAD covers it.
  auto changed = [&](const char* field, nlohmann::json value) {
    nlohmann::json copy = j;
    copy[field] = value;
    auto key_file = FromJson(copy);
    EXPECT_TRUE(key_file.ok()) << field << ": " << key_file.status().ToString();
    if (!key_file.ok()) return;
    EXPECT_EQ(UnsealMasterKey(*key_file, "pw").status().code(), StatusCode::kWrongPassword)
        << field << " is not authenticated";
  };
  changed("hostname", "elsewhere");
  changed("username", "mallory");
  changed("created", "2020-01-01T00:00:00.000000000Z");
  changed("opslimit", 2);
  changed("memlimit", 16 << 20);
  changed("version", 1);  // a downgrade to the unbound format
}

TEST(KeyFileTest, Version1FilesStillOpenAndBindOnlyTheMasterKey) {
  // Version 1 (before December 2026): aad = "ferry key v1". Written here by
  // hand as the old code did; tests/fixtures/v1_key_repo has a real one.
  auto v2 = SealMasterKey(RandomBytes(32), "pw", kFastKdf, kOrigin);
  ASSERT_TRUE(v2.ok());
  KeyFile v1 = *v2;
  v1.version = 1;
  v1.sealed_master_key.clear();
  Bytes master = RandomBytes(32);
  auto kek = Argon2id("pw", v1.salt, v1.kdf, 32);
  ASSERT_TRUE(kek.ok());
  AeadNonce nonce;
  std::copy(v1.nonce.begin(), v1.nonce.end(), nonce.begin());
  AeadSeal(*kek, nonce, master, AsBytes("ferry key v1"), v1.sealed_master_key);
  nlohmann::json j = ToJson(v1);
  EXPECT_EQ(j["version"], 1);
  j["hostname"] = "changed";  // v1 never bound it: still opens (the name check catches it)
  auto parsed = FromJson(j);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto opened = UnsealMasterKey(*parsed, "pw");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, master);
  EXPECT_EQ(UnsealMasterKey(*parsed, "other").status().code(), StatusCode::kWrongPassword);
}

TEST(KeyFileTest, UnknownOrMissingVersionIsAClearError) {
  auto sealed = SealMasterKey(RandomBytes(32), "pw", kFastKdf, kOrigin);
  ASSERT_TRUE(sealed.ok());
  nlohmann::json j = ToJson(*sealed);
  j["version"] = 3;
  auto three = FromJson(j);
  EXPECT_EQ(three.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(three.status().message().find("version 3"), std::string::npos)
      << three.status().message();
  j["version"] = "2";
  EXPECT_TRUE(FromJson(j).status().IsCorruption());
  j.erase("version");
  auto missing = FromJson(j);
  EXPECT_TRUE(missing.status().IsCorruption());
  EXPECT_NE(missing.status().message().find("'version'"), std::string::npos);
}

TEST(KeyFileTest, KdfParametersAreBoundedToWhatFerryWrites) {
  EXPECT_TRUE(CheckKeyFileKdf(Argon2Params{}).ok());  // what init and key add write
  EXPECT_TRUE(CheckKeyFileKdf(kFastKdf).ok());        // what the tests write
  Status huge = CheckKeyFileKdf(Argon2Params{3, 2ull << 30});
  EXPECT_TRUE(huge.IsCorruption());
  EXPECT_EQ(huge.message(), "Argon2 memory 2 GiB is beyond the 64 MiB ferry ever writes");
  EXPECT_FALSE(CheckKeyFileKdf(Argon2Params{3, (64ull << 20) + 1024}).ok());
  EXPECT_FALSE(CheckKeyFileKdf(Argon2Params{3, 4 << 20}).ok());
  EXPECT_FALSE(CheckKeyFileKdf(Argon2Params{3, (8 << 20) + 1}).ok());  // not whole KiB
  EXPECT_FALSE(CheckKeyFileKdf(Argon2Params{4, 64 << 20}).ok());
  EXPECT_FALSE(CheckKeyFileKdf(Argon2Params{0, 64 << 20}).ok());
  EXPECT_FALSE(CheckKeyFileKdf(Argon2Params{1ull << 40, 64 << 20}).ok());

  // Unseal refuses before Argon2 runs: a 2 GiB memlimit returns at once
  // with the bound, not "out of memory" (or 18 s later).
  auto sealed = SealMasterKey(RandomBytes(32), "pw", kFastKdf, kOrigin);
  ASSERT_TRUE(sealed.ok());
  KeyFile hostile = *sealed;
  hostile.kdf.memlimit = 2ull << 30;
  auto opened = UnsealMasterKey(hostile, "pw");
  EXPECT_TRUE(opened.status().IsCorruption());
  EXPECT_NE(opened.status().message().find("beyond the 64 MiB"), std::string::npos);
  // And ferry never writes what it would refuse.
  EXPECT_FALSE(SealMasterKey(RandomBytes(32), "pw", Argon2Params{3, 128 << 20}).ok());
}

TEST(KeyFileTest, Base64FieldsAreStrictAndNamed) {
  auto sealed = SealMasterKey(RandomBytes(32), "pw", kFastKdf, kOrigin);
  ASSERT_TRUE(sealed.ok());
  nlohmann::json j = ToJson(*sealed);
  std::string salt = j["salt"];  // 16 bytes: 22 characters and "=="
  auto refused = [&](const char* field, const std::string& value) {
    nlohmann::json copy = j;
    copy[field] = value;
    auto parsed = FromJson(copy);
    EXPECT_TRUE(parsed.status().IsCorruption()) << field << "=" << value;
    EXPECT_NE(parsed.status().message().find(std::string("'") + field + "'"), std::string::npos)
        << parsed.status().message();
  };
  refused("salt", salt + "\n");                  // whitespace
  refused("salt", " " + salt.substr(1));         // whitespace inside the length
  refused("salt", salt.substr(0, 21) + "B==");   // padding bits not zero
  refused("salt", salt.substr(0, 22) + "=A");    // '=' inside
  refused("salt", salt.substr(0, 20) + "-_==");  // base64url alphabet
  refused("salt", salt.substr(0, 22));           // unpadded
  refused("nonce", "not base64 at all!!!");
  refused("data", std::string(j["data"]).substr(4));  // wrong size
  refused("salt", salt.substr(0, 20));                // 15 bytes
  nlohmann::json copy = j;
  copy.erase("hostname");
  copy["hostname_b64"] = "@@@@";
  auto host = FromJson(copy);
  EXPECT_TRUE(host.status().IsCorruption());
  EXPECT_NE(host.status().message().find("'hostname_b64'"), std::string::npos);
}

TEST(KeyFileTest, Base64DecodeIsCanonical) {
  for (size_t n = 0; n < 8; ++n) {
    Bytes data = RandomBytes(n);
    auto decoded = Base64Decode(Base64Encode(data));
    ASSERT_TRUE(decoded.ok()) << n;
    EXPECT_EQ(*decoded, data);
  }
  EXPECT_EQ(AsString(*Base64Decode("Zm9vYg==")), "foob");
  EXPECT_FALSE(Base64Decode("Zm9vYh==").ok());  // same bytes, non-zero padding bits
  EXPECT_FALSE(Base64Decode("Zm9vYmF=").ok());
  EXPECT_FALSE(Base64Decode("Zm9v\nYmFy").ok());
  EXPECT_FALSE(Base64Decode("====").ok());
  EXPECT_FALSE(Base64Decode("Zg=a").ok());
  EXPECT_TRUE(Base64Decode("").ok());
}

TEST(KeyFileTest, GarbageIsCorruptionNeverAnException) {
  for (std::string text : {"", "null", "[]", "{}", "\"x\"", "{\"version\": 2}",
                           "{\"version\": 2, \"kdf\": 5}", "{\"version\": 1e400}"})
    EXPECT_FALSE(ParseKeyFile(AsBytes(text)).ok()) << text;
}

}  // namespace
}  // namespace ferry
