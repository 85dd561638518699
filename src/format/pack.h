// Pack files: the container of encrypted blobs (docs/format.md, "Packs").
//
//   pack    = salt[32] ‖ blob_0 ‖ … ‖ blob_{n-1} ‖ header ‖ trailer
//   blob_i  = AES-256-GCM(pack_key, nonce(0, offset_i), payload_i, blob_aad_i) ‖ tag[16]
//   header  = AES-256-GCM(pack_key, nonce(1, 0), count:u32 ‖ entry × count, header_aad) ‖ tag
//   entry   = type:u8 ‖ compression:u8 ‖ reserved:u16 ‖ stored_length:u32 ‖ raw_length:u32 ‖ id[32]
//   trailer = header_length:u32 ‖ "FRY1"
//   pack_key = HKDF-SHA256(data_key, salt, "ferry pack v1")
//
// Nonces are (domain:u32 ‖ counter:u64) little-endian; blobs use their byte
// offset as the counter, so a nonce never repeats within a pack, and every pack
// has its own random key, so nonces never repeat across the repository.
#pragma once

#include <cstdint>
#include <vector>

#include "crypto/aead.h"
#include "format/compression.h"
#include "util/bytes.h"
#include "util/id.h"

namespace ferry {

enum class BlobType : uint8_t { kData = 0, kTree = 1 };
const char* BlobTypeName(BlobType type);

constexpr size_t kPackSaltSize = 32;
constexpr size_t kPackTrailerSize = 8;
constexpr uint32_t kPackMagic = 0x31595246;  // "FRY1" little-endian
constexpr size_t kPackHeaderEntrySize = 44;
// Blobs are at most the chunker's max (64 MiB) plus compression and tag
// overhead; anything larger in a header is corruption.
constexpr uint32_t kMaxBlobSize = 80u << 20;
// No pack of ours has more blobs than this; bounds the header a parser accepts.
constexpr uint32_t kMaxBlobsPerPack = 1u << 20;

struct PackEntry {
  BlobType type = BlobType::kData;
  Compression compression = Compression::kNone;
  uint32_t offset = 0;         // of the blob's ciphertext within the pack
  uint32_t stored_length = 0;  // ciphertext including the tag
  uint32_t raw_length = 0;     // plaintext after decompression
  Id id;                       // chunk ID: HMAC-SHA256(mac_key, plaintext)
};

// Context that every pack operation of one repository shares.
struct PackKeys {
  ByteView data_key;
  Id repository_id;
};

Bytes DerivePackKey(ByteView data_key, ByteView salt);

// Assembles one pack in memory. Not thread-safe; one per writer thread.
class PackBuilder {
 public:
  // `capacity`: the expected pack size, reserved up front so the buffer never
  // has to move while it grows.
  explicit PackBuilder(const PackKeys& keys, size_t capacity = 0);

  // Compresses `plaintext` (where that pays) and appends it encrypted.
  void AddBlob(BlobType type, const Id& id, ByteView plaintext, int compression_level);
  // Encrypts `payload` (already compressed as `compression` says) and appends it.
  void AddBlob(BlobType type, const Id& id, Compression compression, uint32_t raw_length,
               ByteView payload);
  size_t size() const { return buffer_.size(); }
  size_t blob_count() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  ByteView salt() const { return ByteView(buffer_).first(kPackSaltSize); }
  // Replaces the random salt of an empty builder. Packs are deterministic
  // given salt and blobs, so a lost pack whose index entry (salt, blob order,
  // compression) survives can be rebuilt byte for byte from the source files.
  void UseSalt(ByteView salt);

  // Appends header and trailer and returns the finished pack; the builder is
  // then empty again with a fresh salt.
  BufferBytes Finish(std::vector<PackEntry>* entries, Bytes* salt);

 private:
  void Reset();

  PackKeys keys_;
  size_t capacity_;
  Bytes pack_key_;
  BufferBytes buffer_;
  std::vector<PackEntry> entries_;
};

// Reads the trailer (the last 8 bytes) of a pack of `pack_size` bytes and
// returns the header's ciphertext length, checked against the pack size.
Result<uint32_t> ParsePackTrailer(ByteView trailer, uint64_t pack_size);

// Decrypts and parses a pack header. `header` is the ciphertext that
// ParsePackTrailer located; every entry is checked to lie inside the pack.
Result<std::vector<PackEntry>> DecryptPackHeader(const PackKeys& keys, ByteView salt,
                                                 ByteView header, uint64_t pack_size);

// Decrypts, decompresses and verifies one blob: the plaintext's MAC must equal
// entry.id. `pack_key` comes from DerivePackKey.
Result<Bytes> OpenBlob(const PackKeys& keys, ByteView pack_key, ByteView mac_key,
                       const PackEntry& entry, ByteView stored);

// The same checks, but returns the payload as stored (compressed as
// entry.compression says) rather than the plaintext: what prune moves into a
// new pack with AddBlob(type, id, compression, raw_length, payload), verified
// without being compressed again.
Result<Bytes> OpenBlobPayload(const PackKeys& keys, ByteView pack_key, ByteView mac_key,
                              const PackEntry& entry, ByteView stored);

}  // namespace ferry
