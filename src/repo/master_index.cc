#include "repo/master_index.h"

#include <mutex>

namespace ferry {

size_t MasterIndex::FindSlot(BlobType type, const Id& id) const {
  size_t mask = slots_.size() - 1;
  // The type moves the start of the probe, so that a tree and a chunk with the
  // same ID (rare: equal bytes) do not share one probe run.
  size_t slot = (IdHash{}(id) + static_cast<size_t>(type) * 0x9e3779b97f4a7c15ull) & mask;
  while (slots_[slot] != kEmpty &&
         (entries_[slots_[slot]].id != id || entries_[slots_[slot]].type != type))
    slot = (slot + 1) & mask;
  return slot;
}

void MasterIndex::Grow() {
  size_t size = slots_.empty() ? 1024 : slots_.size() * 2;
  slots_.assign(size, kEmpty);
  for (uint32_t i = 0; i < entries_.size(); ++i)
    slots_[FindSlot(entries_[i].type, entries_[i].id)] = i;
}

void MasterIndex::AddPack(const IndexedPack& pack) {
  std::unique_lock lock(mutex_);
  auto [it, inserted] = pack_numbers_.emplace(pack.pack_id, static_cast<uint32_t>(packs_.size()));
  uint32_t pack_number = it->second;
  if (inserted) packs_.push_back({pack.pack_id, pack.salt});
  for (const PackEntry& blob : pack.blobs) {
    if ((entries_.size() + 1) * 2 > slots_.size()) Grow();
    size_t slot = FindSlot(blob.type, blob.id);
    if (slots_[slot] != kEmpty) continue;
    slots_[slot] = static_cast<uint32_t>(entries_.size());
    entries_.push_back({blob.id, pack_number, blob.offset, blob.stored_length, blob.raw_length,
                        blob.type, blob.compression});
  }
}

std::optional<BlobLocation> MasterIndex::Find(BlobType type, const Id& blob_id) const {
  std::shared_lock lock(mutex_);
  if (slots_.empty()) return std::nullopt;
  uint32_t index = slots_[FindSlot(type, blob_id)];
  if (index == kEmpty) return std::nullopt;
  const Entry& e = entries_[index];
  BlobLocation location;
  location.pack_id = packs_[e.pack].id;
  location.salt = packs_[e.pack].salt;
  location.entry = {e.type, e.compression, e.offset, e.stored_length, e.raw_length, e.id};
  return location;
}

bool MasterIndex::Contains(BlobType type, const Id& blob_id) const {
  std::shared_lock lock(mutex_);
  return !slots_.empty() && slots_[FindSlot(type, blob_id)] != kEmpty;
}

bool MasterIndex::ContainsPack(const Id& pack_id) const {
  std::shared_lock lock(mutex_);
  return pack_numbers_.count(pack_id) != 0;
}

size_t MasterIndex::blob_count() const {
  std::shared_lock lock(mutex_);
  return entries_.size();
}

size_t MasterIndex::pack_count() const {
  std::shared_lock lock(mutex_);
  return packs_.size();
}

std::vector<Id> MasterIndex::PackIds() const {
  std::shared_lock lock(mutex_);
  std::vector<Id> out;
  out.reserve(packs_.size());
  for (const PackRecord& pack : packs_) out.push_back(pack.id);
  return out;
}

}  // namespace ferry
