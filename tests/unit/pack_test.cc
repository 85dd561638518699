#include "format/pack.h"

#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "format/index_file.h"

namespace ferry {
namespace {

class PackTest : public ::testing::Test {
 protected:
  PackTest() : data_key_(RandomBytes(32)), mac_key_(RandomBytes(32)) {
    keys_.data_key = data_key_;
    keys_.repository_id = Id::FromBytes(RandomBytes(32));
  }

  // Builds a pack of `count` blobs, alternately compressible and random.
  Bytes Build(int count, std::vector<PackEntry>* entries, Bytes* salt,
              std::vector<Bytes>* plaintexts) {
    PackBuilder builder(keys_);
    for (int i = 0; i < count; ++i) {
      Bytes plain = i % 2 ? RandomBytes(1000 + static_cast<size_t>(i)) : Bytes(5000, uint8_t(i));
      builder.AddBlob(i == 0 ? BlobType::kTree : BlobType::kData, HmacSha256(mac_key_, plain),
                      plain, 1);
      plaintexts->push_back(plain);
    }
    BufferBytes pack = builder.Finish(entries, salt);
    return Bytes(pack.begin(), pack.end());
  }

  Result<std::vector<PackEntry>> ReadHeader(ByteView pack, ByteView salt) {
    auto length = ParsePackTrailer(pack.last(std::min(pack.size(), kPackTrailerSize)), pack.size());
    if (!length.ok()) return length.status();
    return DecryptPackHeader(
        keys_, salt, pack.subspan(pack.size() - kPackTrailerSize - *length, *length), pack.size());
  }

  Bytes data_key_, mac_key_;
  PackKeys keys_;
};

TEST_F(PackTest, RoundTripEveryBlob) {
  std::vector<PackEntry> entries;
  Bytes salt;
  std::vector<Bytes> plaintexts;
  Bytes pack = Build(10, &entries, &salt, &plaintexts);
  ASSERT_EQ(entries.size(), 10u);
  EXPECT_EQ(entries[0].compression, Compression::kZstd);
  EXPECT_EQ(entries[1].compression, Compression::kNone);
  auto header = ReadHeader(pack, salt);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  ASSERT_EQ(header->size(), entries.size());
  Bytes pack_key = DerivePackKey(data_key_, salt);
  for (size_t i = 0; i < entries.size(); ++i) {
    const PackEntry& e = (*header)[i];
    EXPECT_EQ(e.id, entries[i].id);
    EXPECT_EQ(e.offset, entries[i].offset);
    EXPECT_EQ(e.type, i == 0 ? BlobType::kTree : BlobType::kData);
    auto plain =
        OpenBlob(keys_, pack_key, mac_key_, e, ByteView(pack).subspan(e.offset, e.stored_length));
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    EXPECT_EQ(*plain, plaintexts[i]);
  }
}

TEST_F(PackTest, EveryFlippedBitIsDetected) {
  std::vector<PackEntry> entries;
  Bytes salt;
  std::vector<Bytes> plaintexts;
  Bytes pack = Build(3, &entries, &salt, &plaintexts);
  Bytes pack_key = DerivePackKey(data_key_, salt);
  // Flip one bit at a spread of positions; either the header or a blob fails.
  for (size_t position = kPackSaltSize; position < pack.size(); position += 97) {
    Bytes damaged = pack;
    damaged[position] ^= 0x10;
    auto header = ReadHeader(damaged, salt);
    bool detected = !header.ok();
    if (!detected) {
      for (const PackEntry& e : *header)
        if (!OpenBlob(keys_, pack_key, mac_key_, e,
                      ByteView(damaged).subspan(e.offset, e.stored_length))
                 .ok())
          detected = true;
    }
    EXPECT_TRUE(detected) << "flip at " << position;
  }
}

TEST_F(PackTest, TruncatedAndLyingTrailersAreRejected) {
  std::vector<PackEntry> entries;
  Bytes salt;
  std::vector<Bytes> plaintexts;
  Bytes pack = Build(4, &entries, &salt, &plaintexts);
  for (size_t cut : {size_t{1}, size_t{8}, size_t{100}, pack.size() - 10, pack.size()}) {
    Bytes truncated(pack.begin(), pack.end() - static_cast<long>(cut));
    EXPECT_FALSE(ReadHeader(truncated, salt).ok()) << "cut " << cut;
  }
  Bytes lying = pack;
  uint32_t huge = 0x7fffffff;
  std::memcpy(&lying[lying.size() - 8], &huge, 4);
  auto result = ReadHeader(lying, salt);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("does not fit"), std::string::npos);
}

TEST_F(PackTest, BlobCannotBeMovedToAnotherRepository) {
  std::vector<PackEntry> entries;
  Bytes salt;
  std::vector<Bytes> plaintexts;
  Bytes pack = Build(1, &entries, &salt, &plaintexts);
  PackKeys other = keys_;
  other.repository_id = Id::FromBytes(RandomBytes(32));
  Bytes pack_key = DerivePackKey(data_key_, salt);
  const PackEntry& e = entries[0];
  EXPECT_FALSE(
      OpenBlob(other, pack_key, mac_key_, e, ByteView(pack).subspan(e.offset, e.stored_length))
          .ok());
}

TEST_F(PackTest, IndexRoundTripAndCorruption) {
  std::vector<IndexedPack> packs(2);
  for (int p = 0; p < 2; ++p) {
    packs[p].pack_id = Id::FromBytes(RandomBytes(32));
    packs[p].salt[0] = static_cast<uint8_t>(p);
    for (int b = 0; b < 3; ++b)
      packs[p].blobs.push_back({BlobType::kData, Compression::kZstd,
                                static_cast<uint32_t>(32 + 100 * b), 100, 300,
                                Id::FromBytes(RandomBytes(32))});
  }
  Bytes encoded = EncodeIndex(packs);
  auto parsed = ParseIndex(encoded);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[1].pack_id, packs[1].pack_id);
  EXPECT_EQ((*parsed)[1].blobs[2].id, packs[1].blobs[2].id);
  EXPECT_EQ((*parsed)[1].blobs[2].offset, 232u);
  for (size_t cut = 1; cut < encoded.size(); cut += 7)
    EXPECT_FALSE(ParseIndex(ByteView(encoded).first(encoded.size() - cut)).ok());
  Bytes lying = encoded;
  lying[8] = 0xff;  // pack count
  EXPECT_FALSE(ParseIndex(lying).ok());
}

}  // namespace
}  // namespace ferry
