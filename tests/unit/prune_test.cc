// ferry prune: what no snapshot uses goes, what is used stays readable, an
// offline seed's packs are never touched, prune refuses when it cannot know
// what is used, and a prune stopped at any step leaves a repository that
// checks clean and that the next prune finishes.
#include "repo/prune.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "crashing_backend.h"
#include "crypto/random.h"
#include "repo/checker.h"
#include "repo/pack_rewriter.h"
#include "repository_fixture.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

const PruneProgress kQuiet = [](const std::string&) {};

class PruneTest : public RepositoryFixture {
 protected:
  // A snapshot of one file per blob in `blobs`; each snapshot flushes, so its
  // new blobs get packs of their own.
  Id Snapshot(Repository& repository, const std::vector<Bytes>& blobs, int64_t time) {
    Tree root;
    for (size_t i = 0; i < blobs.size(); ++i) {
      Id id = repository.BlobId(blobs[i]);
      EXPECT_TRUE(repository.SaveBlob(BlobType::kData, id, blobs[i]).ok());
      Node node;
      node.name = "f" + std::to_string(i);
      node.type = NodeType::kFile;
      node.content = {id};
      node.size = blobs[i].size();
      root.nodes.push_back(node);
    }
    auto tree = repository.SaveTree(root);
    EXPECT_TRUE(tree.ok());
    EXPECT_TRUE(repository.Flush().ok());
    ferry::Snapshot snapshot;
    snapshot.time_ns = time;
    snapshot.tree = *tree;
    auto id = repository.SaveSnapshot(snapshot);
    EXPECT_TRUE(id.ok());
    return *id;
  }
  void Forget(const Id& snapshot) {
    ASSERT_TRUE(LocalBackend(Location()).Remove({ObjectKind::kSnapshot, snapshot.Hex()}).ok());
  }
  Result<PruneReport> RunPrune(PruneOptions options = {}) {
    auto repository = Open();
    if (!repository) return Status::Internal("cannot open");
    return Prune(*repository, options, kQuiet);
  }
  // check --read-data finds nothing wrong, and every blob of `blobs` loads.
  void ExpectIntact(const std::vector<Bytes>& blobs) {
    auto repository = Open(/*load_index=*/true);
    ASSERT_NE(repository, nullptr);
    CheckOptions options;
    options.read_data = true;
    auto report = CheckRepository(*repository, options, kQuiet);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    std::string errors;
    for (const std::string& error : report->errors) errors += error + "\n";
    EXPECT_TRUE(report->errors.empty()) << errors;
    for (const Bytes& blob : blobs) {
      auto loaded = repository->LoadBlob(BlobType::kData, repository->BlobId(blob));
      ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
      EXPECT_EQ(*loaded, blob);
    }
  }
  uint64_t DataBytes() const {
    uint64_t total = 0;
    for (auto& entry : fs::recursive_directory_iterator(Location() + "/data"))
      if (entry.is_regular_file()) total += entry.file_size();
    return total;
  }
};

TEST_F(PruneTest, ForgottenDataGoesTheRestStaysAndASecondPruneDoesNothing) {
  auto repository = Init();
  Bytes shared = RandomBytes(200000);
  std::vector<Bytes> unique;
  std::vector<Id> snapshots;
  for (int i = 0; i < 4; ++i) {
    unique.push_back(RandomBytes(300000));
    snapshots.push_back(Snapshot(*repository, {shared, unique.back()}, i + 1));
  }
  repository.reset();
  Forget(snapshots[1]);
  Forget(snapshots[2]);
  uint64_t before = DataBytes();

  auto report = RunPrune();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->snapshots, 2u);
  // Snapshots 2 and 3 each had a data pack (their unique blob) and a tree
  // pack of their own; nothing else uses them.
  EXPECT_EQ(report->packs_removed, 4u);
  EXPECT_EQ(report->packs_repacked, 0u);
  EXPECT_EQ(report->packs_debris, 0u);
  EXPECT_EQ(report->removed_indexes.size(), 4u);
  EXPECT_EQ(report->new_indexes.size(), 1u);
  uint64_t after = DataBytes();
  EXPECT_EQ(before - after, report->bytes_freed());
  EXPECT_GE(before - after, 600000u);  // the two unique blobs, incompressible
  ExpectIntact({shared, unique[0], unique[3]});
  auto reopened = Open(true);
  EXPECT_FALSE(reopened->index().Contains(BlobType::kData, reopened->BlobId(unique[1])));

  auto again = RunPrune();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->nothing_to_do());
  EXPECT_TRUE(again->new_indexes.empty());
  EXPECT_EQ(DataBytes(), after);
}

TEST_F(PruneTest, AMostlyUnusedPackIsRepackedUnlessUnusedSpaceIsAllowed) {
  auto repository = Init();
  std::vector<Bytes> blobs;
  for (int i = 0; i < 10; ++i) blobs.push_back(RandomBytes(100000));
  Id first = Snapshot(*repository, blobs, 1);
  Snapshot(*repository, {blobs[3]}, 2);  // only one blob of the big pack stays in use
  repository.reset();
  Forget(first);

  PruneOptions unlimited;
  unlimited.max_unused_percent = 100;
  auto kept = RunPrune(unlimited);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->packs_repacked, 0u);
  EXPECT_GE(kept->bytes_unused_after, 900000u);

  PruneOptions dry;
  dry.dry_run = true;
  uint64_t before = DataBytes();
  auto would = RunPrune(dry);
  ASSERT_TRUE(would.ok());
  EXPECT_EQ(would->packs_repacked, 1u);
  EXPECT_EQ(DataBytes(), before) << "a dry run changed the repository";

  auto report = RunPrune();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->packs_repacked, 1u);
  EXPECT_EQ(report->packs_written, 1u);
  EXPECT_EQ(report->bytes_unused_after, 0u);
  EXPECT_LT(DataBytes(), before - 800000);
  ExpectIntact({blobs[3]});
}

// Compressible: a random run repeated, so zstd stores it in a fraction of its size.
Bytes Compressible() {
  Bytes run = RandomBytes(500);
  Bytes blob;
  for (int i = 0; i < 100; ++i) blob.insert(blob.end(), run.begin(), run.end());
  return blob;
}

// Several packs repacked at once (read ahead on other threads): the kept
// blobs move as they were stored (compressed, not compressed again), each
// verified, and read back byte for byte.
TEST_F(PruneTest, RepackedBlobsMoveCompressedAndVerified) {
  auto repository = Init();
  std::vector<Bytes> kept;
  std::vector<Id> forget;
  for (int pack = 0; pack < 5; ++pack) {
    std::vector<Bytes> blobs;
    for (int i = 0; i < 6; ++i) blobs.push_back(Compressible());
    kept.push_back(blobs[2]);
    forget.push_back(Snapshot(*repository, blobs, pack + 1));
  }
  Snapshot(*repository, kept, 10);
  repository.reset();
  for (const Id& id : forget) Forget(id);
  std::map<Id, PackEntry> before;
  {
    auto opened = Open(true);
    for (const Bytes& blob : kept)
      before[opened->BlobId(blob)] = opened->FindBlob(BlobType::kData, opened->BlobId(blob))->entry;
  }

  auto report = RunPrune();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->packs_repacked, 5u);
  EXPECT_EQ(report->packs_written, 1u);
  ExpectIntact(kept);
  auto opened = Open(true);
  for (const auto& [id, old] : before) {
    auto moved = opened->FindBlob(BlobType::kData, id);
    ASSERT_TRUE(moved.has_value());
    EXPECT_NE(old.compression, Compression::kNone) << "the blob was not compressed to begin with";
    EXPECT_EQ(moved->entry.compression, old.compression);
    EXPECT_EQ(moved->entry.raw_length, old.raw_length);
    EXPECT_EQ(moved->entry.stored_length, old.stored_length);
  }
}

// A kept blob that does not verify stops prune before anything is removed.
TEST_F(PruneTest, ADamagedBlobInAPackBeingRepackedStopsPrune) {
  auto repository = Init();
  std::vector<Bytes> blobs;
  for (int i = 0; i < 8; ++i) blobs.push_back(Compressible());
  Id first = Snapshot(*repository, blobs, 1);
  Snapshot(*repository, {blobs[5]}, 2);
  repository.reset();
  Forget(first);
  PackEntry entry;
  Id pack;
  {
    auto opened = Open(true);
    auto location = opened->FindBlob(BlobType::kData, opened->BlobId(blobs[5]));
    entry = location->entry;
    pack = location->pack_id;
  }
  FlipInPlace(ObjectKind::kData, pack, entry.offset + entry.stored_length / 2);
  std::vector<Id> packs_before = Names(ObjectKind::kData);
  std::vector<Id> indexes_before = Names(ObjectKind::kIndex);

  auto refused = RunPrune();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(entry.id.Hex()), std::string::npos)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("repair packs"), std::string::npos);
  EXPECT_EQ(Names(ObjectKind::kData), packs_before) << "a refused prune changed the packs";
  EXPECT_EQ(Names(ObjectKind::kIndex), indexes_before) << "a refused prune changed the index";
}

TEST_F(PruneTest, RepackingIsBoundedByMaxRepackBytes) {
  auto repository = Init();
  std::vector<Bytes> blobs;
  for (int i = 0; i < 4; ++i) blobs.push_back(RandomBytes(100000));
  Id first = Snapshot(*repository, blobs, 1);
  Snapshot(*repository, {blobs[0], blobs[1]}, 2);
  repository.reset();
  Forget(first);
  PruneOptions options;
  options.max_repack_bytes = 1000;  // less than the used blobs of the pack
  auto report = RunPrune(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->packs_repacked, 0u);
  ExpectIntact({blobs[0], blobs[1]});
}

TEST_F(PruneTest, PacksNoIndexListsAndTempFilesAreRemoved) {
  auto repository = Init();
  Bytes kept = RandomBytes(1000);
  Snapshot(*repository, {kept}, 1);
  repository.reset();
  // What a backup killed before its index leaves: a pack under its right name, a temp file.
  Id debris = Plant(ObjectKind::kData, RandomBytes(50000));
  std::string temp = Location() + "/data/00/.tmp-killed-backup";
  fs::create_directories(Location() + "/data/00");
  ASSERT_TRUE(WriteFileAtomic(temp + ".x", RandomBytes(10), 0600).ok());
  fs::rename(temp + ".x", temp);
  auto report = RunPrune();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->packs_debris, 1u);
  EXPECT_EQ(report->bytes_debris, 50000u);
  EXPECT_TRUE(report->new_indexes.empty()) << "the index did not change";
  EXPECT_FALSE(fs::exists(PathOf(ObjectKind::kData, debris)));
  ExpectIntact({kept});
}

// An offline seed's packs are listed by the index but not held until the
// vault adopts them: prune keeps their entries and touches nothing of theirs.
TEST_F(PruneTest, AnOfflineSeedsPacksAreKept) {
  auto repository = Init();
  Bytes travelling = RandomBytes(100000);
  Snapshot(*repository, {travelling}, 1);
  Id old = Snapshot(*repository, {RandomBytes(100000)}, 2);
  repository.reset();
  auto opened = Open(true);
  Id pack = opened->FindBlob(BlobType::kData, opened->BlobId(travelling))->pack_id;
  opened.reset();
  std::string on_disk = PathOf(ObjectKind::kData, pack);
  fs::rename(on_disk, dir_.path() + "/on-a-disk");  // the pack travels on a disk
  Forget(old);

  auto report = RunPrune();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->packs_awaiting_seed, 1u);
  EXPECT_EQ(report->packs_removed, 2u);  // the forgotten snapshot's data and tree packs
  auto reopened = Open(true);
  EXPECT_TRUE(reopened->index().ContainsPack(pack)) << "the seed's pack lost its index entry";
  fs::rename(dir_.path() + "/on-a-disk", on_disk);  // the seed arrives
  ExpectIntact({travelling});
}

TEST_F(PruneTest, RefusesWhenItCannotKnowWhatIsUsed) {
  auto repository = Init();
  Bytes blob = RandomBytes(1000);
  Id kept = Snapshot(*repository, {blob}, 1);
  Id forgotten = Snapshot(*repository, {RandomBytes(1000)}, 2);
  repository.reset();
  Forget(forgotten);
  std::vector<Id> packs_before = Names(ObjectKind::kData);

  Id junk_snapshot = Plant(ObjectKind::kSnapshot, RandomBytes(300));
  auto refused = RunPrune();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(junk_snapshot.Hex()), std::string::npos)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("repair snapshots"), std::string::npos);
  ASSERT_TRUE(LocalBackend(Location()).Remove({ObjectKind::kSnapshot, junk_snapshot.Hex()}).ok());

  Id junk_index = Plant(ObjectKind::kIndex, RandomBytes(300));
  refused = RunPrune();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("repair index"), std::string::npos)
      << refused.status().ToString();
  ASSERT_TRUE(LocalBackend(Location()).Remove({ObjectKind::kIndex, junk_index.Hex()}).ok());
  EXPECT_EQ(Names(ObjectKind::kData).size(), packs_before.size()) << "a refused prune removed";

  // A tree that cannot be loaded: its blobs cannot be told from unused ones.
  auto opened = Open(true);
  auto snapshot = opened->LoadSnapshot(kept);
  ASSERT_TRUE(snapshot.ok());
  Id tree_pack = opened->FindBlob(BlobType::kTree, snapshot->tree)->pack_id;
  opened.reset();
  FlipInPlace(ObjectKind::kData, tree_pack, 40);  // inside the tree blob, after the salt
  refused = RunPrune();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("cannot be read"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(Names(ObjectKind::kData).size(), packs_before.size()) << "a refused prune removed";
}

// A prune stopped at each of its writes in turn (new packs, new index, old
// index removed, packs removed) leaves a repository that checks clean with
// every kept blob readable, and the next prune finishes the job.
TEST_F(PruneTest, APruneStoppedAtAnyStepLeavesAValidRepositoryAndTheNextFinishes) {
  auto repository = Init();
  std::vector<Bytes> kept, gone;
  std::vector<Id> forget;
  std::vector<Bytes> big;
  for (int i = 0; i < 6; ++i) big.push_back(RandomBytes(60000));
  Id first = Snapshot(*repository, big, 1);
  Snapshot(*repository, {big[2]}, 2);
  kept.push_back(big[2]);
  for (int i = 0; i < 3; ++i) {
    Bytes mine = RandomBytes(70000);
    Id id = Snapshot(*repository, {mine}, 10 + i);
    (i % 2 ? gone : kept).push_back(mine);
    if (i % 2) forget.push_back(id);
  }
  repository.reset();
  Forget(first);
  for (const Id& id : forget) Forget(id);
  {
    // Debris: a pack a killed backup stored, listed by no index.
    auto opened = Open();
    PackRewriter orphan(*opened, /*dry_run=*/false);
    Bytes lost = RandomBytes(5000);
    ASSERT_TRUE(orphan.Add(BlobType::kData, opened->BlobId(lost), lost).ok());
    ASSERT_TRUE(orphan.Finish().ok());
  }
  std::string pristine = dir_.path() + "/pristine";
  fs::copy(Location(), pristine, fs::copy_options::recursive);

  // How many writes a whole prune makes.
  auto full = RunPrune();
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  ASSERT_GT(full->packs_repacked, 0u);
  ASSERT_GT(full->packs_removed, 0u);
  size_t writes = full->packs_written + full->new_indexes.size() + full->removed_indexes.size() +
                  full->packs_removed + full->packs_repacked + full->packs_debris;
  uint64_t pruned_size = DataBytes();

  for (size_t crash_after = 0; crash_after < writes; ++crash_after) {
    SCOPED_TRACE("crash after " + std::to_string(crash_after) + " of " + std::to_string(writes) +
                 " writes");
    fs::remove_all(Location());
    fs::copy(pristine, Location(), fs::copy_options::recursive);
    {
      auto crashing = std::make_unique<CrashingBackend>(std::make_unique<LocalBackend>(Location()),
                                                        static_cast<int>(crash_after));
      CrashingBackend* backend = crashing.get();
      auto opened = Repository::Open(std::move(crashing), "pw");
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      auto report = Prune(**opened, {}, kQuiet);
      EXPECT_FALSE(report.ok());
      EXPECT_TRUE(backend->crashed());
    }
    ExpectIntact(kept);
    auto next = RunPrune();
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    ExpectIntact(kept);
    auto last = RunPrune();
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    EXPECT_TRUE(last->nothing_to_do());
    EXPECT_EQ(DataBytes(), pruned_size);
  }
}

}  // namespace
}  // namespace ferry
