// RestorePlan: every blob once, under its pack, with every place it goes.
#include "engine/restore_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace ferry {
namespace {

using ::testing::HasSubstr;

Id IdOf(uint8_t n) {
  std::array<uint8_t, Id::kSize> bytes{};
  bytes[0] = n;
  return Id::FromBytes(bytes);
}

class RestorePlanTest : public ::testing::Test {
 protected:
  // Blob `blob` of `length` bytes at `offset` in pack `pack`.
  void Store(uint8_t blob, uint8_t pack, uint32_t offset, uint32_t length) {
    BlobLocation location;
    location.pack_id = IdOf(100 + pack);
    location.entry.id = IdOf(blob);
    location.entry.offset = offset;
    location.entry.stored_length = length + 16;
    location.entry.raw_length = length;
    index_[IdOf(blob)] = location;
  }
  RestorePlan::BlobLookup Lookup() {
    return [this](const Id& id) -> std::optional<BlobLocation> {
      auto it = index_.find(id);
      if (it == index_.end()) return std::nullopt;
      return it->second;
    };
  }
  std::map<Id, BlobLocation> index_;
};

TEST_F(RestorePlanTest, ABlobUsedByManyFilesAndRepeatedInOneIsReadOnce) {
  Store(1, 0, 500, 100);  // pack 0 holds blob 1 after blob 2
  Store(2, 0, 32, 200);
  Store(3, 1, 32, 50);
  RestorePlan plan(Lookup());
  // file 0: 1 1 3 1 (blob 1 three times); file 1: 2 1; file 2: 1
  ASSERT_TRUE(plan.AddFile({IdOf(1), IdOf(1), IdOf(3), IdOf(1)}, 350).ok());
  ASSERT_TRUE(plan.AddFile({IdOf(2), IdOf(1)}, 300).ok());
  ASSERT_TRUE(plan.AddFile({IdOf(1)}, 100).ok());
  plan.Finish();

  EXPECT_EQ(plan.blob_count(), 3u);
  ASSERT_EQ(plan.packs().size(), 2u);
  // Packs in the order files first need them.
  EXPECT_EQ(plan.packs()[0].pack_id, IdOf(100));
  EXPECT_EQ(plan.packs()[1].pack_id, IdOf(101));
  // Blobs of a pack sorted by offset.
  const std::vector<PlannedBlob>& blobs = plan.packs()[0].blobs;
  ASSERT_EQ(blobs.size(), 2u);
  EXPECT_EQ(blobs[0].entry.id, IdOf(2));
  EXPECT_EQ(blobs[1].entry.id, IdOf(1));

  auto targets = [](const PlannedBlob& blob) {
    std::vector<std::pair<uint32_t, uint64_t>> all;
    for (const BlobTarget& target : blob.targets) all.emplace_back(target.file, target.offset);
    return all;
  };
  using Targets = std::vector<std::pair<uint32_t, uint64_t>>;
  EXPECT_EQ(targets(blobs[1]), (Targets{{0, 0}, {0, 100}, {0, 250}, {1, 200}, {2, 0}}));
  EXPECT_EQ(targets(blobs[0]), (Targets{{1, 0}}));
  EXPECT_EQ(targets(plan.packs()[1].blobs[0]), (Targets{{0, 200}}));

  ASSERT_EQ(plan.files().size(), 3u);
  EXPECT_EQ(plan.files()[0].targets, 4u);
  EXPECT_EQ(plan.files()[1].targets, 2u);
  EXPECT_EQ(plan.files()[2].targets, 1u);
}

TEST_F(RestorePlanTest, AFileWithAnUnindexedBlobIsRefusedAndLeavesNoTargets) {
  Store(1, 0, 32, 100);
  RestorePlan plan(Lookup());
  Status refused = plan.AddFile({IdOf(1), IdOf(9)}, 200);
  EXPECT_EQ(refused.code(), StatusCode::kNotFound);
  EXPECT_THAT(refused.message(), HasSubstr(IdOf(9).Hex()));
  ASSERT_TRUE(plan.AddFile({}, 0).ok());  // an empty file: nothing to read
  plan.Finish();
  ASSERT_EQ(plan.files().size(), 2u);
  EXPECT_TRUE(plan.files()[0].refused);
  EXPECT_FALSE(plan.files()[1].refused);
  EXPECT_EQ(plan.files()[1].targets, 0u);
  EXPECT_TRUE(plan.packs().empty());
  EXPECT_EQ(plan.blob_count(), 0u);
}

TEST_F(RestorePlanTest, ContentThatDoesNotAddUpToTheSizeIsRefused) {
  Store(1, 0, 32, 100);
  RestorePlan plan(Lookup());
  Status refused = plan.AddFile({IdOf(1), IdOf(1)}, 150);
  EXPECT_EQ(refused.code(), StatusCode::kCorruption);
  EXPECT_THAT(refused.message(), HasSubstr("adds up to 200 bytes, the snapshot says 150"));
  plan.Finish();
  EXPECT_TRUE(plan.files()[0].refused);
  EXPECT_TRUE(plan.packs().empty());
}

}  // namespace
}  // namespace ferry
