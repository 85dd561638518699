// Repair: removes or rebuilds what `check` found damaged, in the order check
// prints (restic's `repair` verbs are the model):
//
//   RepairIndex      rebuilds the index from what the packs say about
//                    themselves and replaces every old index object, damaged
//                    ones included;
//   RepairPacks      copies the readable blobs of damaged packs into new packs
//                    and removes the damaged ones (and the index entries that
//                    pointed into them);
//   RepairSnapshots  rewrites each snapshot that references what is gone as a
//                    new snapshot without it, and removes snapshot objects that
//                    cannot be read at all.
//
// Every repair writes what replaces an object before it removes the object, so
// an interrupted repair leaves duplicates (harmless; the next repair or prune
// removes them), never a reference to something that is not there. Repairs
// delete, so callers hold the exclusive lock; on a vault, deleting needs the
// machine's maintenance token (the vault refuses a machine token).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "repo/repository.h"

namespace ferry {

using RepairProgress = std::function<void(const std::string&)>;

struct RepairIndexOptions {
  // Read the header of every pack, not only of packs no readable index lists:
  // also corrects an index whose entries disagree with their pack's header.
  bool read_all_packs = false;
  // Drop the entries of packs that an index lists but the repository does not
  // hold. Off by default: an offline seed's packs are missing until its disks
  // are ingested, and dropping them would orphan every file they hold.
  bool forget_missing = false;
  bool dry_run = false;
};

struct RepairIndexReport {
  size_t packs_indexed = 0;     // packs the new index lists
  size_t headers_read = 0;      // packs whose header was read
  size_t packs_added = 0;       // packs no readable index listed before
  std::vector<Id> new_indexes;  // index objects written
  std::vector<Id> removed_indexes;
  std::vector<std::string> damaged_packs;  // "ID: why" — left for RepairPacks
  std::vector<Id> missing_packs;           // listed, not stored
  bool missing_forgotten = false;          // missing_packs were dropped
};

Result<RepairIndexReport> RepairIndex(Repository& repository, const RepairIndexOptions& options,
                                      const RepairProgress& progress);

struct RepairedPack {
  Id id;
  size_t blobs_salvaged = 0;
  size_t blobs_lost = 0;
  std::vector<std::string> lost;  // "tree blob ID: why"
};

struct RepairPacksReport {
  std::vector<RepairedPack> packs;
  std::vector<Id> new_packs;
  RepairIndexReport index;  // the index rewritten without the removed packs
};

// Repairs the packs `pack_ids` (as `check` names them): their readable,
// authenticated blobs are stored again in new packs, then the index is
// rewritten without them and they are removed. A blob that cannot be read is
// lost; `RepairSnapshots` then rewrites the snapshots that used it.
Result<RepairPacksReport> RepairPacks(Repository& repository, const std::vector<Id>& pack_ids,
                                      bool dry_run, const RepairProgress& progress);

struct RepairSnapshotsOptions {
  // Also remove each original that was rewritten (without it, both remain and
  // `check` still reports the original).
  bool forget = false;
  bool dry_run = false;
};

struct RewrittenSnapshot {
  Id original;
  Id repaired;  // zero in a dry run
  std::vector<std::string>
      changes;  // "/a/b: truncated to 4096 of 9000 bytes (data blob … is missing)"
  bool original_removed = false;
};

struct RepairSnapshotsReport {
  std::vector<RewrittenSnapshot> rewritten;
  std::vector<DamagedObject> removed_damaged;  // snapshot objects that could not be read
  size_t snapshots_intact = 0;
};

// Damage in a snapshot's trees is replaced as restic does: a file whose data
// blob is missing keeps the content before the first missing blob (its size
// says how much), a directory whose tree cannot be loaded becomes empty, and
// each change is reported. The repaired snapshot keeps the original's
// description and adds the tag "repaired".
Result<RepairSnapshotsReport> RepairSnapshots(Repository& repository,
                                              const RepairSnapshotsOptions& options,
                                              const RepairProgress& progress);

}  // namespace ferry
