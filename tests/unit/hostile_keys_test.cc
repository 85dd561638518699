// Hostile key files (docs/security.md): anyone who can add objects can plant
// key files. A damaged, refused or unknown key file is named, never taken for
// a wrong password, never costs Argon2 work beyond what ferry writes, and
// never locks out the other keys; key list/remove and check handle it.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "repo/checker.h"
#include "repo/key_files.h"
#include "repo/repository.h"
#include "storage/local_backend.h"
#include "test_util.h"

namespace ferry {
namespace {

const Argon2Params kFastKdf{1, 8 << 20};

class HostileKeysTest : public ::testing::Test {
 protected:
  std::string Location() { return dir_.path() + "/repo"; }
  std::unique_ptr<Backend> NewBackend() { return std::make_unique<LocalBackend>(Location()); }
  void SetUp() override {
    auto repository = Repository::Init(NewBackend(), "pw", kFastKdf);
    ASSERT_TRUE(repository.ok()) << repository.status().ToString();
    first_key_ = OnlyKey();
  }
  Id OnlyKey() {
    auto keys = ReadKeyFiles(*NewBackend());
    EXPECT_TRUE(keys.ok() && keys->size() == 1u);
    return keys->front().id;
  }
  Bytes KeyBytes(const Id& id) {
    auto bytes = NewBackend()->Get({ObjectKind::kKey, id.Hex()});
    EXPECT_TRUE(bytes.ok());
    return *bytes;
  }
  // What a machine token can do: store any bytes under their SHA-256 name.
  Id Plant(const Bytes& bytes) {
    Id id = Sha256(bytes);
    EXPECT_TRUE(NewBackend()->Put({ObjectKind::kKey, id.Hex()}, bytes).ok());
    return id;
  }
  // The real key file with `field` changed, stored under its new correct name.
  Id PlantEdited(const std::string& field, const nlohmann::json& value) {
    Bytes bytes = KeyBytes(first_key_);
    nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end());
    j[field] = value;
    std::string text = j.dump();
    return Plant(Bytes(text.begin(), text.end()));
  }
  void FlipInPlace(const Id& id) {
    Bytes bytes = KeyBytes(id);
    bytes[bytes.size() / 2] ^= 1;
    ASSERT_TRUE(NewBackend()->Put({ObjectKind::kKey, id.Hex()}, bytes).ok());
  }
  Result<std::unique_ptr<Repository>> Open(const std::string& password = "pw") {
    return Repository::Open(NewBackend(), password);
  }
  static bool Has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  TempDir dir_;
  Id first_key_;
};

TEST_F(HostileKeysTest, HugeMemlimitKeyIsRefusedByNameAndTheOthersStillOpen) {
  // Sorts first or last: either way it is refused before any Argon2 work.
  Id hostile = PlantEdited("memlimit", 2ull << 30);
  auto repository = Open();
  ASSERT_TRUE(repository.ok()) << repository.status().ToString();
  auto damaged = (*repository)->damaged();
  ASSERT_EQ(damaged.size(), 1u);
  EXPECT_EQ(damaged[0].kind, ObjectKind::kKey);
  EXPECT_EQ(damaged[0].id, hostile);
  EXPECT_EQ(damaged[0].problem, "key file " + hostile.Hex() +
                                    ": Argon2 memory 2 GiB is beyond the 64 MiB ferry ever writes");
  EXPECT_TRUE(Has(DescribeSkipped(damaged[0]), "ignored"));
}

TEST_F(HostileKeysTest, OnlyHostileOrDamagedKeysIsNotAWrongPassword) {
  Id huge = PlantEdited("opslimit", 1000000);
  FlipInPlace(first_key_);
  auto opened = Open();
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().code(), StatusCode::kWrongPassword) << opened.status().ToString();
  EXPECT_TRUE(opened.status().IsCorruption());
  EXPECT_TRUE(Has(opened.status().message(), "key file " + first_key_.Hex() + " is damaged"))
      << opened.status().message();
  EXPECT_TRUE(Has(opened.status().message(), "key file " + huge.Hex() + ": Argon2 opslimit"));
}

TEST_F(HostileKeysTest, DamagedKeyFileSaysDamagedNotWrongPassword) {
  FlipInPlace(first_key_);
  auto opened = Open();
  ASSERT_FALSE(opened.ok());
  EXPECT_TRUE(opened.status().IsCorruption()) << opened.status().ToString();
  EXPECT_TRUE(Has(opened.status().message(), "key file " + first_key_.Hex() +
                                                 " is damaged: its content does not match its "
                                                 "name"))
      << opened.status().message();

  // Junk under a correct name: damaged because it does not parse.
  Id junk = Plant(RandomBytes(300));
  opened = Open();
  EXPECT_TRUE(Has(opened.status().message(), "key file " + junk.Hex() + " is damaged"));
}

TEST_F(HostileKeysTest, WrongPasswordOnlyWhenEveryIntactKeyFailsToAuthenticate) {
  Id junk = Plant(RandomBytes(300));
  auto opened = Open("not the password");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kWrongPassword) << opened.status().ToString();
  EXPECT_TRUE(Has(opened.status().message(), junk.Hex()));  // and says what it skipped

  // A v2 key whose host name was edited and renamed to match: it parses but
  // no longer authenticates, which is all a reader can say: wrong password.
  NewBackend()->Remove({ObjectKind::kKey, junk.Hex()}).IgnoreError();
  Id edited = PlantEdited("hostname", "mallory");
  ASSERT_TRUE(NewBackend()->Remove({ObjectKind::kKey, first_key_.Hex()}).ok());
  opened = Open();
  EXPECT_EQ(opened.status().code(), StatusCode::kWrongPassword) << opened.status().ToString();
  (void)edited;
}

TEST_F(HostileKeysTest, UnknownVersionNamesTheFile) {
  Id future = PlantEdited("version", 9);
  ASSERT_TRUE(NewBackend()->Remove({ObjectKind::kKey, first_key_.Hex()}).ok());
  auto opened = Open();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kUnsupported) << opened.status().ToString();
  EXPECT_TRUE(Has(opened.status().message(), "key file " + future.Hex()));
  EXPECT_TRUE(Has(opened.status().message(), "version 9"));
}

TEST_F(HostileKeysTest, OversizedKeyFileIsNotRead) {
  Bytes big(kMaxKeyFileSize + 1, '{');
  Id id = Plant(big);
  auto stored = ReadKeyFiles(*NewBackend());
  ASSERT_TRUE(stored.ok());
  bool found = false;
  for (const StoredKeyFile& key : *stored)
    if (key.id == id) {
      found = true;
      EXPECT_TRUE(key.problem.IsCorruption());
      EXPECT_TRUE(Has(key.problem.message(), "more than any key file"));
    }
  EXPECT_TRUE(found);
}

TEST_F(HostileKeysTest, KeyListShowsDamagedKeysAndRemoveRemovesThem) {
  auto repository = Open();
  ASSERT_TRUE(repository.ok());
  auto second = (*repository)->AddKey("pw2", kFastKdf);
  ASSERT_TRUE(second.ok());
  Id junk = Plant(RandomBytes(300));
  Id huge = PlantEdited("memlimit", 2ull << 30);
  auto keys = (*repository)->ListKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 4u);
  EXPECT_TRUE((*keys)[0].problem.ok() && (*keys)[0].current);
  EXPECT_TRUE((*keys)[1].problem.ok());
  EXPECT_FALSE((*keys)[2].problem.ok());  // damaged ones last
  EXPECT_FALSE((*keys)[3].problem.ok());

  EXPECT_TRUE((*repository)->RemoveKey(junk.Hex().substr(0, 10)).ok());
  EXPECT_TRUE((*repository)->RemoveKey(huge.Hex()).ok());
  keys = (*repository)->ListKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 2u);

  // The current key and the last intact one stay.
  EXPECT_FALSE((*repository)->RemoveKey(first_key_.Hex()).ok());
  FlipInPlace(*second);  // now only the current key is intact
  keys = (*repository)->ListKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_FALSE((*keys)[1].problem.ok());
  Status last = (*repository)->RemoveKey(first_key_.Hex());
  EXPECT_FALSE(last.ok());
  EXPECT_TRUE(Has(last.message(), "last intact key")) << last.message();
  EXPECT_TRUE((*repository)->RemoveKey(second->Hex()).ok());  // damaged: may go
}

TEST_F(HostileKeysTest, CheckReportsDamagedKeysAndConfig) {
  Id junk = Plant(RandomBytes(300));
  Id huge = PlantEdited("memlimit", 2ull << 30);
  auto repository = Open();
  ASSERT_TRUE(repository.ok());
  auto report = CheckRepository(**repository, {}, [](const std::string&) {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  auto error_names = [&](const Id& id) {
    for (const std::string& error : report->errors)
      if (Has(error, "key file " + id.Hex()) && Has(error, "ferry key remove")) return true;
    return false;
  };
  EXPECT_TRUE(error_names(junk));
  EXPECT_TRUE(error_names(huge));
  EXPECT_EQ(report->errors.size(), 2u);
  EXPECT_EQ(report->repairs.size(), 2u);

  // A config replaced after opening (here: by junk) is reported too.
  ASSERT_TRUE(NewBackend()->Put(ObjectName::Config(), RandomBytes(200)).ok());
  report = CheckRepository(**repository, {}, [](const std::string&) {});
  ASSERT_TRUE(report.ok());
  bool config = false;
  for (const std::string& error : report->errors) config |= Has(error, "config is damaged");
  EXPECT_TRUE(config);
}

TEST_F(HostileKeysTest, NewKeyFilesAreVersion2) {
  Bytes bytes = KeyBytes(first_key_);
  nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end());
  EXPECT_EQ(j["version"], 2);
}

// tests/fixtures/v1_key_repo: written by ferry 0.1.0 before key files were
// version 2. It must keep opening, and a key added to it is version 2.
TEST(V1FixtureTest, OpensARepositoryWithAVersion1KeyFile) {
  TempDir dir;
  std::string repo = dir.path() + "/repo";
  std::filesystem::copy(FERRY_FIXTURES_DIR "/v1_key_repo/repo", repo,
                        std::filesystem::copy_options::recursive);
  std::filesystem::create_directories(repo + "/locks");  // git keeps no empty directories
  auto stored = ReadKeyFiles(*std::make_unique<LocalBackend>(repo));
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_TRUE(stored->front().intact()) << stored->front().problem.ToString();
  EXPECT_EQ(stored->front().key_file.version, 1);

  EXPECT_EQ(Repository::Open(std::make_unique<LocalBackend>(repo), "wrong").status().code(),
            StatusCode::kWrongPassword);
  auto repository = Repository::Open(std::make_unique<LocalBackend>(repo), "fixture-password");
  ASSERT_TRUE(repository.ok()) << repository.status().ToString();
  ASSERT_TRUE((*repository)->LoadIndex().ok());
  auto snapshots = (*repository)->ListSnapshots();
  ASSERT_TRUE(snapshots.ok());
  ASSERT_EQ(snapshots->size(), 1u);
  auto tree = (*repository)->LoadTree(snapshots->front().snapshot.tree);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  auto report = CheckRepository(**repository, {true, 1}, [](const std::string&) {});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << (report->errors.empty() ? "" : report->errors[0]);

  auto added = (*repository)->AddKey("second", kFastKdf);
  ASSERT_TRUE(added.ok());
  auto again = Repository::Open(std::make_unique<LocalBackend>(repo), "second");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto keys = (*again)->ListKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].key_file.version, 1);
  EXPECT_EQ((*keys)[1].key_file.version, 2);
}

}  // namespace
}  // namespace ferry
