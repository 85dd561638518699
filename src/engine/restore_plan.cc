#include "engine/restore_plan.h"

#include <algorithm>

namespace ferry {

Status RestorePlan::AddFile(const std::vector<Id>& content, uint64_t size) {
  PlannedFile file;
  file.size = size;
  file.refused = true;
  if (files_.size() >= UINT32_MAX) {
    files_.push_back(file);
    return Status::InvalidArgument("a restore holds at most " + std::to_string(UINT32_MAX - 1) +
                                   " files; restore part of the snapshot with --include");
  }
  // Everything is looked up before anything is planned: a refused file must
  // leave no targets behind.
  std::vector<BlobLocation> locations;
  locations.reserve(content.size());
  uint64_t total = 0;
  for (const Id& id : content) {
    std::optional<BlobLocation> location = lookup_(id);
    if (!location) {
      files_.push_back(file);
      return Status::NotFound("data blob " + id.Hex() + " is not in the index");
    }
    total += location->entry.raw_length;
    locations.push_back(*location);
  }
  if (total != size) {
    files_.push_back(file);
    return Status::Corruption("content adds up to " + std::to_string(total) +
                              " bytes, the snapshot says " + std::to_string(size));
  }
  file.refused = false;
  file.targets = content.size();
  auto index = static_cast<uint32_t>(files_.size());
  files_.push_back(file);

  uint64_t offset = 0;
  for (const BlobLocation& location : locations) {
    auto [blob, new_blob] = blob_positions_.try_emplace(location.entry.id);
    if (new_blob) {
      auto [pack, new_pack] =
          pack_positions_.try_emplace(location.pack_id, static_cast<uint32_t>(packs_.size()));
      if (new_pack) packs_.push_back({location.pack_id, location.salt, {}});
      std::vector<PlannedBlob>& blobs = packs_[pack->second].blobs;
      blob->second = {pack->second, static_cast<uint32_t>(blobs.size())};
      blobs.push_back({location.entry, {}});
      ++blob_count_;
    }
    auto [pack_index, blob_index] = blob->second;
    packs_[pack_index].blobs[blob_index].targets.push_back({index, offset});
    offset += location.entry.raw_length;
  }
  return Status::Ok();
}

void RestorePlan::Finish() {
  for (PlannedPack& pack : packs_)
    std::sort(pack.blobs.begin(), pack.blobs.end(), [](const PlannedBlob& a, const PlannedBlob& b) {
      return a.entry.offset < b.entry.offset;
    });
  // The positions name blobs by their place before sorting; nothing may be
  // added after this.
  blob_positions_.clear();
  pack_positions_.clear();
}

}  // namespace ferry
