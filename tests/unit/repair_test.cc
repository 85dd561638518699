// ferry repair: the index rebuilt from pack headers, damaged packs salvaged,
// snapshots rewritten without what is gone — and after each, check is clean
// and nothing that was readable is lost.
#include "repo/repair.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "format/index_file.h"
#include "repo/checker.h"
#include "repository_fixture.h"

namespace ferry {
namespace {

const RepairProgress kQuiet = [](const std::string&) {};

class RepairTest : public RepositoryFixture {
 protected:
  Id SaveData(Repository& repository, const std::string& text) {
    Bytes bytes(text.begin(), text.end());
    Id id = repository.BlobId(bytes);
    EXPECT_TRUE(repository.SaveBlob(BlobType::kData, id, bytes).ok());
    return id;
  }
  Node File(const std::string& name, std::vector<Id> content, uint64_t size) {
    Node node;
    node.name = name;
    node.type = NodeType::kFile;
    node.content = std::move(content);
    node.size = size;
    return node;
  }
  Node Directory(const std::string& name, const Id& subtree) {
    Node node;
    node.name = name;
    node.type = NodeType::kDirectory;
    node.subtree = subtree;
    return node;
  }
  Id Snapshot(Repository& repository, const Tree& root, int64_t time) {
    auto tree = repository.SaveTree(root);
    EXPECT_TRUE(tree.ok());
    EXPECT_TRUE(repository.Flush().ok());
    ferry::Snapshot snapshot;
    snapshot.time_ns = time;
    snapshot.tree = *tree;
    snapshot.tags = {"daily"};
    auto id = repository.SaveSnapshot(snapshot);
    EXPECT_TRUE(id.ok());
    return *id;
  }
  // A snapshot of one file whose one blob is "alpha"; returns the blob.
  Id OneFileSnapshot(Repository& repository) {
    Id a = SaveData(repository, "alpha");
    Tree root;
    root.nodes = {File("f", {a}, 5)};
    Snapshot(repository, root, 1);
    return a;
  }
  CheckReport Check(bool read_data = true) {
    auto repository = Open();
    CheckOptions options;
    options.read_data = read_data;
    auto report = CheckRepository(*repository, options, kQuiet);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : CheckReport{};
  }
  std::string Errors(const CheckReport& report) {
    std::string all;
    for (const std::string& error : report.errors) all += error + "\n";
    return all;
  }
};

TEST_F(RepairTest, IndexIsRebuiltFromPackHeadersAndDamagedIndexesAreRemoved) {
  auto repository = Init();
  Id a = SaveData(*repository, "alpha");
  Id b = SaveData(*repository, "beta");
  Tree root;
  root.nodes = {File("f", {a, b}, 9)};
  Snapshot(*repository, root, 1);
  // Every index object gone but one planted junk "index".
  for (const Id& index : Names(ObjectKind::kIndex))
    ASSERT_TRUE(LocalBackend(Location()).Remove({ObjectKind::kIndex, index.Hex()}).ok());
  Id junk = Plant(ObjectKind::kIndex, RandomBytes(300));
  EXPECT_FALSE(Check().ok());

  RepairIndexOptions dry;
  dry.dry_run = true;
  auto preview = RepairIndex(*Open(), dry, kQuiet);
  ASSERT_TRUE(preview.ok()) << preview.status().ToString();
  EXPECT_EQ(preview->packs_added, 2u);  // the data pack and the tree pack
  EXPECT_EQ(Names(ObjectKind::kIndex), std::vector<Id>{junk}) << "a dry run changed the index";

  auto report = RepairIndex(*Open(), {}, kQuiet);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->packs_indexed, 2u);
  EXPECT_EQ(report->headers_read, 2u);
  EXPECT_EQ(report->removed_indexes, std::vector<Id>{junk});
  EXPECT_EQ(Names(ObjectKind::kIndex), report->new_indexes);
  CheckReport after = Check();
  EXPECT_TRUE(after.ok()) << Errors(after);
  auto reopened = Open(true);
  EXPECT_TRUE(reopened->damaged().empty());
  auto content = reopened->LoadBlob(BlobType::kData, b);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(std::string(content->begin(), content->end()), "beta");
}

TEST_F(RepairTest, IndexKeepsMissingPacksUnlessTold) {
  auto repository = Init();
  Id a = OneFileSnapshot(*repository);
  Id pack = repository->FindBlob(BlobType::kData, a)->pack_id;
  // Like an offline seed's pack that is still on its disks.
  ASSERT_TRUE(LocalBackend(Location()).Remove({ObjectKind::kData, pack.Hex()}).ok());
  CheckReport missing = Check(false);
  ASSERT_FALSE(missing.repairs.empty());
  EXPECT_EQ(missing.repairs.front(), "ferry repair index --forget-missing");

  auto kept = RepairIndex(*Open(), {}, kQuiet);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->missing_packs, std::vector<Id>{pack});
  EXPECT_FALSE(kept->missing_forgotten);
  EXPECT_TRUE(Open(true)->index().ContainsPack(pack));

  RepairIndexOptions forget;
  forget.forget_missing = true;
  auto dropped = RepairIndex(*Open(), forget, kQuiet);
  ASSERT_TRUE(dropped.ok());
  EXPECT_TRUE(dropped->missing_forgotten);
  EXPECT_FALSE(Open(true)->index().ContainsPack(pack));
}

TEST_F(RepairTest, ReadAllPacksCorrectsAnIndexThatDisagreesWithTheHeader) {
  auto repository = Init();
  Id a = OneFileSnapshot(*repository);
  // Replace the index by one whose entry for `a` has the wrong length.
  auto indexes = Names(ObjectKind::kIndex);
  std::vector<IndexedPack> packs;
  for (const Id& index : indexes) {
    auto plain = repository->LoadSealed(ObjectKind::kIndex, index);
    ASSERT_TRUE(plain.ok());
    auto parsed = ParseIndex(*plain);
    ASSERT_TRUE(parsed.ok());
    packs.insert(packs.end(), parsed->begin(), parsed->end());
    ASSERT_TRUE(LocalBackend(Location()).Remove({ObjectKind::kIndex, index.Hex()}).ok());
  }
  for (IndexedPack& pack : packs)
    for (PackEntry& entry : pack.blobs)
      if (entry.id == a) entry.stored_length += 1;
  ASSERT_TRUE(repository->SaveSealed(ObjectKind::kIndex, EncodeIndex(packs)).ok());
  EXPECT_FALSE(Check(false).ok());

  RepairIndexOptions options;
  options.read_all_packs = true;
  ASSERT_TRUE(RepairIndex(*Open(), options, kQuiet).ok());
  CheckReport after = Check();
  EXPECT_TRUE(after.ok()) << Errors(after);
}

TEST_F(RepairTest, PacksAreSalvagedBlobByBlob) {
  auto repository = Init();
  Id good = SaveData(*repository, "the good blob");
  Id bad = SaveData(*repository, "the blob that a disk damages");
  Tree root;
  root.nodes = {File("bad", {bad}, 28), File("good", {good}, 13)};
  Id snapshot = Snapshot(*repository, root, 1);
  auto location = repository->FindBlob(BlobType::kData, bad);
  ASSERT_TRUE(location);
  Id pack = location->pack_id;
  FlipInPlace(ObjectKind::kData, pack, location->entry.offset + 3);
  CheckReport damaged = Check();
  ASSERT_FALSE(damaged.ok());
  ASSERT_FALSE(damaged.repairs.empty());
  EXPECT_EQ(damaged.repairs.front(), "ferry repair packs " + pack.Hex());

  auto dry = RepairPacks(*Open(), {pack}, /*dry_run=*/true, kQuiet);
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(PathOf(ObjectKind::kData, pack)));

  auto report = RepairPacks(*Open(), {pack}, /*dry_run=*/false, kQuiet);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->packs.size(), 1u);
  EXPECT_EQ(report->packs[0].blobs_salvaged, 1u);
  EXPECT_EQ(report->packs[0].blobs_lost, 1u);
  ASSERT_EQ(report->packs[0].lost.size(), 1u);
  EXPECT_NE(report->packs[0].lost[0].find("data blob " + bad.Hex()), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(PathOf(ObjectKind::kData, pack)));
  auto reopened = Open(true);
  auto content = reopened->LoadBlob(BlobType::kData, good);
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  EXPECT_EQ(std::string(content->begin(), content->end()), "the good blob");
  EXPECT_FALSE(reopened->FindBlob(BlobType::kData, bad));

  // What is left is a snapshot that references the lost blob: check names
  // it, and repair snapshots truncates that file.
  CheckReport before_snapshots = Check();
  EXPECT_NE(Errors(before_snapshots).find("file /bad: data blob " + bad.Hex() + " is missing"),
            std::string::npos)
      << Errors(before_snapshots);
  RepairSnapshotsOptions forget;
  forget.forget = true;
  auto rewritten = RepairSnapshots(*Open(true), forget, kQuiet);
  ASSERT_TRUE(rewritten.ok());
  ASSERT_EQ(rewritten->rewritten.size(), 1u);
  EXPECT_EQ(rewritten->rewritten[0].original, snapshot);
  CheckReport after = Check();
  EXPECT_TRUE(after.ok()) << Errors(after);
}

TEST_F(RepairTest, PacksRefuseWhileAnIndexIsDamaged) {
  auto repository = Init();
  Id a = OneFileSnapshot(*repository);
  Id pack = repository->FindBlob(BlobType::kData, a)->pack_id;
  Id junk = Plant(ObjectKind::kIndex, RandomBytes(200));
  auto report = RepairPacks(*Open(), {pack}, false, kQuiet);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("index " + junk.Hex()), std::string::npos);
  EXPECT_NE(report.status().message().find("ferry repair index"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(PathOf(ObjectKind::kData, pack)));
}

TEST_F(RepairTest, SnapshotsAreRewrittenWithoutWhatIsGone) {
  auto repository = Init();
  Id first = SaveData(*repository, "0123456789");  // 10 bytes
  Id missing = repository->BlobId(Bytes{'l', 'o', 's', 't'});
  Id last = SaveData(*repository, "tail");
  Tree inner;
  inner.nodes = {File("kept", {first, last}, 14)};
  auto inner_id = repository->SaveTree(inner);
  ASSERT_TRUE(inner_id.ok());
  Id missing_tree = repository->BlobId(Bytes{'n', 'o'});
  Tree root;
  root.nodes = {Directory("gone", missing_tree), Directory("ok", *inner_id),
                File("partial", {first, missing, last}, 18)};
  Id damaged_snapshot = Snapshot(*repository, root, 1);
  Tree intact;
  intact.nodes = {Directory("ok", *inner_id)};
  Id intact_snapshot = Snapshot(*repository, intact, 2);
  Id junk = Plant(ObjectKind::kSnapshot, RandomBytes(300));

  RepairSnapshotsOptions dry;
  dry.dry_run = true;
  auto preview = RepairSnapshots(*Open(true), dry, kQuiet);
  ASSERT_TRUE(preview.ok()) << preview.status().ToString();
  EXPECT_EQ(preview->rewritten.size(), 1u);
  EXPECT_EQ(Names(ObjectKind::kSnapshot).size(), 3u) << "a dry run changed the snapshots";

  auto report = RepairSnapshots(*Open(true), {}, kQuiet);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->snapshots_intact, 1u);
  ASSERT_EQ(report->removed_damaged.size(), 1u);
  EXPECT_EQ(report->removed_damaged[0].id, junk);
  ASSERT_EQ(report->rewritten.size(), 1u);
  const RewrittenSnapshot& rewritten = report->rewritten[0];
  EXPECT_EQ(rewritten.original, damaged_snapshot);
  EXPECT_FALSE(rewritten.original_removed);
  ASSERT_EQ(rewritten.changes.size(), 2u);
  EXPECT_EQ(rewritten.changes[0].rfind("/gone: directory listing (tree " + missing_tree.Hex(), 0),
            0u)
      << rewritten.changes[0];
  EXPECT_EQ(rewritten.changes[1],
            "/partial: truncated to 10 of 18 bytes (data blob " + missing.Hex() + " is missing)");

  auto reopened = Open(true);
  auto snapshot = reopened->LoadSnapshot(rewritten.repaired);
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot->time_ns, 1);
  EXPECT_EQ(snapshot->tags, (std::vector<std::string>{"daily", "repaired"}));
  auto tree = reopened->LoadTree(snapshot->tree);
  ASSERT_TRUE(tree.ok());
  ASSERT_EQ(tree->nodes.size(), 3u);
  auto gone = reopened->LoadTree(tree->nodes[0].subtree);
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->nodes.empty());
  EXPECT_EQ(tree->nodes[1].subtree, *inner_id) << "an intact directory was rewritten";
  EXPECT_EQ(tree->nodes[2].content, std::vector<Id>{first});
  EXPECT_EQ(tree->nodes[2].size, 10u);
  // Without --forget the original stays (and check still names it); the
  // intact snapshot is untouched either way.
  EXPECT_TRUE(std::filesystem::exists(PathOf(ObjectKind::kSnapshot, damaged_snapshot)));
  EXPECT_TRUE(std::filesystem::exists(PathOf(ObjectKind::kSnapshot, intact_snapshot)));
  EXPECT_FALSE(std::filesystem::exists(PathOf(ObjectKind::kSnapshot, junk)));

  RepairSnapshotsOptions forget;
  forget.forget = true;
  auto second = RepairSnapshots(*Open(true), forget, kQuiet);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(std::filesystem::exists(PathOf(ObjectKind::kSnapshot, damaged_snapshot)));
  CheckReport after = Check();
  EXPECT_TRUE(after.ok()) << Errors(after);
}

TEST_F(RepairTest, TreesNestedBeyondTheLimitAreCutOff) {
  auto repository = Init();
  Tree leaf;
  auto child = repository->SaveTree(leaf);
  ASSERT_TRUE(child.ok());
  for (size_t depth = 0; depth < kMaxTreeDepth + 5; ++depth) {
    Tree tree;
    tree.nodes = {Directory("d", *child)};
    child = repository->SaveTree(tree);
    ASSERT_TRUE(child.ok());
  }
  ASSERT_TRUE(repository->Flush().ok());
  ferry::Snapshot snapshot;
  snapshot.tree = *child;
  ASSERT_TRUE(repository->SaveSnapshot(snapshot).ok());
  RepairSnapshotsOptions forget;
  forget.forget = true;
  auto report = RepairSnapshots(*Open(true), forget, kQuiet);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->rewritten.size(), 1u);
  ASSERT_EQ(report->rewritten[0].changes.size(), 1u);
  EXPECT_NE(report->rewritten[0].changes[0].find("nested deeper than 2048 levels"),
            std::string::npos);
  CheckReport after = Check(false);
  EXPECT_TRUE(after.ok()) << Errors(after);
}

}  // namespace
}  // namespace ferry
