// Readers skip index and snapshot objects they cannot authenticate or parse
// (a machine token may plant them; a disk may flip a bit), record them as
// values, and use everything else; check names each with its repair.
#include <gtest/gtest.h>

#include <set>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "repo/checker.h"
#include "repo/repository.h"
#include "repository_fixture.h"
#include "storage/local_backend.h"
#include "util/file_util.h"

namespace ferry {
namespace {

class DamagedObjectsTest : public RepositoryFixture {
 protected:
  Id SaveSnapshot(Repository& repository, int64_t time) {
    Tree empty;
    auto tree = repository.SaveTree(empty);
    EXPECT_TRUE(tree.ok() && repository.Flush().ok());
    Snapshot snapshot;
    snapshot.time_ns = time;
    snapshot.tree = *tree;
    auto id = repository.SaveSnapshot(snapshot);
    EXPECT_TRUE(id.ok());
    return *id;
  }
};

TEST_F(DamagedObjectsTest, ForgedAndFlippedSnapshotsAreSkippedAndNamed) {
  auto repository = Init();
  Id old_one = SaveSnapshot(*repository, 1000);
  Id good = SaveSnapshot(*repository, 2000);
  Id junk = Plant(ObjectKind::kSnapshot, RandomBytes(300));
  Id copy = PlantFlippedCopy(ObjectKind::kSnapshot, good);
  FlipInPlace(ObjectKind::kSnapshot, old_one);

  auto reopened = Open();
  auto snapshots = reopened->ListSnapshots();
  ASSERT_TRUE(snapshots.ok()) << snapshots.status().ToString();
  ASSERT_EQ(snapshots->size(), 1u);
  EXPECT_EQ(snapshots->front().id, good);
  EXPECT_EQ(reopened->FindSnapshot("latest")->id, good);
  std::vector<DamagedObject> damaged = reopened->damaged();
  ASSERT_EQ(damaged.size(), 3u);
  std::set<Id> ids;
  for (const DamagedObject& object : damaged) {
    EXPECT_EQ(object.kind, ObjectKind::kSnapshot);
    ids.insert(object.id);
    std::string message = DescribeSkipped(object);
    EXPECT_NE(message.find(object.id.Hex()), std::string::npos) << message;
    EXPECT_NE(message.find("ferry repair snapshots"), std::string::npos) << message;
  }
  EXPECT_EQ(ids, (std::set<Id>{old_one, junk, copy}));
  // Listing again records nothing twice.
  ASSERT_TRUE(reopened->ListSnapshots().ok());
  EXPECT_EQ(reopened->damaged().size(), 3u);
}

TEST_F(DamagedObjectsTest, ForgedIndexIsSkippedAndTheOthersAreUsed) {
  Bytes data = RandomBytes(5000);
  Id blob;
  {
    auto repository = Init();
    blob = repository->BlobId(data);
    ASSERT_TRUE(repository->SaveBlob(BlobType::kData, blob, data).ok());
    ASSERT_TRUE(repository->Flush().ok());
  }
  std::vector<Id> real = Names(ObjectKind::kIndex);
  ASSERT_EQ(real.size(), 1u);
  Id junk = Plant(ObjectKind::kIndex, RandomBytes(200));
  Id copy = PlantFlippedCopy(ObjectKind::kIndex, real[0]);

  auto repository = Open();
  ASSERT_TRUE(repository->LoadIndex().ok());
  auto loaded = repository->LoadBlob(BlobType::kData, blob);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, data);
  std::set<Id> ids;
  for (const DamagedObject& object : repository->damaged()) {
    EXPECT_EQ(object.kind, ObjectKind::kIndex);
    EXPECT_NE(DescribeSkipped(object).find("ferry repair index"), std::string::npos);
    ids.insert(object.id);
  }
  EXPECT_EQ(ids, (std::set<Id>{junk, copy}));
}

TEST_F(DamagedObjectsTest, BackupAfterASkippedIndexStoresTheBlobsAgain) {
  Bytes data = RandomBytes(5000);
  Id blob;
  {
    auto repository = Init();
    blob = repository->BlobId(data);
    ASSERT_TRUE(repository->SaveBlob(BlobType::kData, blob, data).ok());
    ASSERT_TRUE(repository->Flush().ok());
  }
  FlipInPlace(ObjectKind::kIndex, Names(ObjectKind::kIndex).at(0));
  {
    auto repository = Open();
    ASSERT_TRUE(repository->LoadIndex().ok());
    EXPECT_EQ(repository->damaged().size(), 1u);
    EXPECT_FALSE(repository->index().Contains(BlobType::kData, blob));
    auto added = repository->SaveBlob(BlobType::kData, blob, data);
    ASSERT_TRUE(added.ok());
    EXPECT_TRUE(*added);  // stored again: its first copy is unknown
    ASSERT_TRUE(repository->Flush().ok());
  }
  auto repository = Open();
  ASSERT_TRUE(repository->LoadIndex().ok());
  auto loaded = repository->LoadBlob(BlobType::kData, blob);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, data);
}

TEST_F(DamagedObjectsTest, CheckNamesEachDamagedObjectAndItsRepair) {
  Id good;
  {
    auto repository = Init();
    good = SaveSnapshot(*repository, 1000);
  }
  Id junk_snapshot = Plant(ObjectKind::kSnapshot, RandomBytes(300));
  Id junk_index = Plant(ObjectKind::kIndex, RandomBytes(300));
  Bytes pack = RandomBytes(4096);
  Id junk_pack = Sha256(pack);
  ASSERT_TRUE(LocalBackend(Location()).Put({ObjectKind::kData, junk_pack.Hex()}, pack).ok());

  auto repository = Open();
  auto report = CheckRepository(*repository, {}, [](const std::string&) {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->snapshots_checked, 1u);
  auto mentions = [&](const Id& id, const std::string& repair) {
    for (const std::string& error : report->errors)
      if (error.find(id.Hex()) != std::string::npos && error.find(repair) != std::string::npos)
        return true;
    return false;
  };
  EXPECT_TRUE(mentions(junk_snapshot, "ferry repair snapshots"));
  EXPECT_TRUE(mentions(junk_index, "ferry repair index"));
  EXPECT_TRUE(mentions(junk_pack, "ferry repair packs " + junk_pack.Hex()));
  EXPECT_EQ(report->errors.size(), 3u);
  EXPECT_EQ(report->repairs,
            (std::vector<std::string>{"ferry repair index", "ferry repair packs " + junk_pack.Hex(),
                                      "ferry repair snapshots --forget"}));
}

}  // namespace
}  // namespace ferry
