// FileRestorer: fills the files of a RestorePlan pack by pack.
//
//   workers (FileRestoreOptions::threads), each in turn:
//     take the next pack of the plan (in the plan's order)
//     read its wanted blobs in few large reads (ReadPackBlobs), and for each
//     blob, verified, write it at every (file, offset) of its targets:
//       the first write to a file creates its temporary name (O_EXCL) at
//       full size; all-zero blocks are skipped (RestoredFileWriter)
//       the write of a file's last blob completes it: done(file, OK)
//     a blob that cannot be had fails exactly the files that need it:
//       their temporary files are removed, done(file, why)
//
// So as many packs are being read as there are workers, and memory is about
// one blob per worker. Files with no content (empty ones) are done first.
// Which worker completes a file is whichever writes its last blob; the
// caller's `done` gives it its metadata and its name, and must be
// thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "engine/restore_plan.h"
#include "repo/pack_reader.h"
#include "repo/repository.h"

namespace ferry {

struct FileRestoreOptions {
  int threads = 4;
  const std::atomic<bool>* cancel = nullptr;
  uint64_t max_gap = kDefaultPackReadGap;  // see repo/pack_reader.h
};

class FileRestorer {
 public:
  // `temp_path(file)`: the temporary name file `file` is written under (it
  // must not exist). `done(file, status)`: file `file` is complete and closed
  // (OK), or failed, and its temporary file is gone; called once for every
  // file the plan did not refuse — except, after a cancel, for the files
  // not finished by then, whose temporary files Run removes.
  FileRestorer(Repository& repository, const RestorePlan& plan, const FileRestoreOptions& options,
               std::function<std::string(size_t file)> temp_path,
               std::function<void(size_t file, const Status& status)> done,
               std::atomic<uint64_t>* bytes_written);

  // Returns when every file is done, or after a cancel.
  void Run();

 private:
  class Worker;

  bool Cancelled() const { return options_.cancel && *options_.cancel; }
  std::mutex& LockOf(size_t file) { return locks_[file % kLocks]; }
  // Marks `file` failed (once) and reports it.
  void Fail(size_t file, const Status& status);

  static constexpr size_t kLocks = 64;  // per-file state, striped: files can be millions

  Repository& repository_;
  const RestorePlan& plan_;
  const FileRestoreOptions& options_;
  std::function<std::string(size_t)> temp_path_;
  std::function<void(size_t, const Status&)> done_;
  std::atomic<uint64_t>* bytes_written_;

  std::vector<size_t> empty_files_;
  std::atomic<size_t> next_job_{0};
  std::array<std::mutex, kLocks> locks_;
  // Guarded by LockOf(file):
  std::vector<uint64_t> remaining_;  // targets not yet written
  std::vector<uint8_t> state_;       // kCreated | kFailed
};

}  // namespace ferry
