#include "backend_contract.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "crypto/hash.h"
#include "crypto/random.h"

namespace ferry {

void BackendContractTest::SetUp() {
  backend_ = GetParam().make(dir_.path() + "/repo");
  ASSERT_NE(backend_, nullptr) << GetParam().name << ": no backend to test";
  Status created = backend_->Create();
  ASSERT_TRUE(created.ok()) << created.ToString();
}

ObjectName BackendContractTest::Name(ObjectKind kind, ByteView data) {
  return {kind, Sha256(data).Hex()};
}

std::string BackendName(const ::testing::TestParamInfo<BackendUnderTest>& info) {
  return info.param.name;
}

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
  if (GetParam().server_writes_in_place)
    GTEST_SKIP() << GetParam().name << ": the test server lists objects it is still writing";
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

TEST_P(BackendContractTest, PutIfAbsentWritesOnce) {
  Bytes first = RandomBytes(3000);
  ObjectName name{ObjectKind::kLock, Sha256(first).Hex()};
  ASSERT_TRUE(backend_->PutIfAbsent(name, first).ok());
  Status again = backend_->PutIfAbsent(name, RandomBytes(10));
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(*backend_->Get(name), first) << "a refused write-once Put changed the object";
}

// The contended name is the config: the one name whose bytes are not their
// SHA-256, so that a store which checks every other name against its bytes
// (the vault) can hold any contender's bytes; two `ferry init`s race for it.
TEST_P(BackendContractTest, ConcurrentPutIfAbsentHasOneWinner) {
  ObjectName name = ObjectName::Config();
  std::vector<Bytes> contents;
  for (int t = 0; t < 6; ++t) contents.push_back(RandomBytes(20000));
  std::atomic<int> winners{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      Status status = backend_->PutIfAbsent(name, contents[t]);
      if (status.ok()) ++winners;
      if (status.code() == StatusCode::kAlreadyExists) ++refused;
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(winners, 1);
  EXPECT_EQ(refused, 5);
  auto stored = backend_->Get(name);
  ASSERT_TRUE(stored.ok());
  EXPECT_NE(std::find(contents.begin(), contents.end(), *stored), contents.end());
}

TEST_P(BackendContractTest, DiscardedWriterLeavesNothing) {
  Bytes data = RandomBytes(3 << 20);
  ObjectName name = Name(ObjectKind::kData, data);
  {
    auto writer = backend_->OpenWriter(name);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(data).ok());
  }
  EXPECT_TRUE(backend_->Stat(name).status().IsNotFound());
  auto names = ListNames(*backend_, ObjectKind::kData);
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST_P(BackendContractTest, MissingObjectsStreamNotFound) {
  ObjectName name = Name(ObjectKind::kSnapshot, AsBytes("never written"));
  Status read = backend_->ReadStream(name, 0, Backend::kToEnd, [](ByteView) {
    ADD_FAILURE() << "a missing object had bytes";
    return Status::Ok();
  });
  EXPECT_TRUE(read.IsNotFound()) << read.ToString();
  EXPECT_TRUE(backend_->Get(name, 10, 5).status().IsNotFound());
}

// CopyObject between two stores of the same kind: server-side where the
// backend can, streamed otherwise; either way every byte arrives, the source
// keeps its copy, and a missing source is NotFound with nothing written.
TEST_P(BackendContractTest, CopyObjectFromAnotherStoreOfTheSameKind) {
  TempDir other_dir;
  std::unique_ptr<Backend> source = GetParam().make(other_dir.path() + "/repo");
  ASSERT_NE(source, nullptr);
  ASSERT_TRUE(source->Create().ok());
  Bytes data = RandomBytes((5 << 20) + 17);
  ObjectName name = Name(ObjectKind::kData, data);
  ASSERT_TRUE(source->Put(name, data).ok());
  Status copied = CopyObject(*source, *backend_, name);
  ASSERT_TRUE(copied.ok()) << copied.ToString();
  EXPECT_EQ(*backend_->Get(name), data);
  EXPECT_EQ(*source->Get(name), data);

  ObjectName missing = Name(ObjectKind::kData, AsBytes("never written"));
  EXPECT_TRUE(CopyObject(*source, *backend_, missing).IsNotFound());
  EXPECT_TRUE(backend_->Stat(missing).status().IsNotFound());
}

}  // namespace ferry
