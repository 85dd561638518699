// CacheBackend over a local "remote" that counts its reads: metadata is read
// remotely once and then locally, file contents never go into the cache, a
// damaged cache entry is fetched again, damaged remote bytes are refused, and
// indexes removed from the repository leave the cache too.
#include "storage/cache_backend.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "test_util.h"

namespace ferry {
namespace {

class CountingBackend : public LocalBackend {
 public:
  using LocalBackend::LocalBackend;
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override {
    ++gets;
    return LocalBackend::Get(name, offset, length);
  }
  Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                    const std::function<Status(ByteView)>& sink) override {
    ++gets;
    return LocalBackend::ReadStream(name, offset, length, sink);
  }
  std::atomic<int> gets{0};
};

class CacheBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto remote = std::make_unique<CountingBackend>(dir_.path() + "/remote");
    ASSERT_TRUE(remote->Create().ok());
    remote_ = remote.get();
    cache_ = std::make_unique<CacheBackend>(std::move(remote), dir_.path() + "/cache/repo");
  }
  // An object stored in the remote only (as another machine or an earlier
  // run without the cache left it).
  ObjectName PutRemote(ObjectKind kind, const Bytes& data, bool metadata) {
    ObjectName name{kind, Sha256(data).Hex(), metadata};
    EXPECT_TRUE(remote_->Put(name, data).ok());
    return name;
  }
  std::string CachePath(const ObjectName& name) { return cache_->directory() + "/" + name.Path(); }
  bool InCache(const ObjectName& name) {
    struct stat st;
    return ::stat(CachePath(name).c_str(), &st) == 0;
  }

  TempDir dir_;
  CountingBackend* remote_ = nullptr;
  std::unique_ptr<CacheBackend> cache_;
};

TEST_F(CacheBackendTest, TreePacksAreReadRemotelyOnceThenFromTheCache) {
  Bytes pack = RandomBytes(300000);
  ObjectName name = PutRemote(ObjectKind::kData, pack, /*metadata=*/true);
  for (auto [offset, length] : {std::pair<uint64_t, uint64_t>{1000, 5000}, {0, 10}, {299990, 10}}) {
    auto range = cache_->Get(name, offset, length);
    ASSERT_TRUE(range.ok()) << range.status().ToString();
    EXPECT_EQ(*range, Bytes(pack.begin() + static_cast<ptrdiff_t>(offset),
                            pack.begin() + static_cast<ptrdiff_t>(offset + length)));
  }
  EXPECT_EQ(remote_->gets, 1);
  EXPECT_TRUE(InCache(name));
  EXPECT_FALSE(cache_->Get(name, 299990, 11).ok());  // past the end, as every backend

  // A new process (a new CacheBackend on the same directory) reads it locally.
  auto remote = std::make_unique<CountingBackend>(dir_.path() + "/remote");
  CountingBackend* second_remote = remote.get();
  CacheBackend second(std::move(remote), cache_->directory());
  EXPECT_EQ(*second.Get(name, 7, 70), Bytes(pack.begin() + 7, pack.begin() + 77));
  EXPECT_EQ(second_remote->gets, 0);
  struct stat st;
  EXPECT_EQ(::stat((cache_->directory() + "/CACHEDIR.TAG").c_str(), &st), 0);
}

TEST_F(CacheBackendTest, FileContentsAreNeverCached) {
  Bytes pack = RandomBytes(100000);
  ObjectName name = PutRemote(ObjectKind::kData, pack, /*metadata=*/false);
  EXPECT_EQ(*cache_->Get(name, 0, 100), Bytes(pack.begin(), pack.begin() + 100));
  EXPECT_EQ(*cache_->Get(name, 0, 100), Bytes(pack.begin(), pack.begin() + 100));
  EXPECT_EQ(remote_->gets, 2);
  EXPECT_FALSE(InCache(name));
  Bytes other = RandomBytes(1000);
  ObjectName put{ObjectKind::kData, Sha256(other).Hex()};
  ASSERT_TRUE(cache_->Put(put, other).ok());
  EXPECT_FALSE(InCache(put));
  EXPECT_EQ(*remote_->Stat(put), other.size());
}

TEST_F(CacheBackendTest, PutKeepsMetadataInTheCacheAndTheRemote) {
  Bytes index = RandomBytes(5000);
  ObjectName name{ObjectKind::kIndex, Sha256(index).Hex()};
  ASSERT_TRUE(cache_->Put(name, index).ok());
  EXPECT_EQ(*remote_->Get(name, 0, Backend::kToEnd), index);
  int before = remote_->gets;
  EXPECT_EQ(*cache_->Get(name, 0, Backend::kToEnd), index);
  EXPECT_EQ(remote_->gets, before);
}

TEST_F(CacheBackendTest, DamagedCacheEntryIsFetchedAgain) {
  Bytes snapshot = RandomBytes(4000);
  ObjectName name = PutRemote(ObjectKind::kSnapshot, snapshot, false);
  ASSERT_TRUE(cache_->Get(name, 0, Backend::kToEnd).ok());
  {
    std::fstream file(CachePath(name), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put(static_cast<char>(snapshot[100] ^ 0x01));
  }
  auto remote = std::make_unique<CountingBackend>(dir_.path() + "/remote");
  CountingBackend* second_remote = remote.get();
  CacheBackend second(std::move(remote), cache_->directory());
  EXPECT_EQ(*second.Get(name, 0, Backend::kToEnd), snapshot);
  EXPECT_EQ(second_remote->gets, 1);
  std::ifstream repaired(CachePath(name), std::ios::binary);
  Bytes on_disk((std::istreambuf_iterator<char>(repaired)), std::istreambuf_iterator<char>());
  EXPECT_EQ(on_disk, snapshot);
}

TEST_F(CacheBackendTest, RemoteBytesThatDoNotMatchTheirNameAreRefusedAndNotCached) {
  Bytes real = RandomBytes(3000);
  ObjectName name{ObjectKind::kIndex, Sha256(real).Hex()};
  Bytes damaged = real;
  damaged[5] ^= 0x80;
  ASSERT_TRUE(remote_->Put(name, damaged).ok());
  auto got = cache_->Get(name, 0, Backend::kToEnd);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  EXPECT_NE(got.status().message().find("does not match its name"), std::string::npos);
  EXPECT_FALSE(InCache(name));
}

TEST_F(CacheBackendTest, IndexesGoneFromTheRepositoryLeaveTheCache) {
  Bytes kept = RandomBytes(100), removed = RandomBytes(200);
  ObjectName kept_name{ObjectKind::kIndex, Sha256(kept).Hex()};
  ObjectName removed_name{ObjectKind::kIndex, Sha256(removed).Hex()};
  ASSERT_TRUE(cache_->Put(kept_name, kept).ok());
  ASSERT_TRUE(cache_->Put(removed_name, removed).ok());
  ASSERT_TRUE(remote_->Remove(removed_name).ok());  // e.g. by another machine's prune
  std::vector<std::string> listed;
  ASSERT_TRUE(cache_
                  ->List(ObjectKind::kIndex,
                         [&](const std::string& name, uint64_t) {
                           listed.push_back(name);
                           return Status::Ok();
                         })
                  .ok());
  EXPECT_EQ(listed, std::vector<std::string>{kept_name.name});
  EXPECT_TRUE(InCache(kept_name));
  EXPECT_FALSE(InCache(removed_name));
}

TEST_F(CacheBackendTest, UnusableCacheDirectoryLeavesEverythingRemote) {
  std::string blocker = dir_.path() + "/file";
  std::ofstream(blocker) << "not a directory";
  auto remote = std::make_unique<CountingBackend>(dir_.path() + "/remote");
  CountingBackend* counting = remote.get();
  CacheBackend cache(std::move(remote), blocker + "/cache");
  Bytes tree_pack = RandomBytes(1000);
  ObjectName name{ObjectKind::kData, Sha256(tree_pack).Hex(), true};
  ASSERT_TRUE(cache.Put(name, tree_pack).ok());
  EXPECT_EQ(*cache.Get(name, 0, 10), Bytes(tree_pack.begin(), tree_pack.begin() + 10));
  EXPECT_EQ(*cache.Get(name, 0, 10), Bytes(tree_pack.begin(), tree_pack.begin() + 10));
  EXPECT_EQ(counting->gets, 2);
}

}  // namespace
}  // namespace ferry
