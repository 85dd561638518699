// Every parser of outside bytes, fed mutated versions of valid inputs: none
// may crash, hang or read out of bounds (run under FERRY_SANITIZE=ON to catch
// the last). The libFuzzer targets in tests/fuzz explore further.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "crypto/random.h"
#include "format/config.h"
#include "format/disk_manifest.h"
#include "format/index_file.h"
#include "format/key_file.h"
#include "format/pack.h"
#include "format/sealed_object.h"
#include "format/snapshot.h"
#include "format/staging_info.h"
#include "format/tree.h"
#include "fuzz_targets.h"
#include "repo/tree_walker.h"

namespace ferry {
namespace {

void Mutate(std::mt19937_64& rng, Bytes& data) {
  switch (rng() % 5) {
    case 0:
      if (!data.empty()) data[rng() % data.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      break;
    case 1:
      if (!data.empty()) data.resize(rng() % data.size());
      break;
    case 2:
      data.insert(data.begin() + static_cast<long>(data.empty() ? 0 : rng() % data.size()),
                  static_cast<uint8_t>(rng()));
      break;
    case 3:
      if (data.size() >= 4) {
        size_t at = rng() % (data.size() - 3);
        uint32_t value = rng() % 2 ? 0xffffffffu : static_cast<uint32_t>(rng());
        std::memcpy(&data[at], &value, 4);
      }
      break;
    default:
      if (!data.empty()) data[rng() % data.size()] = static_cast<uint8_t>(rng());
  }
}

void Hammer(const Bytes& seed, void (*target)(ByteView), int rounds = 3000) {
  std::mt19937_64 rng(42);
  target(seed);
  for (int i = 0; i < rounds; ++i) {
    Bytes data = seed;
    int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations; ++m) Mutate(rng, data);
    target(data);
  }
  target(Bytes{});
}

TEST(ParserRobustnessTest, PackHeader) {
  const Bytes key(32, 7);  // PackKeys only views it (ASan: a temporary was used after free)
  PackKeys keys{key, Id{}};
  PackBuilder builder(keys);
  for (int i = 0; i < 3; ++i)
    builder.AddBlob(BlobType::kData, Id{}, Compression::kNone, 10, Bytes(10, 1));
  BufferBytes pack = builder.Finish(nullptr, nullptr);
  Hammer(Bytes(pack.begin(), pack.end()), fuzz::PackHeader);
}

TEST(ParserRobustnessTest, IndexObject) {
  IndexedPack pack;
  pack.blobs.push_back({BlobType::kData, Compression::kZstd, 32, 100, 200, Id{}});
  Hammer(EncodeIndex({pack, pack}), fuzz::IndexObject);
}

TEST(ParserRobustnessTest, TreeObject) {
  Tree tree;
  Node node;
  node.name = "a";
  node.content = {Id{}};
  node.xattrs = {{"user.x", Bytes{1}}};
  Node link;
  link.name = "b";
  link.type = NodeType::kSymlink;
  link.link_target = "a";
  tree.nodes = {node, link};
  Hammer(EncodeTree(tree), fuzz::TreeObject);
}

TEST(ParserRobustnessTest, SnapshotConfigAndKeyFile) {
  Snapshot snapshot;
  snapshot.paths = {"/x"};
  snapshot.parent = Id{};
  Hammer(EncodeSnapshot(snapshot), fuzz::SnapshotObject);
  Hammer(EncodeConfig(RepositoryConfig{}), fuzz::ConfigObject);
  auto key = SealMasterKey(Bytes(32, 1), "pw", Argon2Params{1, 8 << 20});
  ASSERT_TRUE(key.ok());
  Hammer(EncodeKeyFile(*key), fuzz::KeyFileObject, 1000);
}

TEST(ParserRobustnessTest, SealedObject) {
  Hammer(SealObject(Bytes(32, 7), Id{}, "index", Bytes(1000, 'x')), fuzz::SealedObject);
}

TEST(ParserRobustnessTest, DiskManifestAndLabel) {
  DiskManifest manifest{"job", "acct", "cont", std::string(64, 'a'), "FD-1", 1, 2, {}};
  manifest.files = {{Id{}, 123}, {Id{}, 456}};
  Hammer(EncodeDiskManifest(manifest), fuzz::DiskManifestJson);
  Hammer(EncodeDiskLabel({"job", "FD-1"}), fuzz::DiskManifestJson, 1000);
}

TEST(ParserRobustnessTest, StagingInfo) {
  Hammer(EncodeStagingInfo({"job", "acct", "cont", "repo", "http://x", "v", "m"}),
         fuzz::StagingInfoJson);
}

Bytes ToBytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

// The vault's and the import service's JSON bodies, and disk labels.
TEST(ParserRobustnessTest, RequestBodiesAndDiskLabel) {
  Hammer(ToBytes(R"({"name": "prod"})"), fuzz::VaultJsonBody);
  Hammer(ToBytes(std::string(R"({"storage_account": "a", "container": "c", "since_ns": 5, )") +
                 R"("staging": "/s", "packs": [{"id": ")" + std::string(64, 'a') +
                 R"(", "size": 3}]})"),
         fuzz::VaultJsonBody);
  Hammer(ToBytes(std::string(R"({"name": "j", "storage_account": "a", "container": "c", )") +
                 R"("public_key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "drives": )" +
                 R"([{"drive_id": "d1", "bytes": 5, "manifest_hash": ")" + std::string(64, 'b') +
                 R"("}, {"drive_id": "d2"}]})"),
         fuzz::ImportJobBody);
  Hammer(ToBytes(R"({"carrier": "UPS", "tracking_number": "1z 999 aa1", "state": "Received",
                     "percent_complete": 50, "missing": ["x"]})"),
         fuzz::ImportJobBody);
  Hammer(EncodeDiskLabel({"seed-nov", "FD-0123456789ab"}), fuzz::DiskLabel);
}

// WalkTrees over trees that nest, share subtrees, loop (possible only here:
// in a repository a tree's ID is the hash of its bytes) and reference trees
// that are not there.
TEST(ParserRobustnessTest, TreeWalk) {
  auto dir = [](const std::string& name, int subtree) {
    Node node;
    node.name = name;
    node.type = NodeType::kDirectory;
    node.subtree.bytes[31] = static_cast<uint8_t>(subtree);
    return node;
  };
  Node file;
  file.name = "f";
  Node missing = dir("m", 0);
  missing.subtree.bytes[0] = 1;
  Bytes input = EncodeTree({{dir("a", 1), dir("b", 1), file}});
  input.push_back(0);
  Bytes second = EncodeTree({{dir("loop", 0), missing}});
  input.insert(input.end(), second.begin(), second.end());
  Hammer(input, fuzz::TreeWalk, 50);  // each walk runs up to its node budget
}

// The loader overload of WalkTrees that the fuzz target uses: a tree that
// contains itself twice is walked down to kMaxTreeDepth and refused there
// (2^2048 paths otherwise), with everything above it visited.
TEST(ParserRobustnessTest, TreeWalkStopsALoopingTreeAtTheDepthLimit) {
  Node dir;
  dir.name = "d";
  dir.type = NodeType::kDirectory;
  Node twin = dir;
  twin.name = "e";
  Tree tree{{dir, twin}};  // both subtrees are Id{}: the tree itself
  size_t nodes = 0, too_deep = 0, deepest = 0;
  TreeWalkCallbacks callbacks;
  callbacks.enter = [&](const std::string&, const Id&, size_t depth) {
    deepest = std::max(deepest, depth);
    return true;
  };
  callbacks.node = [&](const std::string&, const Node&) { return ++nodes < 5000; };
  callbacks.tree_error = [&](const std::string&, const Id&, const Status& status) {
    EXPECT_THAT(status.message(), ::testing::HasSubstr("nested deeper than 2048"));
    ++too_deep;
  };
  Status status = WalkTrees([&](const Id&) -> Result<Tree> { return tree; }, Id{}, callbacks);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(deepest, kMaxTreeDepth + 1);
  EXPECT_GE(too_deep, 1u);
}

}  // namespace
}  // namespace ferry
