#include "repo/repository.h"

#include <gtest/gtest.h>

#include <thread>

#include "crypto/random.h"
#include "repo/checker.h"
#include "repo/lock.h"
#include "storage/local_backend.h"
#include "test_util.h"

namespace ferry {
namespace {

const Argon2Params kFastKdf{1, 8 << 20};

class RepositoryTest : public ::testing::Test {
 protected:
  std::string Location() { return dir_.path() + "/repo"; }
  std::unique_ptr<Repository> InitRepository() {
    auto repository = Repository::Init(std::make_unique<LocalBackend>(Location()), "pw", kFastKdf);
    EXPECT_TRUE(repository.ok()) << repository.status().ToString();
    return std::move(*repository);
  }
  Result<std::unique_ptr<Repository>> OpenRepository(const std::string& password) {
    return Repository::Open(std::make_unique<LocalBackend>(Location()), password);
  }

  TempDir dir_;
};

TEST_F(RepositoryTest, OpenNeedsTheRightPassword) {
  InitRepository();
  EXPECT_TRUE(OpenRepository("pw").ok());
  EXPECT_EQ(OpenRepository("nope").status().code(), StatusCode::kWrongPassword);
}

TEST_F(RepositoryTest, OpenMissingRepositoryIsNoRepository) {
  auto result = OpenRepository("pw");
  EXPECT_EQ(result.status().code(), StatusCode::kNoRepository);
  EXPECT_NE(result.status().message().find("ferry init"), std::string::npos);
}

TEST_F(RepositoryTest, BlobsSurviveFlushAndReopen) {
  std::vector<std::pair<Id, Bytes>> blobs;
  {
    auto repository = InitRepository();
    std::vector<std::thread> threads;
    std::mutex mutex;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 30; ++i) {
          Bytes data = RandomBytes(200000);
          Id id = repository->BlobId(data);
          auto added = repository->SaveBlob(BlobType::kData, id, data);
          ASSERT_TRUE(added.ok());
          EXPECT_TRUE(*added);
          EXPECT_FALSE(*repository->SaveBlob(BlobType::kData, id, data));  // dedup
          std::lock_guard lock(mutex);
          blobs.emplace_back(id, std::move(data));
        }
      });
    for (auto& thread : threads) thread.join();
    ASSERT_TRUE(repository->Flush().ok());
    EXPECT_GE(repository->packs_written(), 2u);  // 24 MB of blobs in 16 MiB packs
  }
  auto reopened = OpenRepository("pw");
  ASSERT_TRUE(reopened.ok());
  ASSERT_TRUE((*reopened)->LoadIndex().ok());
  EXPECT_EQ((*reopened)->index().blob_count(), blobs.size());
  for (const auto& [id, data] : blobs) {
    auto loaded = (*reopened)->LoadBlob(BlobType::kData, id);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(*loaded, data);
  }
  auto report = CheckRepository(**reopened, {true, 2}, [](const std::string&) {});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->blobs_checked, blobs.size());
}

TEST_F(RepositoryTest, TreeAndDataBlobsNeverShareAPack) {
  auto repository = InitRepository();
  for (int i = 0; i < 20; ++i) {
    Bytes data = RandomBytes(1000);
    ASSERT_TRUE(repository->SaveBlob(BlobType::kData, repository->BlobId(data), data).ok());
    Tree tree;
    Node node;
    node.name = "file" + std::to_string(i);
    tree.nodes.push_back(node);
    ASSERT_TRUE(repository->SaveTree(tree).ok());
  }
  ASSERT_TRUE(repository->Flush().ok());
  auto reopened = OpenRepository("pw");
  ASSERT_TRUE(reopened.ok());
  size_t packs = 0;
  ASSERT_TRUE((*reopened)
                  ->backend()
                  .List(ObjectKind::kIndex,
                        [&](const std::string& name, uint64_t) {
                          auto plain =
                              (*reopened)->LoadSealed(ObjectKind::kIndex, *Id::FromHex(name));
                          if (!plain.ok()) return plain.status();
                          auto index = ParseIndex(*plain);
                          if (!index.ok()) return index.status();
                          for (const IndexedPack& pack : *index) {
                            ++packs;
                            for (const PackEntry& blob : pack.blobs)
                              EXPECT_EQ(blob.type, pack.blobs.front().type);
                          }
                          return Status::Ok();
                        })
                  .ok());
  EXPECT_EQ(packs, 2u);
}

// A tree whose bytes equal a file chunk's has the chunk's ID. It used to be
// deduplicated against the chunk and so lived in a data pack, which an offline
// seed ships on disks: a restore then waited for disks it should not need.
TEST_F(RepositoryTest, TreeWithTheBytesOfAChunkIsStoredAsATreeInATreePack) {
  Tree tree;
  Node node;
  node.name = "collides";
  tree.nodes.push_back(node);
  Bytes bytes = EncodeTree(tree);
  Id id;
  {
    auto repository = InitRepository();
    id = repository->BlobId(bytes);
    ASSERT_TRUE(*repository->SaveBlob(BlobType::kData, id, bytes));
    auto tree_id = repository->SaveTree(tree);
    ASSERT_TRUE(tree_id.ok());
    EXPECT_EQ(*tree_id, id);
    EXPECT_FALSE(*repository->SaveBlob(BlobType::kTree, id, bytes));  // dedup within its type
    ASSERT_TRUE(repository->Flush().ok());
  }
  auto reopened = OpenRepository("pw");
  ASSERT_TRUE(reopened.ok());
  ASSERT_TRUE((*reopened)->LoadIndex().ok());
  EXPECT_EQ((*reopened)->index().blob_count(), 2u);
  auto as_data = (*reopened)->index().Find(BlobType::kData, id);
  auto as_tree = (*reopened)->index().Find(BlobType::kTree, id);
  ASSERT_TRUE(as_data.has_value());
  ASSERT_TRUE(as_tree.has_value());
  EXPECT_NE(as_data->pack_id, as_tree->pack_id);
  EXPECT_EQ(as_tree->entry.type, BlobType::kTree);
  EXPECT_EQ(*(*reopened)->LoadBlob(BlobType::kData, id), bytes);
  auto loaded = (*reopened)->LoadTree(id);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->nodes.at(0).name, "collides");
}

// Repositories written before blob identity was (type, ID) hold such a tree
// only as a data blob (or a chunk only as a tree blob): readers accept it.
TEST_F(RepositoryTest, ReadersAcceptABlobStoredUnderTheOtherTypeByOlderWriters) {
  Tree tree;
  Node node;
  node.name = "old";
  tree.nodes.push_back(node);
  Bytes tree_bytes = EncodeTree(tree);
  Bytes chunk = RandomBytes(5000);
  {
    auto repository = InitRepository();
    ASSERT_TRUE(*repository->SaveBlob(BlobType::kData, repository->BlobId(tree_bytes), tree_bytes));
    ASSERT_TRUE(*repository->SaveBlob(BlobType::kTree, repository->BlobId(chunk), chunk));
    ASSERT_TRUE(repository->Flush().ok());
  }
  auto reopened = OpenRepository("pw");
  ASSERT_TRUE(reopened.ok());
  ASSERT_TRUE((*reopened)->LoadIndex().ok());
  auto loaded = (*reopened)->LoadTree((*reopened)->BlobId(tree_bytes));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->nodes.at(0).name, "old");
  EXPECT_EQ(*(*reopened)->LoadBlob(BlobType::kData, (*reopened)->BlobId(chunk)), chunk);
  EXPECT_TRUE((*reopened)
                  ->LoadBlob(BlobType::kData, (*reopened)->BlobId(RandomBytes(8)))
                  .status()
                  .IsNotFound());
}

TEST_F(RepositoryTest, SnapshotsAreFoundByPrefixAndLatest) {
  auto repository = InitRepository();
  Tree empty;
  auto tree = repository->SaveTree(empty);
  ASSERT_TRUE(tree.ok());
  ASSERT_TRUE(repository->Flush().ok());
  Snapshot first;
  first.time_ns = 1000;
  first.tree = *tree;
  Snapshot second = first;
  second.time_ns = 2000;
  auto id1 = repository->SaveSnapshot(first);
  auto id2 = repository->SaveSnapshot(second);
  ASSERT_TRUE(id1.ok() && id2.ok());
  EXPECT_EQ(repository->FindSnapshot("latest")->id, *id2);
  EXPECT_EQ(repository->FindSnapshot(id1->Hex().substr(0, 10))->id, *id1);
  EXPECT_TRUE(repository->FindSnapshot("zzzz").status().IsNotFound());
  EXPECT_EQ(repository->ListSnapshots()->size(), 2u);
}

TEST_F(RepositoryTest, KeysCanBeAddedAndRemoved) {
  auto repository = InitRepository();
  auto second = repository->AddKey("second", kFastKdf);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(repository->ListKeys()->size(), 2u);
  auto opened = OpenRepository("second");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ((*opened)->config().id, repository->config().id);
  // The key in use cannot be removed; another can.
  EXPECT_FALSE((*opened)->RemoveKey(second->Hex()).ok());
  ASSERT_TRUE(repository->RemoveKey(second->Hex().substr(0, 8)).ok());
  EXPECT_EQ(OpenRepository("second").status().code(), StatusCode::kWrongPassword);
  EXPECT_TRUE(OpenRepository("pw").ok());
}

TEST_F(RepositoryTest, SealedObjectNameIsVerified) {
  auto repository = InitRepository();
  auto id = repository->SaveSealed(ObjectKind::kSnapshot, AsBytes("{}"));
  ASSERT_TRUE(id.ok());
  std::string path = Location() + "/snapshots/" + id->Hex();
  FILE* f = std::fopen(path.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  // Flip a bit: writing a fixed byte left the object intact when byte 40 of
  // its random ciphertext happened to be that byte (1 run in 256 failed).
  std::fseek(f, 40, SEEK_SET);
  int byte = std::fgetc(f);
  std::fseek(f, 40, SEEK_SET);
  std::fputc(byte ^ 1, f);
  std::fclose(f);
  auto loaded = repository->LoadSealed(ObjectKind::kSnapshot, *id);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find(id->Hex()), std::string::npos);
}

class FakeClock : public Clock {
 public:
  int64_t NowNanos() const override { return now; }
  int64_t now = 1000000000000;
};

TEST_F(RepositoryTest, ExclusiveLockConflictsAndStaleLocksExpire) {
  auto repository = InitRepository();
  FakeClock clock;
  auto shared = RepositoryLock::Acquire(*repository, false, clock);
  ASSERT_TRUE(shared.ok());
  auto another_shared = RepositoryLock::Acquire(*repository, false, clock);
  EXPECT_TRUE(another_shared.ok());
  auto exclusive = RepositoryLock::Acquire(*repository, true, clock);
  ASSERT_FALSE(exclusive.ok());
  EXPECT_EQ(exclusive.status().code(), StatusCode::kLocked);
  // Half an hour later without a refresh, the locks are stale.
  clock.now += RepositoryLock::kStaleAfterNanos + 1;
  auto later = RepositoryLock::Acquire(*repository, true, clock);
  EXPECT_TRUE(later.ok()) << later.status().ToString();
}

}  // namespace
}  // namespace ferry
