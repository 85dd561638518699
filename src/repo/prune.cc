#include "repo/prune.h"

#include <algorithm>
#include <deque>
#include <future>
#include <map>
#include <thread>
#include <unordered_set>

#include "format/pack.h"
#include "repo/pack_rewriter.h"
#include "repo/repair.h"
#include "repo/repair_internal.h"
#include "repo/used_blobs.h"
#include "storage/local_backend.h"
#include "util/file_util.h"

namespace ferry {

namespace {

int TypeIndex(BlobType type) { return static_cast<int>(type); }

// What prune learns about one pack an index lists.
struct PackUse {
  const IndexedPack* pack = nullptr;
  bool held = false;  // the repository holds it (else: an offline seed's, on its way)
  uint64_t size = 0;  // as stored
  uint64_t used_bytes = 0;
  uint64_t unused_bytes = 0;
  std::vector<size_t> used_entries;  // indexes into pack->blobs, each blob once
};

// A used blob of a pack being repacked: its payload as stored (compressed),
// verified.
struct MovedBlob {
  const PackEntry* entry;
  Bytes payload;
};

Result<std::vector<MovedBlob>> ReadUsedBlobs(Repository& repository, const PackUse& use) {
  const IndexedPack& pack = *use.pack;
  ASSIGN_OR_RETURN(Bytes whole, repository.backend().Get({ObjectKind::kData, pack.pack_id.Hex()}));
  Bytes pack_key = DerivePackKey(repository.keys().data, pack.salt);
  std::vector<MovedBlob> moved;
  moved.reserve(use.used_entries.size());
  for (size_t i : use.used_entries) {
    const PackEntry& entry = pack.blobs[i];
    std::string what = std::string(BlobTypeName(entry.type)) + " blob " + entry.id.Hex() +
                       " in pack " + pack.pack_id.Hex();
    if (uint64_t{entry.offset} + entry.stored_length > whole.size())
      return Status::Corruption(what +
                                " lies past the end of the pack; run 'ferry check "
                                "--read-data' and 'ferry repair packs'");
    auto payload = OpenBlobPayload(repository.pack_keys(), pack_key, repository.keys().mac, entry,
                                   ByteView(whole).subspan(entry.offset, entry.stored_length));
    if (!payload.ok())
      return payload.status().WithContext(
          what +
          " (prune stopped before removing anything; 'ferry repair packs' salvages what is "
          "readable)");
    moved.push_back({&entry, std::move(*payload)});
  }
  return moved;
}

// Packs are read and their blobs verified (a read, a decryption, a
// decompression and a MAC each) on other threads, a few packs ahead of the
// one being stored; the blobs go into new packs in order, encrypted again but
// not compressed again, which was most of a repack's time.
Status Repack(Repository& repository, const std::vector<PackUse*>& repack, PackRewriter& rewriter,
              const PruneProgress& progress) {
  // Packs being read at once: each holds a whole pack, so this bounds memory.
  const size_t ahead = std::max(2u, std::thread::hardware_concurrency());
  std::deque<std::future<Result<std::vector<MovedBlob>>>> reading;
  size_t next = 0;
  for (size_t n = 0; n < repack.size(); ++n) {
    while (next < repack.size() && reading.size() < ahead) {
      const PackUse* use = repack[next++];
      reading.push_back(std::async(std::launch::async,
                                   [&repository, use] { return ReadUsedBlobs(repository, *use); }));
    }
    progress("repacking pack " + repack[n]->pack->pack_id.Short() + " (" + std::to_string(n + 1) +
             " of " + std::to_string(repack.size()) + ")");
    Result<std::vector<MovedBlob>> blobs = reading.front().get();
    reading.pop_front();
    RETURN_IF_ERROR(blobs.status());  // the futures still reading are waited for as they go
    for (const MovedBlob& blob : *blobs)
      RETURN_IF_ERROR(rewriter.AddPayload(blob.entry->type, blob.entry->id, blob.entry->compression,
                                          blob.entry->raw_length, blob.payload));
  }
  return Status::Ok();
}

}  // namespace

Result<PruneReport> Prune(Repository& repository, const PruneOptions& options,
                          const PruneProgress& progress) {
  PruneReport report;
  Backend& backend = repository.backend();

  progress("listing packs");
  std::map<Id, uint64_t> held;
  RETURN_IF_ERROR(backend.List(ObjectKind::kData, [&](const std::string& name, uint64_t size) {
    if (auto id = Id::FromHex(name); id.ok()) held[*id] = size;
    return Status::Ok();
  }));
  progress("reading the index");
  ASSIGN_OR_RETURN(StoredIndexes indexes, ReadStoredIndexes(repository));
  if (!indexes.damaged.empty())
    return Status::InvalidArgument(
        "index " + indexes.damaged.front().id.Hex() +
        " cannot be read, so prune cannot tell which packs are in use; nothing was removed. "
        "Run 'ferry repair index' first");
  // The master index from what was just read, not read and decrypted again.
  for (const auto& [pack_id, pack] : indexes.packs) repository.index().AddPack(pack);

  progress("reading snapshots");
  ASSIGN_OR_RETURN(std::vector<SnapshotEntry> snapshots, repository.ListSnapshots());
  for (const DamagedObject& damaged : repository.damaged())
    if (damaged.kind == ObjectKind::kSnapshot)
      return Status::InvalidArgument(
          "snapshot " + damaged.id.Hex() +
          " cannot be read, so the data it needs cannot be told from unused data; nothing was "
          "removed. Run 'ferry repair snapshots --forget' (or 'ferry forget' it) first");
  report.snapshots = snapshots.size();

  progress("finding the data of " + std::to_string(snapshots.size()) + " snapshot(s)");
  UsedBlobsOptions search;
  search.progress = [&](uint64_t trees) {
    progress("finding the data of " + std::to_string(snapshots.size()) +
             " snapshot(s): " + std::to_string(trees) + " trees read");
  };
  auto found = FindUsedBlobs(repository, snapshots, search);
  if (!found.ok())
    return found.status().WithContext(
        "prune needs every tree to know what is used; nothing was removed. 'ferry check' "
        "names what is damaged and 'ferry repair snapshots' rewrites the snapshots without it");
  IdSet used[2];
  used[TypeIndex(BlobType::kTree)] = std::move(found->trees);
  used[TypeIndex(BlobType::kData)] = std::move(found->data);
  // Repositories written before blob identity became (type, ID) may hold a
  // tree as a data blob or the reverse (docs/format.md): a used blob found
  // only under the other type is used there.
  for (int type = 0; type < 2; ++type) {
    BlobType as = static_cast<BlobType>(type);
    BlobType other = static_cast<BlobType>(1 - type);
    std::vector<Id> moved;
    for (const Id& id : used[type]) {
      if (repository.index().Contains(as, id)) continue;
      if (!repository.index().Contains(other, id))
        return Status::Corruption(std::string(BlobTypeName(as)) + " blob " + id.Hex() +
                                  " is used by a snapshot but no index lists it; nothing was "
                                  "removed. Run 'ferry check' and 'ferry repair'");
      moved.push_back(id);
    }
    for (const Id& id : moved) used[1 - type].insert(id);
  }
  report.blobs_used = used[0].size() + used[1].size();

  // Each used blob is claimed by one pack: a held one before one still on its
  // way, then in the order of their IDs. Its copies elsewhere are unused.
  std::vector<PackUse> packs;
  packs.reserve(indexes.packs.size());
  for (const auto& [pack_id, pack] : indexes.packs) {
    PackUse use;
    use.pack = &pack;
    auto it = held.find(pack_id);
    use.held = it != held.end();
    use.size = use.held ? it->second : 0;
    packs.push_back(std::move(use));
  }
  std::stable_partition(packs.begin(), packs.end(), [](const PackUse& use) { return use.held; });
  IdSet claimed[2];
  for (PackUse& use : packs) {
    const std::vector<PackEntry>& blobs = use.pack->blobs;
    for (size_t i = 0; i < blobs.size(); ++i) {
      int type = TypeIndex(blobs[i].type);
      if (used[type].count(blobs[i].id) && claimed[type].insert(blobs[i].id).second) {
        use.used_entries.push_back(i);
        use.used_bytes += blobs[i].stored_length;
      } else {
        use.unused_bytes += blobs[i].stored_length;
      }
    }
    if (!use.held) {
      ++report.packs_awaiting_seed;
      continue;
    }
    ++report.packs_held;
    report.bytes_held += use.size;
    report.bytes_used += use.used_bytes;
    report.bytes_unused += use.unused_bytes;
  }

  // Decide: remove the wholly unused, repack the mostly unused.
  std::vector<PackUse*> remove, candidates;
  uint64_t used_staying = 0, unused_staying = 0;
  for (PackUse& use : packs) {
    if (!use.held) continue;
    if (use.used_entries.empty()) {
      remove.push_back(&use);
      ++report.packs_removed;
      report.bytes_removed += use.size;
      continue;
    }
    used_staying += use.used_bytes;
    unused_staying += use.unused_bytes;
    if (use.unused_bytes > 0) candidates.push_back(&use);
  }
  std::stable_sort(candidates.begin(), candidates.end(), [](const PackUse* a, const PackUse* b) {
    // The largest unused share first: the most space for the least copying.
    return static_cast<double>(a->unused_bytes) / static_cast<double>(a->used_bytes + 1) >
           static_cast<double>(b->unused_bytes) / static_cast<double>(b->used_bytes + 1);
  });
  double percent = std::clamp(options.max_unused_percent, 0.0, 100.0);
  double allowed =
      percent >= 100 ? 1e300 : static_cast<double>(used_staying) * percent / (100 - percent);
  if (options.max_unused_bytes) allowed = static_cast<double>(*options.max_unused_bytes);
  std::vector<PackUse*> repack;
  uint64_t repack_bytes = 0;
  for (PackUse* use : candidates) {
    if (static_cast<double>(unused_staying) <= allowed) break;
    if (use->used_bytes > options.max_repack_bytes - repack_bytes) continue;
    repack.push_back(use);
    repack_bytes += use->used_bytes;
    unused_staying -= use->unused_bytes;
    ++report.packs_repacked;
    report.bytes_repacked += use->size;
  }
  report.bytes_unused_after = unused_staying;
  std::vector<Id> debris;
  for (const auto& [pack_id, size] : held) {
    if (indexes.packs.count(pack_id)) continue;
    debris.push_back(pack_id);
    ++report.packs_debris;
    report.bytes_debris += size;
  }

  // Repack: the used blobs of each chosen pack, read and verified, stored again.
  PackRewriter rewriter(repository, options.dry_run);
  RETURN_IF_ERROR(Repack(repository, repack, rewriter, progress));
  RETURN_IF_ERROR(rewriter.Finish());
  report.packs_written = rewriter.packs().size();
  report.bytes_repack_written = rewriter.bytes_written();
  if (options.dry_run) return report;

  // The new index (only when it changes): every pack that stays, held or on
  // its way, and the new ones. Then the old index objects, then the packs.
  if (!remove.empty() || !repack.empty()) {
    std::unordered_set<const PackUse*> gone(remove.begin(), remove.end());
    gone.insert(repack.begin(), repack.end());
    std::vector<IndexedPack> staying;
    for (const PackUse& use : packs)
      if (!gone.count(&use)) staying.push_back(*use.pack);
    staying.insert(staying.end(), rewriter.packs().begin(), rewriter.packs().end());
    RepairIndexReport index_report;
    RETURN_IF_ERROR(ReplaceIndexes(repository, staying, indexes.objects, index_report, progress));
    report.new_indexes = index_report.new_indexes;
    report.removed_indexes = index_report.removed_indexes;
  }
  std::vector<Id> doomed;
  for (const PackUse* use : remove) doomed.push_back(use->pack->pack_id);
  for (const PackUse* use : repack) doomed.push_back(use->pack->pack_id);
  doomed.insert(doomed.end(), debris.begin(), debris.end());
  for (size_t n = 0; n < doomed.size(); ++n) {
    if (n % 100 == 0)
      progress("removing packs (" + std::to_string(n) + " of " + std::to_string(doomed.size()) +
               ")");
    Status removed = backend.Remove({ObjectKind::kData, doomed[n].Hex()});
    if (!removed.ok() && !removed.IsNotFound())
      return removed.WithContext("removing pack " + doomed[n].Hex() +
                                 " (the index no longer lists it; the next prune removes it)");
  }
  // Temp files of writes that were cut off, in a local repository: with the
  // exclusive lock held no other process is writing.
  if (auto* local = dynamic_cast<LocalBackend*>(&backend.Undecorated()))
    RemoveTempFiles(local->Location(), 0);
  return report;
}

}  // namespace ferry
