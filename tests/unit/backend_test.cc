// The Backend contract (storage/backend.h), run against every backend.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "storage/local_backend.h"
#include "test_util.h"

namespace ferry {
namespace {

class BackendContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = std::make_unique<LocalBackend>(dir_.path() + "/repo");
    ASSERT_TRUE(backend_->Create().ok());
  }
  ObjectName Name(ObjectKind kind, ByteView data) { return {kind, Sha256(data).Hex()}; }

  TempDir dir_;
  std::unique_ptr<Backend> backend_;
};

TEST_F(BackendContractTest, PutGetStatRemove) {
  Bytes data = RandomBytes(100000);
  ObjectName name = Name(ObjectKind::kData, data);
  ASSERT_TRUE(backend_->Put(name, data).ok());
  EXPECT_EQ(*backend_->Stat(name), data.size());
  EXPECT_EQ(*backend_->Get(name), data);
  auto range = backend_->Get(name, 1000, 500);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, Bytes(data.begin() + 1000, data.begin() + 1500));
  EXPECT_EQ(backend_->Get(name, data.size(), 0)->size(), 0u);
  EXPECT_FALSE(backend_->Get(name, data.size() - 10, 11).ok());  // past the end
  EXPECT_FALSE(backend_->Get(name, data.size() + 1).ok());
  ASSERT_TRUE(backend_->Remove(name).ok());
  EXPECT_TRUE(backend_->Stat(name).status().IsNotFound());
  EXPECT_TRUE(backend_->Get(name).status().IsNotFound());
  EXPECT_TRUE(backend_->Remove(name).IsNotFound());
}

TEST_F(BackendContractTest, ListReportsEachObjectOfAKindOnly) {
  std::set<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    Bytes data = RandomBytes(10 + static_cast<size_t>(i));
    ObjectName name = Name(ObjectKind::kData, data);
    expected.insert(name.name);
    ASSERT_TRUE(backend_->Put(name, data).ok());
  }
  Bytes snapshot = RandomBytes(5);
  ASSERT_TRUE(backend_->Put(Name(ObjectKind::kSnapshot, snapshot), snapshot).ok());
  std::set<std::string> listed;
  ASSERT_TRUE(backend_
                  ->List(ObjectKind::kData,
                         [&](const std::string& name, uint64_t size) {
                           EXPECT_GE(size, 10u);
                           listed.insert(name);
                           return Status::Ok();
                         })
                  .ok());
  EXPECT_EQ(listed, expected);
  size_t snapshots = 0;
  ASSERT_TRUE(backend_
                  ->List(ObjectKind::kSnapshot,
                         [&](const std::string&, uint64_t) {
                           ++snapshots;
                           return Status::Ok();
                         })
                  .ok());
  EXPECT_EQ(snapshots, 1u);
}

TEST_F(BackendContractTest, CreateRefusesAnExistingRepository) {
  ASSERT_TRUE(backend_->Put(ObjectName::Config(), AsBytes("x")).ok());
  EXPECT_EQ(backend_->Create().code(), StatusCode::kAlreadyExists);
}

TEST_F(BackendContractTest, ConcurrentPutsAllLand) {
  std::vector<std::thread> threads;
  std::vector<ObjectName> names(8, ObjectName{ObjectKind::kIndex, ""});
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      Bytes data = RandomBytes(5000);
      names[t] = Name(ObjectKind::kIndex, data);
      EXPECT_TRUE(backend_->Put(names[t], data).ok());
    });
  for (auto& thread : threads) thread.join();
  for (const ObjectName& name : names) EXPECT_TRUE(backend_->Stat(name).ok());
}

TEST_F(BackendContractTest, TempFilesAreNeverListed) {
  // A crash between create and rename leaves a temp file behind.
  FILE* f = std::fopen((dir_.path() + "/repo/index/abc.tmp-123").c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  size_t count = 0;
  ASSERT_TRUE(backend_
                  ->List(ObjectKind::kIndex,
                         [&](const std::string&, uint64_t) {
                           ++count;
                           return Status::Ok();
                         })
                  .ok());
  EXPECT_EQ(count, 0u);
}

}  // namespace
}  // namespace ferry
