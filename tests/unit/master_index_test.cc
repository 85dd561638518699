#include "repo/master_index.h"

#include <gtest/gtest.h>

#include "crypto/random.h"

namespace ferry {
namespace {

TEST(MasterIndexTest, FindsEveryBlobAcrossGrowth) {
  MasterIndex index;
  std::vector<IndexedPack> packs(50);
  for (auto& pack : packs) {
    pack.pack_id = Id::FromBytes(RandomBytes(32));
    for (uint32_t i = 0; i < 100; ++i)
      pack.blobs.push_back({BlobType::kData, Compression::kNone, 32 + i * 10, 10, 10,
                            Id::FromBytes(RandomBytes(32))});
    index.AddPack(pack);
  }
  EXPECT_EQ(index.blob_count(), 5000u);
  EXPECT_EQ(index.pack_count(), 50u);
  for (const auto& pack : packs) {
    EXPECT_TRUE(index.ContainsPack(pack.pack_id));
    for (const auto& blob : pack.blobs) {
      auto found = index.Find(BlobType::kData, blob.id);
      ASSERT_TRUE(found.has_value());
      EXPECT_EQ(found->pack_id, pack.pack_id);
      EXPECT_EQ(found->entry.offset, blob.offset);
    }
  }
  EXPECT_FALSE(index.Contains(BlobType::kData, Id::FromBytes(RandomBytes(32))));
}

TEST(MasterIndexTest, DuplicateBlobKeepsFirstLocation) {
  MasterIndex index;
  Id blob = Id::FromBytes(RandomBytes(32));
  IndexedPack a{
      Id::FromBytes(RandomBytes(32)), {}, {{BlobType::kData, Compression::kNone, 32, 20, 4, blob}}};
  IndexedPack b{
      Id::FromBytes(RandomBytes(32)), {}, {{BlobType::kData, Compression::kNone, 32, 20, 4, blob}}};
  index.AddPack(a);
  index.AddPack(b);
  EXPECT_EQ(index.blob_count(), 1u);
  EXPECT_EQ(index.Find(BlobType::kData, blob)->pack_id, a.pack_id);
}

TEST(MasterIndexTest, SameIdOfAnotherTypeIsAnotherBlob) {
  MasterIndex index;
  Id blob = Id::FromBytes(RandomBytes(32));
  IndexedPack data{
      Id::FromBytes(RandomBytes(32)), {}, {{BlobType::kData, Compression::kNone, 32, 20, 4, blob}}};
  index.AddPack(data);
  EXPECT_TRUE(index.Contains(BlobType::kData, blob));
  EXPECT_FALSE(index.Contains(BlobType::kTree, blob));
  IndexedPack tree{
      Id::FromBytes(RandomBytes(32)), {}, {{BlobType::kTree, Compression::kNone, 64, 20, 4, blob}}};
  index.AddPack(tree);
  EXPECT_EQ(index.blob_count(), 2u);
  EXPECT_EQ(index.Find(BlobType::kData, blob)->pack_id, data.pack_id);
  EXPECT_EQ(index.Find(BlobType::kTree, blob)->pack_id, tree.pack_id);
  EXPECT_EQ(index.Find(BlobType::kTree, blob)->entry.offset, 64u);
}

}  // namespace
}  // namespace ferry
