// Pinning (issue 9): a location that serves another repository's ID is refused.
#include "repo/known_repository.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "crypto/random.h"
#include "test_util.h"
#include "util/file_util.h"

namespace ferry {
namespace {

struct FakeClock : Clock {
  int64_t NowNanos() const override { return now; }
  int64_t now = 1700000000000000000;
};

Id RandomId() { return Id::FromBytes(RandomBytes(Id::kSize)); }

class KnownRepositoryTest : public ::testing::Test {
 protected:
  std::string State() { return dir_.path() + "/state"; }
  TempDir dir_;
  FakeClock clock_;
};

TEST_F(KnownRepositoryTest, ALocationHasNoPinUntilOneIsRecorded) {
  KnownRepositories known(State(), clock_);
  RepositoryLocation location = VaultLocation("http://h:1", "prod", "fs01");
  auto none = known.Find(location);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(*none);

  Id id = RandomId();
  ASSERT_TRUE(known.Pin(location, id).ok());
  auto pin = KnownRepositories(State()).Find(location);  // persisted, not cached
  ASSERT_TRUE(pin.ok()) << pin.status().ToString();
  ASSERT_TRUE(*pin);
  EXPECT_EQ((*pin)->repository_id, id);
  EXPECT_EQ((*pin)->pinned_ns, clock_.now);
}

TEST_F(KnownRepositoryTest, PinningAgainReplacesThePin) {
  KnownRepositories known(State(), clock_);
  RepositoryLocation location = LocalPathLocation(dir_.path() + "/repo");
  ASSERT_TRUE(known.Pin(location, RandomId()).ok());
  Id second = RandomId();
  ASSERT_TRUE(known.Pin(location, second).ok());
  EXPECT_EQ((*known.Find(location))->repository_id, second);
}

TEST_F(KnownRepositoryTest, EachLocationHasItsOwnPin) {
  KnownRepositories known(State(), clock_);
  Id a = RandomId(), b = RandomId();
  ASSERT_TRUE(known.Pin(VaultLocation("s", "prod", "fs01"), a).ok());
  ASSERT_TRUE(known.Pin(VaultLocation("s", "prod", "fs02"), b).ok());
  EXPECT_EQ((*known.Find(VaultLocation("s", "prod", "fs01")))->repository_id, a);
  EXPECT_EQ((*known.Find(VaultLocation("s", "prod", "fs02")))->repository_id, b);
  // The server's address is not part of the location: a vault reached through
  // a proxy or after a move keeps its pin.
  EXPECT_EQ((*known.Find(VaultLocation("https://other:443", "prod", "fs01")))->repository_id, a);
  EXPECT_FALSE(*known.Find(LocalPathLocation(dir_.path() + "/prod")));
}

TEST_F(KnownRepositoryTest, APathIsPinnedByWhatItResolvesTo) {
  std::string real = dir_.path() + "/real";
  ASSERT_TRUE(MakeDirectories(real).ok());
  ASSERT_EQ(::symlink(real.c_str(), (dir_.path() + "/link").c_str()), 0);
  EXPECT_EQ(LocalPathLocation(dir_.path() + "/link").key, LocalPathLocation(real).key);
  EXPECT_EQ(LocalPathLocation(real + "/").key, LocalPathLocation(real).key);
  EXPECT_EQ(LocalPathLocation(real).key.rfind("path:/", 0), 0u);
  // Both spellings of a directory (storage/backend_registry.h) share a pin.
  EXPECT_EQ(StorageRepositoryLocation("local:" + real)->key, LocalPathLocation(real).key);
  EXPECT_EQ(StorageRepositoryLocation(real)->key, LocalPathLocation(real).key);
  EXPECT_EQ(StorageRepositoryLocation("memory://x")->key, "memory://x");
}

TEST_F(KnownRepositoryTest, TheRefusalNamesBothIdsAndHowToAccept) {
  Id pinned = RandomId(), served = RandomId();
  Status status = RepositoryChangedError(VaultLocation("http://h", "prod", "fs01"), pinned, served,
                                         "/x/pin.json");
  EXPECT_EQ(status.code(), StatusCode::kRepositoryChanged);
  EXPECT_NE(status.message().find(pinned.Hex()), std::string::npos) << status.message();
  EXPECT_NE(status.message().find(served.Hex()), std::string::npos);
  EXPECT_NE(status.message().find("vault prod, machine fs01"), std::string::npos);
  EXPECT_NE(status.message().find("/x/pin.json"), std::string::npos);
  EXPECT_NE(status.message().find("ferry trust accept-repository " + served.Short()),
            std::string::npos);
}

TEST_F(KnownRepositoryTest, ADamagedOrForeignPinFileIsAnErrorNamingIt) {
  KnownRepositories known(State(), clock_);
  RepositoryLocation here = VaultLocation("s", "prod", "fs01");
  RepositoryLocation there = VaultLocation("s", "prod", "fs02");
  ASSERT_TRUE(known.Pin(there, RandomId()).ok());
  // Another location's pin copied under this location's name: never applied.
  std::filesystem::copy_file(known.PinPath(there), known.PinPath(here));
  auto foreign = known.Find(here);
  EXPECT_EQ(foreign.status().code(), StatusCode::kCorruption);
  EXPECT_NE(foreign.status().message().find(known.PinPath(here)), std::string::npos);

  std::ofstream(known.PinPath(here)) << "{not json";
  auto damaged = known.Find(here);
  EXPECT_EQ(damaged.status().code(), StatusCode::kCorruption);
  EXPECT_NE(damaged.status().message().find("delete it"), std::string::npos);
}

TEST_F(KnownRepositoryTest, PinFilesArePrivateAndAtomic) {
  KnownRepositories known(State(), clock_);
  RepositoryLocation location = VaultLocation("s", "prod", "fs01");
  ASSERT_TRUE(known.Pin(location, RandomId()).ok());
  auto perms = std::filesystem::status(known.PinPath(location)).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::group_all, std::filesystem::perms::none);
  EXPECT_EQ(perms & std::filesystem::perms::others_all, std::filesystem::perms::none);
  for (const auto& entry :
       std::filesystem::directory_iterator(TrustDirectory(State()) + "/locations"))
    EXPECT_FALSE(IsTempPath(entry.path().string())) << entry.path();
}

}  // namespace
}  // namespace ferry
