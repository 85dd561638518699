// Prune: frees what no snapshot uses (restic's prune is the model). Forget
// removes snapshot objects only; the packs their data lived in stay until
// prune finds that no remaining snapshot needs them.
//
//   used     = every tree and data blob reachable from a readable snapshot
//   for each pack an index lists and the repository holds:
//     no used blob          → remove
//     some unused bytes     → candidate for repacking
//   repack candidates, most unused share first, until the unused bytes left
//     are at most max_unused_percent of what is left (and no more than
//     max_repack_bytes are rewritten): their used blobs go into new packs
//   packs the repository holds that no index lists (debris of a backup that
//     died before writing its index) → remove
//   packs an index lists that the repository does not hold are an offline
//     seed's, still on their way: never removed or repacked, their entries kept
//
// Crash safety, by order (docs/format.md, "Prune"): new packs → a new index
// that lists every pack kept and written → the old index objects removed →
// the unused and repacked packs removed. Until the new index is stored the
// old one describes the repository; after it, removed packs are listed by
// no index. A prune killed at any point leaves a valid repository, and the
// next one removes what is left over (packs no index lists).
//
// Prune refuses to start when it cannot know what is used: an index or
// snapshot object that cannot be read (its packs, or the blobs only it
// needs, would be taken for unused), a tree that cannot be loaded, or a
// blob a snapshot needs that no index lists. `ferry check` names them and
// `ferry repair` fixes them first. Callers hold the exclusive lock; on a
// vault, removing needs the machine's maintenance token.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "repo/repository.h"

namespace ferry {

struct PruneOptions {
  // Unused bytes tolerated in packs that stay, as a share of the
  // repository after prune (restic's --max-unused): 5 keeps repacking down.
  double max_unused_percent = 5;
  // The same as an absolute number of bytes; when set, the percentage is not used.
  std::optional<uint64_t> max_unused_bytes;
  // At most this many bytes of used blobs are rewritten (--max-repack-size).
  uint64_t max_repack_bytes = UINT64_MAX;
  bool dry_run = false;
};

struct PruneReport {
  size_t snapshots = 0;
  uint64_t blobs_used = 0;
  uint64_t bytes_used = 0;    // stored bytes of the used blobs
  uint64_t bytes_unused = 0;  // stored bytes of unused blobs in held packs, before
  size_t packs_held = 0;      // packs the repository holds that an index lists
  uint64_t bytes_held = 0;

  size_t packs_removed = 0;  // wholly unused
  uint64_t bytes_removed = 0;
  size_t packs_repacked = 0;
  uint64_t bytes_repacked = 0;        // size of the packs repacked (all freed)
  uint64_t bytes_repack_written = 0;  // size of the packs their used blobs went to
  size_t packs_written = 0;
  size_t packs_debris = 0;  // held, listed by no index
  uint64_t bytes_debris = 0;
  size_t packs_awaiting_seed = 0;   // listed, not held: an offline seed's
  uint64_t bytes_unused_after = 0;  // in the packs that stay
  std::vector<Id> new_indexes;
  std::vector<Id> removed_indexes;

  // Bytes the repository shrank by (or would).
  uint64_t bytes_freed() const {
    uint64_t gone = bytes_removed + bytes_repacked + bytes_debris;
    return gone > bytes_repack_written ? gone - bytes_repack_written : 0;
  }
  bool nothing_to_do() const {
    return packs_removed == 0 && packs_repacked == 0 && packs_debris == 0;
  }
};

using PruneProgress = std::function<void(const std::string&)>;

Result<PruneReport> Prune(Repository& repository, const PruneOptions& options,
                          const PruneProgress& progress);

}  // namespace ferry
