// MasterIndex: the in-memory map from a blob's identity — its type and ID — to
// its place in a pack, built from all index objects. A tree and a file chunk
// with the same bytes have the same ID but are different blobs: the tree must
// live in a tree pack (metadata that stays with the vault during an offline
// seed), the chunk in a data pack. It has to hold every blob of the repository (1 TB at
// ~1 MiB chunks ≈ 1 M blobs), so entries are compact: 52 bytes each in one
// vector plus a 4-byte slot per entry in an open-addressing table (load ≤ ½),
// i.e. ~60 bytes per blob instead of ~100 for a node-based hash map.
//
// Thread safety: all methods may be called concurrently; lookups take a shared
// lock, additions an exclusive one.
#pragma once

#include <array>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "format/index_file.h"

namespace ferry {

struct BlobLocation {
  Id pack_id;
  std::array<uint8_t, kPackSaltSize> salt{};
  PackEntry entry;
};

class MasterIndex {
 public:
  // Adds all blobs of a pack; blobs already known (also stored elsewhere) keep
  // their first location.
  void AddPack(const IndexedPack& pack);

  std::optional<BlobLocation> Find(BlobType type, const Id& blob_id) const;
  bool Contains(BlobType type, const Id& blob_id) const;
  bool ContainsPack(const Id& pack_id) const;

  size_t blob_count() const;
  size_t pack_count() const;
  // Every indexed pack's ID.
  std::vector<Id> PackIds() const;

 private:
  struct PackRecord {
    Id id;
    std::array<uint8_t, kPackSaltSize> salt;
  };
  struct Entry {
    Id id;
    uint32_t pack;
    uint32_t offset;
    uint32_t stored_length;
    uint32_t raw_length;
    BlobType type;
    Compression compression;
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;

  // REQUIRES: mutex_ held.
  size_t FindSlot(BlobType type, const Id& id) const;
  void Grow();

  mutable std::shared_mutex mutex_;
  std::vector<PackRecord> packs_;
  std::unordered_map<Id, uint32_t, IdHash> pack_numbers_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;  // indexes into entries_, or kEmpty
};

}  // namespace ferry
