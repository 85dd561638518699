// RepairIndex (repo/repair.h): the index from the packs' own headers.
#include <map>

#include "format/index_file.h"
#include "repo/history_guard.h"
#include "repo/pack_header.h"
#include "repo/repair.h"
#include "repo/repair_internal.h"

namespace ferry {

namespace {

// Index objects stay small enough to read whole on every open: ~44 bytes a
// blob, so at most ~4 MiB each.
constexpr size_t kMaxBlobsPerIndexObject = 100000;

}  // namespace

Result<StoredIndexes> ReadStoredIndexes(Repository& repository) {
  StoredIndexes indexes;
  ASSIGN_OR_RETURN(std::vector<std::string> names,
                   ListNames(repository.backend(), ObjectKind::kIndex));
  for (const std::string& name : names) {
    auto id = Id::FromHex(name);
    if (!id.ok()) continue;  // not an object name: no reader looks at it
    indexes.objects.push_back(*id);
    auto plain = repository.LoadSealed(ObjectKind::kIndex, *id);
    auto packs = plain.ok() ? ParseIndex(*plain) : Result<std::vector<IndexedPack>>(plain.status());
    if (!packs.ok()) {
      if (!IsDamage(packs.status())) return packs.status();
      indexes.damaged.push_back({ObjectKind::kIndex, *id, packs.status().message()});
      continue;
    }
    // The first listing of a pack wins, as in the master index.
    for (IndexedPack& pack : *packs) indexes.packs.emplace(pack.pack_id, std::move(pack));
  }
  return indexes;
}

Status ReplaceIndexes(Repository& repository, const std::vector<IndexedPack>& packs,
                      const std::vector<Id>& old_indexes, RepairIndexReport& report,
                      const RepairProgress& progress) {
  progress("writing the new index");
  std::vector<IndexedPack> batch;
  size_t batch_blobs = 0;
  auto write_batch = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(Id id, repository.SaveSealed(ObjectKind::kIndex, EncodeIndex(batch)));
    report.new_indexes.push_back(id);
    batch.clear();
    batch_blobs = 0;
    return Status::Ok();
  };
  for (const IndexedPack& pack : packs) {
    if (!batch.empty() && batch_blobs + pack.blobs.size() > kMaxBlobsPerIndexObject)
      RETURN_IF_ERROR(write_batch().WithContext("writing index"));
    batch.push_back(pack);
    batch_blobs += pack.blobs.size();
  }
  RETURN_IF_ERROR(write_batch().WithContext("writing index"));
  // Only now that the new index is stored: a crash before this line leaves
  // two indexes that agree, not a repository without one.
  progress("removing the old index");
  RETURN_IF_ERROR(RecordRemovalsAhead(repository.backend(), ObjectKind::kIndex, old_indexes));
  for (const Id& old : old_indexes) {
    Status removed = repository.backend().Remove({ObjectKind::kIndex, old.Hex()});
    if (!removed.ok() && !removed.IsNotFound())
      return removed.WithContext("removing index " + old.Hex() + " (the new index is written)");
    report.removed_indexes.push_back(old);
  }
  return Status::Ok();
}

Result<RepairIndexReport> RepairIndex(Repository& repository, const RepairIndexOptions& options,
                                      const RepairProgress& progress) {
  RepairIndexReport report;
  progress("listing packs");
  std::map<Id, uint64_t> stored;
  RETURN_IF_ERROR(
      repository.backend().List(ObjectKind::kData, [&](const std::string& name, uint64_t size) {
        if (auto id = Id::FromHex(name); id.ok()) stored[*id] = size;
        return Status::Ok();
      }));
  progress("reading the index");
  ASSIGN_OR_RETURN(StoredIndexes indexes, ReadStoredIndexes(repository));

  progress("reading pack headers");
  std::vector<IndexedPack> packs;
  for (const auto& [pack_id, size] : stored) {
    auto listed = indexes.packs.find(pack_id);
    bool is_listed = listed != indexes.packs.end();
    if (is_listed && !options.read_all_packs) {
      packs.push_back(listed->second);
      continue;
    }
    ++report.headers_read;
    auto header = ReadPackHeader(repository, pack_id, size);
    if (!header.ok()) {
      if (!IsDamage(header.status()))
        return header.status().WithContext("reading the header of pack " + pack_id.Hex());
      report.damaged_packs.push_back(pack_id.Hex() + ": " + header.status().message());
      // Its blobs may still be readable where an index says they are:
      // RepairPacks salvages them through that entry.
      if (is_listed) packs.push_back(listed->second);
      continue;
    }
    if (!is_listed) ++report.packs_added;
    packs.push_back(std::move(*header));
  }
  for (const auto& [pack_id, pack] : indexes.packs) {
    if (stored.count(pack_id)) continue;
    report.missing_packs.push_back(pack_id);
    if (!options.forget_missing) packs.push_back(pack);
  }
  report.missing_forgotten = options.forget_missing && !report.missing_packs.empty();
  report.packs_indexed = packs.size();
  if (options.dry_run) return report;
  RETURN_IF_ERROR(ReplaceIndexes(repository, packs, indexes.objects, report, progress));
  return report;
}

}  // namespace ferry
