#include "format/pack.h"

#include <string>

#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/random.h"

namespace ferry {

const char* BlobTypeName(BlobType type) { return type == BlobType::kTree ? "tree" : "data"; }

namespace {

AeadNonce MakeNonce(uint32_t domain, uint64_t counter) {
  AeadNonce nonce{};
  for (int i = 0; i < 4; ++i) nonce[i] = static_cast<uint8_t>(domain >> (8 * i));
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<uint8_t>(counter >> (8 * i));
  return nonce;
}

// The blob's associated data binds its ciphertext to this repository, its
// type, compression, size and ID: a blob moved, relabelled or swapped fails.
Bytes BlobAssociatedData(const Id& repository_id, const PackEntry& entry) {
  Bytes aad;
  AppendBytes(aad, AsBytes("ferry blob v1"));
  AppendBytes(aad, repository_id.bytes);
  AppendU8(aad, static_cast<uint8_t>(entry.type));
  AppendU8(aad, static_cast<uint8_t>(entry.compression));
  AppendU32(aad, entry.raw_length);
  AppendBytes(aad, entry.id.bytes);
  return aad;
}

Bytes HeaderAssociatedData(const Id& repository_id) {
  Bytes aad;
  AppendBytes(aad, AsBytes("ferry pack header v1"));
  AppendBytes(aad, repository_id.bytes);
  return aad;
}

}  // namespace

Bytes DerivePackKey(ByteView data_key, ByteView salt) {
  return Hkdf(data_key, salt, "ferry pack v1", kAeadKeySize);
}

PackBuilder::PackBuilder(const PackKeys& keys, size_t capacity) : keys_(keys), capacity_(capacity) {
  Reset();
}

void PackBuilder::Reset() {
  buffer_ = BufferBytes();
  // Room for the target size plus one maximal blob past it.
  if (capacity_) buffer_.reserve(capacity_ + (9u << 20));
  entries_.clear();
  buffer_.resize(kPackSaltSize);
  RandomBytes(buffer_.data(), kPackSaltSize);
  pack_key_ = DerivePackKey(keys_.data_key, salt());
}

void PackBuilder::UseSalt(ByteView salt) {
  std::copy(salt.begin(), salt.begin() + kPackSaltSize, buffer_.begin());
  pack_key_ = DerivePackKey(keys_.data_key, this->salt());
}

void PackBuilder::AddBlob(BlobType type, const Id& id, Compression compression, uint32_t raw_length,
                          ByteView payload) {
  PackEntry entry;
  entry.type = type;
  entry.compression = compression;
  entry.offset = static_cast<uint32_t>(buffer_.size());
  entry.stored_length = static_cast<uint32_t>(payload.size() + kAeadTagSize);
  entry.raw_length = raw_length;
  entry.id = id;
  buffer_.resize(entry.offset + entry.stored_length);
  AeadSeal(pack_key_, MakeNonce(0, entry.offset), payload,
           BlobAssociatedData(keys_.repository_id, entry), buffer_.data() + entry.offset);
  entries_.push_back(entry);
}

void PackBuilder::AddBlob(BlobType type, const Id& id, ByteView plaintext, int compression_level) {
  thread_local BufferBytes scratch;
  ByteView stored;
  Compression compression = CompressIfUseful(plaintext, compression_level, scratch, &stored);
  AddBlob(type, id, compression, static_cast<uint32_t>(plaintext.size()), stored);
}

BufferBytes PackBuilder::Finish(std::vector<PackEntry>* entries, Bytes* salt_out) {
  Bytes header;
  header.reserve(4 + entries_.size() * kPackHeaderEntrySize);
  AppendU32(header, static_cast<uint32_t>(entries_.size()));
  for (const PackEntry& entry : entries_) {
    AppendU8(header, static_cast<uint8_t>(entry.type));
    AppendU8(header, static_cast<uint8_t>(entry.compression));
    AppendU8(header, 0);
    AppendU8(header, 0);
    AppendU32(header, entry.stored_length);
    AppendU32(header, entry.raw_length);
    AppendBytes(header, entry.id.bytes);
  }
  size_t header_offset = buffer_.size();
  uint32_t header_length = static_cast<uint32_t>(header.size() + kAeadTagSize);
  buffer_.resize(header_offset + header_length + kPackTrailerSize);
  AeadSeal(pack_key_, MakeNonce(1, 0), header, HeaderAssociatedData(keys_.repository_id),
           buffer_.data() + header_offset);
  uint8_t* trailer = buffer_.data() + header_offset + header_length;
  for (int i = 0; i < 4; ++i) trailer[i] = static_cast<uint8_t>(header_length >> (8 * i));
  for (int i = 0; i < 4; ++i) trailer[4 + i] = static_cast<uint8_t>(kPackMagic >> (8 * i));
  if (salt_out) *salt_out = Bytes(salt().begin(), salt().end());
  if (entries) *entries = std::move(entries_);
  BufferBytes pack = std::move(buffer_);
  Reset();
  return pack;
}

Result<uint32_t> ParsePackTrailer(ByteView trailer, uint64_t pack_size) {
  if (pack_size < kPackSaltSize + kAeadTagSize + 4 + kPackTrailerSize ||
      trailer.size() != kPackTrailerSize)
    return Status::Corruption("pack of " + std::to_string(pack_size) +
                              " bytes is too short to hold a header");
  uint32_t header_length = LoadU32(trailer.data());
  if (LoadU32(trailer.data() + 4) != kPackMagic)
    return Status::Corruption("pack trailer has no FRY1 magic (truncated or not a pack)");
  if (header_length < 4 + kAeadTagSize ||
      header_length > pack_size - kPackSaltSize - kPackTrailerSize)
    return Status::Corruption("pack header length " + std::to_string(header_length) +
                              " does not fit in a pack of " + std::to_string(pack_size) + " bytes");
  return header_length;
}

Result<std::vector<PackEntry>> DecryptPackHeader(const PackKeys& keys, ByteView salt,
                                                 ByteView header, uint64_t pack_size) {
  Bytes pack_key = DerivePackKey(keys.data_key, salt);
  auto plain =
      AeadOpen(pack_key, MakeNonce(1, 0), header, HeaderAssociatedData(keys.repository_id));
  if (!plain.ok()) return plain.status().WithContext("pack header");
  ByteReader reader(*plain);
  uint32_t count = reader.U32();
  if (!reader.ok() || count > kMaxBlobsPerPack ||
      reader.remaining() != size_t{count} * kPackHeaderEntrySize)
    return Status::Corruption("pack header entry count " + std::to_string(count) +
                              " does not match its length");
  uint64_t blobs_end = pack_size - kPackTrailerSize - header.size();
  uint64_t offset = kPackSaltSize;
  std::vector<PackEntry> entries(count);
  for (PackEntry& entry : entries) {
    uint8_t type = reader.U8();
    uint8_t compression = reader.U8();
    reader.U8();
    reader.U8();
    entry.stored_length = reader.U32();
    entry.raw_length = reader.U32();
    entry.id = Id{reader.Array<Id::kSize>()};
    if (type > 1 || compression > 1)
      return Status::Corruption("pack header has unknown blob type or compression");
    entry.type = static_cast<BlobType>(type);
    entry.compression = static_cast<Compression>(compression);
    if (entry.stored_length < kAeadTagSize || entry.stored_length > kMaxBlobSize ||
        entry.raw_length > kMaxBlobSize || offset + entry.stored_length > blobs_end)
      return Status::Corruption("pack header entry for blob " + entry.id.Hex() +
                                " lies outside the pack");
    entry.offset = static_cast<uint32_t>(offset);
    offset += entry.stored_length;
  }
  if (offset != blobs_end)
    return Status::Corruption("pack header describes " + std::to_string(offset) +
                              " bytes of blobs, the pack holds " + std::to_string(blobs_end));
  return entries;
}

namespace {

// Decrypts `stored` into `payload` and returns the plaintext it decompresses
// to, once its MAC is checked.
Result<Bytes> OpenVerified(const PackKeys& keys, ByteView pack_key, ByteView mac_key,
                           const PackEntry& entry, ByteView stored, Bytes& payload) {
  if (stored.size() != entry.stored_length)
    return Status::Corruption("blob " + entry.id.Hex() + " has " + std::to_string(stored.size()) +
                              " bytes, expected " + std::to_string(entry.stored_length));
  auto opened = AeadOpen(pack_key, MakeNonce(0, entry.offset), stored,
                         BlobAssociatedData(keys.repository_id, entry));
  if (!opened.ok()) return opened.status().WithContext("blob " + entry.id.Hex());
  payload = std::move(*opened);
  auto plain = Decompress(entry.compression, payload, entry.raw_length);
  if (!plain.ok()) return plain.status().WithContext("blob " + entry.id.Hex());
  if (HmacSha256(mac_key, *plain) != entry.id)
    return Status::Corruption("blob " + entry.id.Hex() + ": content does not match its ID");
  return plain;
}

}  // namespace

Result<Bytes> OpenBlob(const PackKeys& keys, ByteView pack_key, ByteView mac_key,
                       const PackEntry& entry, ByteView stored) {
  Bytes payload;
  return OpenVerified(keys, pack_key, mac_key, entry, stored, payload);
}

Result<Bytes> OpenBlobPayload(const PackKeys& keys, ByteView pack_key, ByteView mac_key,
                              const PackEntry& entry, ByteView stored) {
  Bytes payload;
  RETURN_IF_ERROR(OpenVerified(keys, pack_key, mac_key, entry, stored, payload).status());
  return payload;
}

}  // namespace ferry
