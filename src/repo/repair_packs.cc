// RepairPacks (repo/repair.h): salvage the readable blobs of damaged packs.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "crypto/hash.h"
#include "repo/pack_header.h"
#include "repo/pack_rewriter.h"
#include "repo/repair.h"
#include "repo/repair_internal.h"

namespace ferry {

namespace {

std::string BlobName(const PackEntry& entry) {
  return std::string(BlobTypeName(entry.type)) + " blob " + entry.id.Hex();
}

}  // namespace

Result<RepairPacksReport> RepairPacks(Repository& repository, const std::vector<Id>& pack_ids,
                                      bool dry_run, const RepairProgress& progress) {
  RepairPacksReport report;
  std::map<Id, uint64_t> stored;
  RETURN_IF_ERROR(
      repository.backend().List(ObjectKind::kData, [&](const std::string& name, uint64_t size) {
        if (auto id = Id::FromHex(name); id.ok()) stored[*id] = size;
        return Status::Ok();
      }));
  ASSIGN_OR_RETURN(StoredIndexes indexes, ReadStoredIndexes(repository));
  // The index is rewritten from the readable index objects: packs that only a
  // damaged one lists would drop out of it.
  if (!indexes.damaged.empty())
    return Status::InvalidArgument("index " + indexes.damaged.front().id.Hex() +
                                   " is damaged; run 'ferry repair index' first");
  std::set<Id> targets(pack_ids.begin(), pack_ids.end());
  for (const Id& id : targets)
    if (!stored.count(id))
      return Status::NotFound("pack " + id.Hex() + " is not in the repository" +
                              (indexes.packs.count(id)
                                   ? "; 'ferry repair index --forget-missing' drops its index "
                                     "entries"
                                   : ""));

  // A blob that another pack also holds needs no salvage.
  std::unordered_set<Id, IdHash> elsewhere[2];
  for (const auto& [pack_id, pack] : indexes.packs)
    if (!targets.count(pack_id))
      for (const PackEntry& blob : pack.blobs)
        elsewhere[static_cast<int>(blob.type)].insert(blob.id);

  PackRewriter writer(repository, dry_run);
  for (const Id& pack_id : targets) {
    progress("salvaging pack " + pack_id.Hex());
    RepairedPack repaired;
    repaired.id = pack_id;
    auto listed = indexes.packs.find(pack_id);
    IndexedPack pack;
    if (listed != indexes.packs.end()) {
      pack = listed->second;
    } else {
      auto header = ReadPackHeader(repository, pack_id, stored[pack_id]);
      if (!header.ok() && !IsDamage(header.status())) return header.status();
      // Neither an index nor its own header says what is in it: nothing to
      // salvage, and nothing restorable refers to it.
      if (header.ok()) pack = std::move(*header);
      if (!header.ok()) repaired.lost.push_back("its header: " + header.status().message());
    }
    if (!pack.blobs.empty()) {
      ASSIGN_OR_RETURN(Bytes whole, repository.backend().Get({ObjectKind::kData, pack_id.Hex()}));
      Bytes pack_key = DerivePackKey(repository.keys().data, pack.salt);
      std::set<std::pair<int, Id>> seen;
      for (const PackEntry& entry : pack.blobs) {
        if (!seen.insert({static_cast<int>(entry.type), entry.id}).second) continue;
        if (uint64_t{entry.offset} + entry.stored_length > whole.size()) {
          ++repaired.blobs_lost;
          repaired.lost.push_back(BlobName(entry) + ": lies past the end of the pack");
          continue;
        }
        auto plain = OpenBlob(repository.pack_keys(), pack_key, repository.keys().mac, entry,
                              ByteView(whole).subspan(entry.offset, entry.stored_length));
        if (!plain.ok()) {
          if (!IsDamage(plain.status())) return plain.status().WithContext(BlobName(entry));
          ++repaired.blobs_lost;
          std::string problem = plain.status().message();
          if (std::string named = "blob " + entry.id.Hex() + ": "; problem.rfind(named, 0) == 0)
            problem.erase(0, named.size());
          repaired.lost.push_back(BlobName(entry) + ": " + problem);
          continue;
        }
        ++repaired.blobs_salvaged;
        if (elsewhere[static_cast<int>(entry.type)].insert(entry.id).second)
          RETURN_IF_ERROR(writer.Add(entry.type, entry.id, *plain));
      }
    }
    report.packs.push_back(std::move(repaired));
  }
  RETURN_IF_ERROR(writer.Finish());
  for (const IndexedPack& pack : writer.packs()) report.new_packs.push_back(pack.pack_id);

  std::vector<IndexedPack> packs;
  for (const auto& [pack_id, pack] : indexes.packs)
    if (!targets.count(pack_id)) packs.push_back(pack);
  packs.insert(packs.end(), writer.packs().begin(), writer.packs().end());
  report.index.packs_indexed = packs.size();
  if (dry_run) return report;
  // New packs and the index without the damaged ones first, then the removal:
  // at no point does an index list a pack that is gone.
  RETURN_IF_ERROR(ReplaceIndexes(repository, packs, indexes.objects, report.index, progress));
  for (const Id& pack_id : targets) {
    progress("removing pack " + pack_id.Hex());
    Status removed = repository.backend().Remove({ObjectKind::kData, pack_id.Hex()});
    if (!removed.ok() && !removed.IsNotFound())
      return removed.WithContext("removing pack " + pack_id.Hex() +
                                 " (its readable blobs are stored again and indexed)");
  }
  return report;
}

}  // namespace ferry
