// Archiver: the backup pipeline, from paths on disk to a snapshot.
//
//   walker (this thread) ── FileJob queue (bounded) ──▶ N file workers
//     lists a directory,                                 read + chunk + MAC,
//     reuses unchanged files from the parent snapshot,   Repository::SaveBlob
//     recurses into subdirectories                       (dedup, compress, encrypt, pack)
//
// A directory's tree is saved when its last child completes (a per-directory
// pending counter), by whichever thread completes it; so the walker never
// waits for a directory's files and the pipeline never drains. Memory is bounded
// by the queue, one read buffer and one pack per worker, and the listings of
// the directories still open.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/backup_progress.h"
#include "engine/exclude_filter.h"
#include "repo/repository.h"

namespace ferry {

struct BackupOptions {
  std::vector<std::string> paths;
  ExcludeFilter excludes;
  bool one_file_system = false;
  std::vector<std::string> tags;
  std::string hostname;            // empty: this host's name
  std::optional<Id> parent;        // empty: the latest snapshot of the same host and paths
  bool force_read = false;         // read every file even if the parent says it is unchanged
  std::optional<int64_t> time_ns;  // the snapshot's time (restic's --time); empty: now
  int threads = 0;                 // file workers; 0: one per core (at least 2)
  const std::atomic<bool>* cancel = nullptr;  // set from a signal handler to stop early
  // Runs after the last pack and index are stored, before the snapshot is
  // written: an offline backup registers its staged packs with the vault here,
  // so that no snapshot ever refers to packs the vault does not expect.
  std::function<Status()> before_snapshot;
};

struct BackupResult {
  Id snapshot_id;
  Snapshot snapshot;
  uint64_t packs_written = 0;
  uint64_t blobs_new = 0;
  double seconds = 0;
};

// Runs a backup and saves its snapshot. An unreadable file is reported through
// `warn`, left out, and the snapshot is marked incomplete; any repository error
// fails the whole backup (and no snapshot is written).
Result<BackupResult> RunBackup(Repository& repository, const BackupOptions& options,
                               BackupProgress& progress,
                               const std::function<void(const std::string&)>& warn);

// The absolute, normalised form of a path given on the command line.
std::string AbsolutePath(const std::string& path);

}  // namespace ferry
