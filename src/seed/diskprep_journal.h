// STAGING/diskprep.journal: what `ferry diskprep` has done, so that a re-run
// after a crash, a kill -9 or full disks continues where it stopped and never
// copies a verified pack again.
//
// One JSON object per line, appended and fdatasync'ed before the step counts
// as done (docs/seeding.md, "diskprep"):
//
//   {"op":"disk","drive_id":D,"path":P}             disk P taken and labelled D
//   {"op":"verified","drive_id":D,"id":ID,"size":N}  pack ID read back correctly from D
//   {"op":"manifest","drive_id":D,"path":P,"disk":n,"disks":N,"files":F,"bytes":B,
//    "hash":SHA-256 of the manifest}                  manifest and signature written
//   {"op":"creating_job","name":J}                    about to POST the import job
//   {"op":"job","name":J}                             the import service created it
//
// The journal is a cache of facts, not the truth about disks: a resume still
// looks at every disk (a journalled pack whose file is gone is copied again).
// A last line torn by a crash is cut off when the journal is opened.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "seed/prepared_disk.h"
#include "util/id.h"
#include "util/status.h"

namespace ferry {

constexpr char kDiskPrepJournalFile[] = "diskprep.journal";

struct JournalDisk {
  std::string drive_id;
  std::string path;  // where it was mounted when last seen
};

struct JournalVerified {
  std::string drive_id;
  uint64_t size = 0;
};

struct DiskPrepJournalState {
  std::vector<JournalDisk> disks;                 // in the order they were taken
  std::map<Id, JournalVerified> verified;         // the last record for a pack wins
  std::map<std::string, PreparedDisk> manifests;  // by drive ID, the last one wins
  bool job_creating = false;
  bool job_created = false;

  const JournalDisk* FindDisk(const std::string& drive_id) const;
};

class DiskPrepJournal {
 public:
  ~DiskPrepJournal();
  DiskPrepJournal(DiskPrepJournal&& other) noexcept;
  DiskPrepJournal& operator=(DiskPrepJournal&&) = delete;
  DiskPrepJournal(const DiskPrepJournal&) = delete;
  DiskPrepJournal& operator=(const DiskPrepJournal&) = delete;

  // Opens (creating if needed) the journal at `path` and replays it. A torn
  // last line is removed; a malformed line before it is Corruption.
  static Result<DiskPrepJournal> Open(const std::string& path);

  // Each appends one record durably and updates state(). Thread-safe.
  Status AddDisk(const std::string& drive_id, const std::string& path);
  Status AddVerified(const std::string& drive_id, const Id& id, uint64_t size);
  Status AddManifest(const PreparedDisk& manifest);
  Status AddCreatingJob(const std::string& name);
  Status AddJob(const std::string& name);

  // REQUIRES: no Add* runs concurrently with the caller's use of the result.
  const DiskPrepJournalState& state() const { return state_; }

 private:
  DiskPrepJournal(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Status Append(const std::string& line);

  int fd_ = -1;
  std::string path_;
  std::mutex mutex_;
  DiskPrepJournalState state_;
};

}  // namespace ferry
