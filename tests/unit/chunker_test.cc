#include "chunk/chunker.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace ferry {
namespace {

Bytes RandomData(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes data(size);
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = rng();
    std::memcpy(&data[i], &v, std::min<size_t>(8, size - i));
  }
  return data;
}

std::vector<size_t> Boundaries(const Chunker& chunker, ByteView data) {
  std::vector<size_t> cuts;
  size_t start = 0;
  while (start < data.size()) {
    size_t n = chunker.NextBoundary(data.subspan(start), true);
    EXPECT_GT(n, 0u);
    start += n;
    cuts.push_back(start);
  }
  return cuts;
}

Bytes Seed(uint8_t fill) { return Bytes(32, fill); }

TEST(ChunkerTest, ChunkSizesRespectLimitsAndAverage) {
  ChunkerParams params;
  Chunker chunker(Seed(1), params);
  Bytes data = RandomData(64 << 20, 7);
  auto cuts = Boundaries(chunker, data);
  size_t previous = 0;
  for (size_t i = 0; i < cuts.size(); ++i) {
    size_t size = cuts[i] - previous;
    if (i + 1 < cuts.size()) {
      EXPECT_GE(size, params.min_size);
    }
    EXPECT_LE(size, params.max_size);
    previous = cuts[i];
  }
  // Normalized chunking keeps the mean near the configured average.
  double average = static_cast<double>(data.size()) / static_cast<double>(cuts.size());
  EXPECT_GT(average, 0.7 * params.average_size);
  EXPECT_LT(average, 1.5 * params.average_size);
}

TEST(ChunkerTest, SameInputAndKeyGiveSameChunks) {
  Bytes data = RandomData(16 << 20, 3);
  Chunker a(Seed(5), ChunkerParams{});
  Chunker b(Seed(5), ChunkerParams{});
  EXPECT_EQ(Boundaries(a, data), Boundaries(b, data));
}

TEST(ChunkerTest, DifferentKeyGivesDifferentBoundaries) {
  Bytes data = RandomData(16 << 20, 3);
  auto a = Boundaries(Chunker(Seed(5), ChunkerParams{}), data);
  auto b = Boundaries(Chunker(Seed(6), ChunkerParams{}), data);
  std::set<size_t> shared;
  for (size_t cut : a)
    if (std::find(b.begin(), b.end(), cut) != b.end()) shared.insert(cut);
  // Only the end of the data may coincide.
  EXPECT_LE(shared.size(), 1u);
}

TEST(ChunkerTest, BoundariesResynchroniseAfterInsertion) {
  Bytes data = RandomData(32 << 20, 9);
  Chunker chunker(Seed(2), ChunkerParams{});
  auto before = Boundaries(chunker, data);
  Bytes changed = data;
  Bytes insert = RandomData(1000, 11);
  size_t at = 10 << 20;
  changed.insert(changed.begin() + static_cast<long>(at), insert.begin(), insert.end());
  auto after = Boundaries(chunker, changed);
  std::set<size_t> shifted;
  for (size_t cut : after) shifted.insert(cut);
  // Boundaries before the insertion are untouched.
  for (size_t cut : before) {
    if (cut < at) {
      EXPECT_TRUE(shifted.count(cut));
    }
  }
  // Shortly after it the chunker is back in step, and from there on every
  // old boundary reappears, shifted by the insertion.
  size_t resync = 0;
  for (size_t cut : before)
    if (cut > at && shifted.count(cut + insert.size())) {
      resync = cut;
      break;
    }
  ASSERT_GT(resync, 0u);
  EXPECT_LT(resync - at, 8u << 20) << "took more than one max-size chunk to resynchronise";
  size_t checked = 0;
  for (size_t cut : before) {
    if (cut < resync) continue;
    EXPECT_TRUE(shifted.count(cut + insert.size())) << "boundary " << cut << " lost";
    ++checked;
  }
  EXPECT_GT(checked, 10u);
}

TEST(ChunkerTest, NeedsMoreDataUntilMaxOrEnd) {
  Chunker chunker(Seed(1), ChunkerParams{});
  Bytes small = RandomData(100, 1);
  EXPECT_EQ(chunker.NextBoundary(small, false), 0u);
  EXPECT_EQ(chunker.NextBoundary(small, true), 100u);
  Bytes zeros(20 << 20, 0);
  size_t n = chunker.NextBoundary(zeros, false);
  EXPECT_GT(n, 0u);
  EXPECT_LE(n, 8u << 20);
}

TEST(ChunkerTest, ValidateRejectsBadParameters) {
  EXPECT_TRUE(ChunkerParams{}.Validate().ok());
  EXPECT_FALSE((ChunkerParams{512 * 1024, 1000000, 8 << 20}).Validate().ok());
  EXPECT_FALSE((ChunkerParams{2 << 20, 1 << 20, 8 << 20}).Validate().ok());
}

}  // namespace
}  // namespace ferry
