// Reading the blobs of a pack in few large reads (repo/pack_reader.h): how
// wanted blobs are grouped into ranges, and that damage and unreadable packs
// stay with the blobs they concern.
#include "repo/pack_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "counting_backend.h"
#include "crypto/random.h"
#include "repo/checker.h"
#include "repository_fixture.h"

namespace ferry {
namespace {

using ::testing::HasSubstr;

PackEntry At(uint32_t offset, uint32_t length) {
  PackEntry entry;
  entry.offset = offset;
  entry.stored_length = length;
  return entry;
}

TEST(PlanPackRangesTest, AdjacentAndCloseBlobsShareARange) {
  std::vector<PackEntry> blobs = {At(32, 100), At(132, 50), At(182 + 900, 10)};
  auto ranges = PlanPackRanges(blobs, 1000);
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].offset, 32u);
  EXPECT_EQ(ranges[0].length, 182u + 900 + 10 - 32);
  EXPECT_EQ(ranges[0].first, 0u);
  EXPECT_EQ(ranges[0].count, 3u);
}

TEST(PlanPackRangesTest, AGapWiderThanTheThresholdSplitsUnlessMostOfTheSpanIsWanted) {
  // Two runs of 100 bytes, 10,000 bytes apart: a fiftieth of the span wanted.
  std::vector<PackEntry> sparse = {At(32, 50), At(82, 50), At(10132, 100)};
  auto ranges = PlanPackRanges(sparse, 1000);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].offset, 32u);
  EXPECT_EQ(ranges[0].length, 100u);
  EXPECT_EQ(ranges[0].count, 2u);
  EXPECT_EQ(ranges[1].offset, 10132u);
  EXPECT_EQ(ranges[1].first, 2u);
  EXPECT_EQ(ranges[1].count, 1u);

  // Gaps of 2,000 (over the threshold) between blobs of 3,000: more than half
  // of the span is wanted, so it is read whole, in one request.
  std::vector<PackEntry> dense = {At(0, 3000), At(5000, 3000), At(10000, 3000)};
  ranges = PlanPackRanges(dense, 1000);
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].length, 13000u);
  EXPECT_EQ(ranges[0].count, 3u);
}

TEST(PlanPackRangesTest, OverlappingBlobsAreReadApart) {
  // Only a damaged or forged index says this; each blob still gets its bytes.
  std::vector<PackEntry> blobs = {At(100, 100), At(150, 100), At(250, 10)};
  auto ranges = PlanPackRanges(blobs, 1000);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].offset, 100u);
  EXPECT_EQ(ranges[0].count, 1u);
  EXPECT_EQ(ranges[1].offset, 150u);
  EXPECT_EQ(ranges[1].length, 110u);
  EXPECT_EQ(ranges[1].count, 2u);
}

class PackReaderTest : public RepositoryFixture {
 protected:
  // Stores `count` random blobs (one pack) and reopens the repository
  // through a CountingBackend.
  void SetUp() override {
    auto repository = Init();
    ASSERT_TRUE(repository);
    for (int i = 0; i < 40; ++i) {
      Bytes plain = RandomBytes(1000 + 97 * i);
      Id id = repository->BlobId(plain);
      plains_[id] = plain;
      ASSERT_TRUE(repository->SaveBlob(BlobType::kData, id, plain).ok());
    }
    ASSERT_TRUE(repository->Flush().ok());
    auto counting = std::make_unique<CountingBackend>(std::make_unique<LocalBackend>(Location()));
    counting_ = counting.get();
    auto opened = Repository::Open(std::move(counting), "pw");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    repository_ = std::move(*opened);
    ASSERT_TRUE(repository_->LoadIndex().ok());
    pack_.blobs.clear();
    for (const auto& [id, plain] : plains_) {
      auto location = repository_->FindBlob(BlobType::kData, id);
      ASSERT_TRUE(location);
      if (!pack_.blobs.empty()) {
        ASSERT_EQ(location->pack_id, pack_.pack_id);
      }
      pack_.pack_id = location->pack_id;
      pack_.salt = location->salt;
      pack_.blobs.push_back(location->entry);
    }
    std::sort(pack_.blobs.begin(), pack_.blobs.end(),
              [](const PackEntry& a, const PackEntry& b) { return a.offset < b.offset; });
  }

  struct Visited {
    std::vector<size_t> good;
    std::vector<std::pair<size_t, Status>> bad;
  };
  Visited Read(const IndexedPack& pack) {
    Visited visited;
    Status status = ReadPackBlobs(*repository_, pack, [&](size_t index, Result<Bytes> plain) {
      if (plain.ok()) {
        EXPECT_EQ(*plain, plains_[pack.blobs[index].id]) << index;
        visited.good.push_back(index);
      } else {
        visited.bad.emplace_back(index, plain.status());
      }
      return Status::Ok();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
    return visited;
  }

  std::map<Id, Bytes> plains_;
  std::unique_ptr<Repository> repository_;
  CountingBackend* counting_ = nullptr;
  IndexedPack pack_;
};

TEST_F(PackReaderTest, EveryWantedBlobOfAPackInOneRead) {
  Visited visited = Read(pack_);
  EXPECT_EQ(visited.good.size(), pack_.blobs.size());
  EXPECT_TRUE(visited.bad.empty());
  EXPECT_EQ(counting_->content_reads(), 1u);

  // Every third blob: still close together, still one read.
  IndexedPack some = pack_;
  some.blobs.clear();
  for (size_t i = 0; i < pack_.blobs.size(); i += 3) some.blobs.push_back(pack_.blobs[i]);
  counting_->ResetCounts();
  visited = Read(some);
  EXPECT_EQ(visited.good.size(), some.blobs.size());
  EXPECT_EQ(counting_->content_reads(), 1u);
}

TEST_F(PackReaderTest, ADamagedBlobInACoalescedRangeFailsOnlyItself) {
  const PackEntry& victim = pack_.blobs[pack_.blobs.size() / 2];
  FlipInPlace(ObjectKind::kData, pack_.pack_id, victim.offset + victim.stored_length / 2);
  Visited visited = Read(pack_);
  EXPECT_EQ(counting_->content_reads(), 1u);
  ASSERT_EQ(visited.bad.size(), 1u);
  EXPECT_EQ(visited.bad[0].first, pack_.blobs.size() / 2);
  EXPECT_EQ(visited.bad[0].second.code(), StatusCode::kCorruption)
      << visited.bad[0].second.ToString();
  EXPECT_THAT(visited.bad[0].second.message(), HasSubstr(victim.id.Hex()));
  EXPECT_THAT(visited.bad[0].second.message(), HasSubstr(pack_.pack_id.Hex()));
  EXPECT_EQ(visited.good.size(), pack_.blobs.size() - 1);
}

TEST_F(PackReaderTest, APackThatCannotBeReadFailsEachWantedBlobWithTheReason) {
  counting_->FailReadsOf(pack_.pack_id.Hex());
  Visited visited = Read(pack_);
  EXPECT_TRUE(visited.good.empty());
  ASSERT_EQ(visited.bad.size(), pack_.blobs.size());
  for (size_t i = 0; i < visited.bad.size(); ++i) {
    EXPECT_EQ(visited.bad[i].first, i);
    EXPECT_EQ(visited.bad[i].second.code(), StatusCode::kIOError);
    EXPECT_THAT(visited.bad[i].second.message(), HasSubstr("reading pack " + pack_.pack_id.Hex()));
  }
}

TEST_F(PackReaderTest, TheVisitorCanStopTheRead) {
  size_t visits = 0;
  Status status = ReadPackBlobs(*repository_, pack_, [&](size_t, Result<Bytes>) {
    ++visits;
    return visits == 3 ? Status::Interrupted("enough") : Status::Ok();
  });
  EXPECT_EQ(status.code(), StatusCode::kInterrupted);
  EXPECT_EQ(visits, 3u);
}

TEST_F(PackReaderTest, TheWholePackStreamSeesEveryByteOnce) {
  auto size = repository_->backend().Stat({ObjectKind::kData, pack_.pack_id.Hex()});
  ASSERT_TRUE(size.ok());
  Sha256Stream hash;
  uint64_t next = 0;
  size_t good = 0;
  Status status = StreamWholePack(
      *repository_, pack_, *size,
      [&](uint64_t offset, ByteView piece) {
        EXPECT_EQ(offset, next);
        next += piece.size();
        hash.Update(piece);
        return Status::Ok();
      },
      [&](size_t, Result<Bytes> plain) {
        good += plain.ok();
        return Status::Ok();
      });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(next, *size);
  EXPECT_EQ(hash.Finish(), pack_.pack_id);
  EXPECT_EQ(good, pack_.blobs.size());
  EXPECT_EQ(counting_->content_reads(), 1u);
}

TEST_F(PackReaderTest, TheWholePackStreamReturnsAReadErrorWithoutVisitingTheBlobs) {
  auto size = repository_->backend().Stat({ObjectKind::kData, pack_.pack_id.Hex()});
  ASSERT_TRUE(size.ok());
  counting_->FailReadsOf(pack_.pack_id.Hex());
  size_t visits = 0;
  Status status = StreamWholePack(
      *repository_, pack_, *size, [](uint64_t, ByteView) { return Status::Ok(); },
      [&](size_t, Result<Bytes>) {
        ++visits;
        return Status::Ok();
      });
  EXPECT_EQ(status.code(), StatusCode::kIOError);
  EXPECT_EQ(visits, 0u);
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string all;
  for (const std::string& line : lines) all += line + "\n";
  return all;
}

TEST_F(PackReaderTest, CheckReadDataReadsEachPackOnceAndNamesTheDamagedBlob) {
  const PackEntry& victim = pack_.blobs[7];
  FlipInPlace(ObjectKind::kData, pack_.pack_id, victim.offset + 3);
  CheckOptions options;
  options.read_data = true;
  auto report = CheckRepository(*repository_, options, [](const std::string&) {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  // One read of the one data pack, whole: header and trailer come from it too.
  EXPECT_EQ(counting_->content_reads(), 1u);
  EXPECT_EQ(report->blobs_checked, pack_.blobs.size());
  std::string errors = Joined(report->errors);
  EXPECT_THAT(errors, HasSubstr(victim.id.Hex()));
  EXPECT_THAT(errors, HasSubstr("does not match its name"));
  // The damaged blob, and nothing else in the pack.
  size_t blob_errors = 0;
  for (const PackEntry& entry : pack_.blobs)
    blob_errors += errors.find("blob " + entry.id.Hex()) != std::string::npos;
  EXPECT_EQ(blob_errors, 1u) << errors;
}

TEST_F(PackReaderTest, CheckReadDataNamesAnUnreadablePackOnce) {
  counting_->FailReadsOf(pack_.pack_id.Hex());
  CheckOptions options;
  options.read_data = true;
  auto report = CheckRepository(*repository_, options, [](const std::string&) {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::string errors = Joined(report->errors);
  size_t mentions = 0;
  for (const std::string& error : report->errors)
    mentions += error.find("pack " + pack_.pack_id.Hex() + " cannot be read") == 0;
  EXPECT_EQ(mentions, 1u) << errors;
  EXPECT_THAT(errors, ::testing::Not(HasSubstr("reading pack"))) << errors;
}

}  // namespace
}  // namespace ferry
