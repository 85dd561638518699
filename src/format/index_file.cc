#include "format/index_file.h"

#include <cstring>

namespace ferry {

namespace {
constexpr uint32_t kIndexMagic = 0x49595246;  // "FRYI"
constexpr uint32_t kIndexVersion = 1;
constexpr size_t kBlobRecordSize = 48;
constexpr size_t kPackRecordSize = 68;
}  // namespace

Bytes EncodeIndex(const std::vector<IndexedPack>& packs) {
  Bytes out;
  AppendU32(out, kIndexMagic);
  AppendU32(out, kIndexVersion);
  AppendU32(out, static_cast<uint32_t>(packs.size()));
  for (const IndexedPack& pack : packs) {
    AppendBytes(out, pack.pack_id.bytes);
    AppendBytes(out, pack.salt);
    AppendU32(out, static_cast<uint32_t>(pack.blobs.size()));
    for (const PackEntry& blob : pack.blobs) {
      AppendU8(out, static_cast<uint8_t>(blob.type));
      AppendU8(out, static_cast<uint8_t>(blob.compression));
      AppendU8(out, 0);
      AppendU8(out, 0);
      AppendU32(out, blob.offset);
      AppendU32(out, blob.stored_length);
      AppendU32(out, blob.raw_length);
      AppendBytes(out, blob.id.bytes);
    }
  }
  return out;
}

Result<std::vector<IndexedPack>> ParseIndex(ByteView plaintext) {
  ByteReader reader(plaintext);
  uint32_t magic = reader.U32();
  uint32_t version = reader.U32();
  uint32_t pack_count = reader.U32();
  if (!reader.ok() || magic != kIndexMagic) return Status::Corruption("index has no FRYI magic");
  if (version != kIndexVersion)
    return Status::Unsupported("index format version " + std::to_string(version) +
                               " is newer than this ferry understands (1)");
  if (size_t{pack_count} * kPackRecordSize > reader.remaining())
    return Status::Corruption("index claims " + std::to_string(pack_count) +
                              " packs, more than its size allows");
  std::vector<IndexedPack> packs(pack_count);
  for (IndexedPack& pack : packs) {
    pack.pack_id = Id{reader.Array<Id::kSize>()};
    pack.salt = reader.Array<kPackSaltSize>();
    uint32_t blob_count = reader.U32();
    if (!reader.ok() || size_t{blob_count} * kBlobRecordSize > reader.remaining())
      return Status::Corruption("index entry for pack " + pack.pack_id.Hex() +
                                " runs past the end of the index");
    pack.blobs.resize(blob_count);
    for (PackEntry& blob : pack.blobs) {
      uint8_t type = reader.U8();
      uint8_t compression = reader.U8();
      reader.U8();
      reader.U8();
      blob.offset = reader.U32();
      blob.stored_length = reader.U32();
      blob.raw_length = reader.U32();
      blob.id = Id{reader.Array<Id::kSize>()};
      if (type > 1 || compression > 1 || blob.stored_length < kAeadTagSize ||
          blob.stored_length > kMaxBlobSize || blob.raw_length > kMaxBlobSize ||
          blob.offset < kPackSaltSize)
        return Status::Corruption("index entry for blob " + blob.id.Hex() + " in pack " +
                                  pack.pack_id.Hex() + " is invalid");
      blob.type = static_cast<BlobType>(type);
      blob.compression = static_cast<Compression>(compression);
    }
  }
  if (!reader.ok() || reader.remaining() != 0)
    return Status::Corruption("index has trailing or missing bytes");
  return packs;
}

}  // namespace ferry
