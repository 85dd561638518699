// The Backend contract (storage/backend.h), run against every backend.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "storage/backend_registry.h"
#include "storage/local_backend.h"
#include "storage/memory_backend.h"
#include "test_util.h"

namespace ferry {
namespace {

// Each backend the suite runs on: a name for the test's output and a maker
// of a fresh, empty backend in `dir`.
struct BackendUnderTest {
  const char* name;
  std::function<std::unique_ptr<Backend>(const std::string& dir)> make;
};

class BackendContractTest : public ::testing::TestWithParam<BackendUnderTest> {
 protected:
  void SetUp() override {
    backend_ = GetParam().make(dir_.path() + "/repo");
    ASSERT_NE(backend_, nullptr);
    ASSERT_TRUE(backend_->Create().ok());
  }
  ObjectName Name(ObjectKind kind, ByteView data) { return {kind, Sha256(data).Hex()}; }

  TempDir dir_;
  std::unique_ptr<Backend> backend_;
};

TEST_P(BackendContractTest, PutGetStatRemove) {
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

TEST_P(BackendContractTest, ListReportsEachObjectOfAKindOnly) {
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

TEST_P(BackendContractTest, CreateRefusesAnExistingRepository) {
  ASSERT_TRUE(backend_->Put(ObjectName::Config(), AsBytes("x")).ok());
  EXPECT_EQ(backend_->Create().code(), StatusCode::kAlreadyExists);
}

TEST_P(BackendContractTest, ConcurrentPutsAllLand) {
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

TEST_P(BackendContractTest, EmptyObjectsAndRangesAtTheEnd) {
  ObjectName name{ObjectKind::kLock, Sha256(Bytes{}).Hex()};
  ASSERT_TRUE(backend_->Put(name, Bytes{}).ok());
  EXPECT_EQ(*backend_->Stat(name), 0u);
  auto whole = backend_->Get(name);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_TRUE(whole->empty());
  EXPECT_TRUE(backend_->Get(name, 0, 1).status().IsCorruption());
}

TEST_P(BackendContractTest, PutReplacesAndMissingObjectsAreNotFound) {
  ObjectName name = ObjectName::Config();
  EXPECT_TRUE(backend_->Get(name).status().IsNotFound());
  EXPECT_TRUE(backend_->Stat(name).status().IsNotFound());
  ASSERT_TRUE(backend_->Put(name, AsBytes("first")).ok());
  ASSERT_TRUE(backend_->Put(name, AsBytes("second!")).ok());
  EXPECT_EQ(*backend_->Get(name), Bytes({'s', 'e', 'c', 'o', 'n', 'd', '!'}));
}

TEST_P(BackendContractTest, LargeObjectsStreamInAndOut) {
  Bytes data = RandomBytes(9 << 20);
  ObjectName name = Name(ObjectKind::kData, data);
  auto writer = backend_->OpenWriter(name);
  ASSERT_TRUE(writer.ok());
  for (size_t at = 0; at < data.size(); at += 1 << 20)
    ASSERT_TRUE((*writer)->Write(ByteView(data).subspan(at, 1 << 20)).ok());
  EXPECT_TRUE(backend_->Stat(name).status().IsNotFound()) << "visible before Commit";
  ASSERT_TRUE((*writer)->Commit().ok());
  Bytes read;
  ASSERT_TRUE(backend_
                  ->ReadStream(name, 100, data.size() - 200,
                               [&](ByteView piece) {
                                 read.insert(read.end(), piece.begin(), piece.end());
                                 return Status::Ok();
                               })
                  .ok());
  EXPECT_EQ(read, Bytes(data.begin() + 100, data.end() - 100));
}

TEST_P(BackendContractTest, ListingWhileWritingSeesOnlyWholeObjects) {
  std::atomic<bool> done{false};
  std::map<std::string, uint64_t> sizes;
  std::mutex sizes_mutex;
  std::thread writer([&] {
    for (int i = 0; i < 50; ++i) {
      Bytes data = RandomBytes(1000 + static_cast<size_t>(i) * 100);
      ObjectName name = Name(ObjectKind::kIndex, data);
      {
        std::lock_guard lock(sizes_mutex);
        sizes[name.name] = data.size();
      }
      EXPECT_TRUE(backend_->Put(name, data).ok());
    }
    done = true;
  });
  while (!done) {
    ASSERT_TRUE(backend_
                    ->List(ObjectKind::kIndex,
                           [&](const std::string& name, uint64_t size) {
                             std::lock_guard lock(sizes_mutex);
                             auto expected = sizes.find(name);
                             EXPECT_NE(expected, sizes.end()) << name;
                             if (expected != sizes.end()) {
                               EXPECT_EQ(size, expected->second);
                             }
                             return Status::Ok();
                           })
                    .ok());
  }
  writer.join();
}

INSTANTIATE_TEST_SUITE_P(
    Backends, BackendContractTest,
    ::testing::Values(BackendUnderTest{"Local",
                                       [](const std::string& dir) -> std::unique_ptr<Backend> {
                                         return std::make_unique<LocalBackend>(dir);
                                       }},
                      BackendUnderTest{"Memory",
                                       [](const std::string&) -> std::unique_ptr<Backend> {
                                         return std::make_unique<MemoryBackend>();
                                       }},
                      // Through the registry, as every command opens storage.
                      BackendUnderTest{"RegistryLocal",
                                       [](const std::string& dir) -> std::unique_ptr<Backend> {
                                         auto opened = OpenBackend("local:" + dir);
                                         return opened.ok() ? std::move(*opened) : nullptr;
                                       }},
                      BackendUnderTest{"RegistryMemory",
                                       [](const std::string& dir) -> std::unique_ptr<Backend> {
                                         auto opened = OpenBackend("memory://" + dir);
                                         return opened.ok() ? std::move(*opened) : nullptr;
                                       }}),
    [](const ::testing::TestParamInfo<BackendUnderTest>& info) { return info.param.name; });

class LocalBackendTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(backend_.Create().ok()); }
  TempDir dir_;
  LocalBackend backend_{dir_.path() + "/repo"};
};

TEST_F(LocalBackendTest, TempFilesAreNeverListed) {
  // A crash between create and rename leaves a temp file behind.
  FILE* f = std::fopen((dir_.path() + "/repo/index/abc.tmp-123").c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  size_t count = 0;
  ASSERT_TRUE(backend_
                  .List(ObjectKind::kIndex,
                        [&](const std::string&, uint64_t) {
                          ++count;
                          return Status::Ok();
                        })
                  .ok());
  EXPECT_EQ(count, 0u);
}

}  // namespace
}  // namespace ferry
