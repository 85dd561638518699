// Locks (issue 9): an object in locks/ that cannot be read is not a lock.
#include "repo/lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "hostile_fixtures.h"
#include "storage/local_backend.h"
#include "test_util.h"

namespace ferry {
namespace {

using ::testing::HasSubstr;

const Argon2Params kFastKdf{1, 8 << 20};

struct FakeClock : Clock {
  int64_t NowNanos() const override { return now; }
  int64_t now = 1000000000000;
};

class LockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto repository =
        Repository::Init(std::make_unique<LocalBackend>(dir_.path() + "/repo"), "pw", kFastKdf);
    ASSERT_TRUE(repository.ok()) << repository.status().ToString();
    repository_ = std::move(*repository);
  }
  // Random bytes under their own SHA-256 name: what an append-only machine
  // token can always upload.
  std::string PlantJunkLock() {
    Bytes junk(100, 0x5a);
    std::string name = Sha256(junk).Hex();
    EXPECT_TRUE(repository_->backend().Put({ObjectKind::kLock, name}, junk).ok());
    return name;
  }
  size_t LockCount() {
    size_t count = 0;
    EXPECT_TRUE(repository_->backend()
                    .List(ObjectKind::kLock,
                          [&](const std::string&, uint64_t) {
                            ++count;
                            return Status::Ok();
                          })
                    .ok());
    return count;
  }

  TempDir dir_;
  std::unique_ptr<Repository> repository_;
  FakeClock clock_;
};

TEST_F(LockTest, UnreadableLockDoesNotBlockSharedOperations) {
  PlantJunkLock();
  auto shared = RepositoryLock::Acquire(*repository_, false, clock_);
  EXPECT_TRUE(shared.ok()) << shared.status().ToString();
}

TEST_F(LockTest, UnreadableLockIsNamedInAWarning) {
  std::string junk = PlantJunkLock();
  std::vector<std::string> warnings;
  LockOptions options;
  options.warn = [&](const std::string& message) { warnings.push_back(message); };
  auto shared = RepositoryLock::Acquire(*repository_, false, clock_, options);
  ASSERT_TRUE(shared.ok()) << shared.status().ToString();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr(junk));
  EXPECT_THAT(warnings[0], HasSubstr("ferry unlock --remove-all"));
}

// Its content cannot date it: exclusive operations wait 30 minutes from when
// this machine first saw it, then take it for stale and remove it.
TEST_F(LockTest, ExclusiveOperationsTakeAnUnreadableLockForStaleAfterTheTimeout) {
  std::string junk = PlantJunkLock();
  LockOptions options;
  options.seen_dir = dir_.path() + "/seen";
  auto first = RepositoryLock::Acquire(*repository_, true, clock_, options);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kLocked);
  EXPECT_THAT(first.status().message(), HasSubstr("cannot be read"));
  EXPECT_THAT(first.status().message(), HasSubstr("ferry unlock"));

  clock_.now += RepositoryLock::kStaleAfterNanos - 1;
  auto still = RepositoryLock::Acquire(*repository_, true, clock_, options);
  EXPECT_EQ(still.status().code(), StatusCode::kLocked) << still.status().ToString();

  clock_.now += 2;
  auto later = RepositoryLock::Acquire(*repository_, true, clock_, options);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  later->reset();
  EXPECT_EQ(LockCount(), 0u);
}

TEST_F(LockTest, WithoutAMemoryAnUnreadableLockNeverGoesStale) {
  PlantJunkLock();
  clock_.now += 10 * RepositoryLock::kStaleAfterNanos;
  auto exclusive = RepositoryLock::Acquire(*repository_, true, clock_, {});
  EXPECT_EQ(exclusive.status().code(), StatusCode::kLocked);
}

TEST_F(LockTest, RemoveLocksKeepsLiveOnesUnlessAll) {
  std::string junk = PlantJunkLock();
  ASSERT_TRUE(hostile::WriteLock(*repository_, true, "elsewhere", 1, clock_.now).ok());
  ASSERT_TRUE(hostile::WriteLock(*repository_, false, "elsewhere", 2,
                                 clock_.now - 2 * RepositoryLock::kStaleAfterNanos)
                  .ok());
  LockOptions options;
  options.seen_dir = dir_.path() + "/seen";
  auto report = RepositoryLock::RemoveLocks(*repository_, false, clock_, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->removed.size(), 1u);  // the stale one
  EXPECT_THAT(report->removed[0], HasSubstr("not refreshed"));
  EXPECT_EQ(report->kept.size(), 2u);  // the live one and the unreadable one, seen just now
  EXPECT_EQ(LockCount(), 2u);

  clock_.now += RepositoryLock::kStaleAfterNanos + 1;
  report = RepositoryLock::RemoveLocks(*repository_, false, clock_, options);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->removed.size(), 2u);  // both are stale by now
  EXPECT_EQ(LockCount(), 0u);

  PlantJunkLock();
  ASSERT_TRUE(hostile::WriteLock(*repository_, true, "elsewhere", 1, clock_.now).ok());
  report = RepositoryLock::RemoveLocks(*repository_, true, clock_, options);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->removed.size(), 2u);
  EXPECT_EQ(LockCount(), 0u);
  (void)junk;
}

}  // namespace
}  // namespace ferry
