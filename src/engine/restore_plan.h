// RestorePlan: which blobs of which pack go where in the files of a restore,
// so that each pack is read once (repo/pack_reader.h) and every blob read is
// written to every place that needs it.
//
// Every blob a file lists becomes a target (file, offset) under that blob,
// and each blob is listed once, under its pack, however many files use it
// and however often one file repeats it. Packs come in the order the files
// first need them (the files in the order they were added): files complete
// early and roughly in walk order, as in restic's filerestorer.
//
// A file whose blobs are not all in the index, or whose blobs do not add up
// to its size, is refused when it is added and gets no targets: nothing is
// read or written for it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "repo/master_index.h"

namespace ferry {

struct BlobTarget {
  uint32_t file;    // index in RestorePlan::files()
  uint64_t offset;  // where in the file the blob's plaintext goes
};

struct PlannedBlob {
  PackEntry entry;
  std::vector<BlobTarget> targets;
};

struct PlannedPack {
  Id pack_id;
  std::array<uint8_t, kPackSaltSize> salt{};
  std::vector<PlannedBlob> blobs;  // sorted by offset once Finish() ran
};

struct PlannedFile {
  uint64_t size = 0;
  uint64_t targets = 0;  // blobs to write: the length of its content list
  bool refused = false;  // AddFile failed: nothing is planned for it
};

class RestorePlan {
 public:
  // Where a data blob is stored (Repository::FindBlob).
  using BlobLookup = std::function<std::optional<BlobLocation>(const Id& blob)>;

  explicit RestorePlan(BlobLookup lookup) : lookup_(std::move(lookup)) {}

  // Adds the next file (its index is files().size() before the call).
  // Returns why it cannot be restored — a blob not in the index, content that
  // does not add up to `size` — and then plans nothing for it.
  Status AddFile(const std::vector<Id>& content, uint64_t size);
  // Sorts every pack's blobs by offset. Call once, after the last AddFile.
  void Finish();

  const std::vector<PlannedFile>& files() const { return files_; }
  const std::vector<PlannedPack>& packs() const { return packs_; }
  // Distinct blobs to read.
  size_t blob_count() const { return blob_count_; }

 private:
  BlobLookup lookup_;
  std::vector<PlannedFile> files_;
  std::vector<PlannedPack> packs_;
  size_t blob_count_ = 0;
  std::unordered_map<Id, uint32_t, IdHash> pack_positions_;  // pack ID → index in packs_
  // blob ID → (index in packs_, index in that pack's blobs)
  std::unordered_map<Id, std::pair<uint32_t, uint32_t>, IdHash> blob_positions_;
};

}  // namespace ferry
