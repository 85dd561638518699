#include "seed/disk_prep.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "crypto/hash.h"
#include "format/disk_manifest.h"
#include "seed/diskprep_journal.h"
#include "seed/staging.h"
#include "storage/backend.h"
#include "storage/local_backend.h"
#include "util/confined_dir.h"
#include "util/direct_io.h"
#include "util/directory_walk.h"
#include "util/file_util.h"
#include "util/plural.h"
#include "util/printable_name.h"

namespace ferry {

namespace fs = std::filesystem;

namespace {

// Packs copied at once (CopyAndVerify) and the size of their I/Os: on the
// 2-core virtio test VM, four streams of 2 MiB O_DIRECT requests moved
// ~1.3× (reads) to ~1.5× (writes) what one stream of 8 MiB requests did;
// 6 packs in flight measured a little better than 4, and 8 no better.
constexpr size_t kPacksInFlight = 6;
constexpr size_t kCopyChunk = 2u << 20;
// Kept free on every disk for the label, the manifest (~130 bytes per file)
// and its signature, so that they can always be written after the packs.
constexpr uint64_t kReserveBase = 1u << 20;
constexpr uint64_t kReservePerFile = 160;
// A foreign disk is erased only if it can be walked within these bounds (one
// open directory per level; the count bounds the time spent before asking).
constexpr WalkLimits kForeignWalk{128, uint64_t{100} << 20};
// What diskprep writes on a disk is three levels deep: data/XX/ID.
constexpr WalkLimits kOwnDiskWalk{4, kMaxManifestFiles + (1u << 20)};

std::string PackPath(const std::string& root, const Id& id) {
  return root + "/" + ManifestFilePath(id);
}

Result<std::string> RealPath(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (!resolved) return ErrnoStatus("disk " + path, errno);
  std::string out(resolved);
  std::free(resolved);
  return out;
}

bool IsInside(const std::string& inner, const std::string& outer) {
  if (outer == "/") return true;
  return inner == outer || inner.rfind(outer + "/", 0) == 0;
}

// A disk as this run sees it.
struct Disk {
  std::string path;  // as given
  std::string real;  // realpath: what is stored and compared
  // The disk's directory: what is already on it (a label, packs of an earlier
  // run, someone's files) is looked at through it, never following a link.
  std::shared_ptr<ConfinedDir> dir;
  dev_t device = 0;
  uint64_t block = 4096;
  std::string drive_id;  // empty until it is labelled
  bool has_label = false;
  uint64_t quota_left = UINT64_MAX;  // --max-per-disk minus this job's bytes on it
  uint64_t files = 0;                // this job's packs on it, done or planned
};

struct CopyTask {
  Id id;
  uint64_t size = 0;
  size_t disk = 0;
};

class DiskPrep {
 public:
  DiskPrep(const DiskPrepOptions& options, const DiskPrepHooks& hooks, ImportJobClient& jobs,
           DiskPrepProgress& progress)
      : options_(options), hooks_(hooks), jobs_(jobs), progress_(progress) {}

  Result<DiskPrepResult> Run();

 private:
  void Warn(const std::string& message) const {
    if (hooks_.warn) hooks_.warn(message);
  }
  bool Interrupted() const { return options_.interrupted && options_.interrupted->load(); }
  const DiskPrepJournalState& journal() const { return journal_->state(); }

  // The import job this staging already created (nothing: none yet); a job
  // of that name that is not ours is an error.
  Result<std::optional<ImportJobInfo>> FindOwnJob();
  Status TakeDisk(const std::string& path);
  Status EraseForeign(const Disk& disk);
  Status Label(Disk& disk);
  Status ResolveDiskFiles(const std::vector<size_t>& disks);
  Status ReadBack(const Disk& disk, const Id& id, uint64_t size, BufferBytes& buffer);
  Status CheckSource(const Id& id, BufferBytes& buffer);
  std::vector<CopyTask> Place(std::vector<std::pair<Id, uint64_t>>& pending);
  Status CopyPack(const CopyTask& task, BufferBytes& buffer);
  Status CopyAndVerify(const std::vector<CopyTask>& tasks);
  Status SyncPackDirectories(const std::vector<CopyTask>& tasks);
  Status RunDirect();
  Status Finish();
  Status FinishWithJob(const ImportJobInfo& job);

  const DiskPrepOptions& options_;
  const DiskPrepHooks& hooks_;
  ImportJobClient& jobs_;
  DiskPrepProgress& progress_;

  DiskPrepResult result_;
  std::string staging_real_;
  std::optional<DiskPrepJournal> journal_;
  std::map<Id, uint64_t> packs_;       // every pack of the job: staging ∪ journal
  std::mutex done_mutex_;              // guards done_on_ and result_ while copying
  std::map<Id, std::string> done_on_;  // pack → drive ID holding a verified copy
  std::vector<Disk> disks_;
  std::map<dev_t, uint64_t> free_left_;  // per file system: free bytes not yet planned
};

Result<std::optional<ImportJobInfo>> DiskPrep::FindOwnJob() {
  const std::string& name = result_.staging.job;
  ASSIGN_OR_RETURN(std::optional<ImportJobInfo> existing, jobs_.Find(name));
  if (!existing || journal().job_created) return existing;
  // A crash between the POST and its journal record: the job is ours if it
  // carries our key and exactly the manifests we journalled.
  if (journal().job_creating &&
      existing->public_key == Base64Encode(options_.signing_key.public_key) &&
      existing->drives.size() == journal().manifests.size()) {
    bool same = true;
    for (const ImportJobDrive& drive : existing->drives) {
      auto it = journal().manifests.find(drive.drive_id);
      same = same && it != journal().manifests.end() &&
             it->second.manifest_hash == drive.manifest_hash;
    }
    if (same) {
      RETURN_IF_ERROR(journal_->AddJob(name));
      return existing;
    }
  }
  return Status::AlreadyExists(
      "import job " + name + " already exists at the import service (state " + existing->state +
      ") and was not created from this staging directory (" + options_.staging + "/" +
      kDiskPrepJournalFile +
      " does not record it); job names are unique, so this staging cannot be shipped as " + name);
}

Status DiskPrep::TakeDisk(const std::string& path) {
  ASSIGN_OR_RETURN(std::string real, RealPath(path));
  struct stat st;
  if (::stat(real.c_str(), &st) != 0) return ErrnoStatus("disk " + path, errno);
  if (!S_ISDIR(st.st_mode))
    return Status::InvalidArgument("disk " + path +
                                   " is not a directory: give the mount point of the disk");
  if (::access(real.c_str(), W_OK) != 0)
    return ErrnoStatus("disk " + path + " is not writable", errno);
  for (const Disk& other : disks_)
    if (other.real == real)
      return Status::InvalidArgument("disk " + path + " is given twice (" + other.path + ")");
  if (real == staging_real_)
    return Status::InvalidArgument(
        "disk " + path +
        " is the staging directory itself: that is direct-to-device mode, where it must be "
        "the only disk");
  if (IsInside(staging_real_, real) || IsInside(real, staging_real_))
    return Status::InvalidArgument("disk " + path + " and the staging directory " +
                                   options_.staging +
                                   " contain one another: use another disk, or give the staging "
                                   "directory itself as the only --disk (direct-to-device mode)");
  struct statvfs vfs;
  if (::statvfs(real.c_str(), &vfs) != 0) return ErrnoStatus("statvfs " + path, errno);

  Disk disk;
  disk.path = path;
  disk.real = real;
  disk.device = st.st_dev;
  disk.block = std::max<uint64_t>(vfs.f_frsize, 512);
  if (options_.max_per_disk > 0) disk.quota_left = options_.max_per_disk;
  if (!free_left_.count(disk.device))
    free_left_[disk.device] = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  ASSIGN_OR_RETURN(ConfinedDir dir, ConfinedDir::Open(real));
  disk.dir = std::make_shared<ConfinedDir>(std::move(dir));

  auto label_bytes = disk.dir->ReadFile(kDiskLabelFile, kMaxLabelBytes);
  if (label_bytes.ok()) {
    auto label = ParseDiskLabel(*label_bytes);
    if (!label.ok())
      return Status::InvalidArgument("disk " + path + " has a damaged " + kDiskLabelFile + " (" +
                                     label.status().message() +
                                     "): refusing to erase what may be another job's disk; "
                                     "remove the file if the disk is free");
    if (label->job != result_.staging.job)
      return Status::InvalidArgument(
          "disk " + path + " belongs to import job " + label->job + " (drive " + label->drive_id +
          "), not " + result_.staging.job + ": refusing to erase it. Use another disk, or delete " +
          real + "/" + kDiskLabelFile + " once job " + label->job + " is done with it");
    // Ours: a resumed run. Reused as it is.
    disk.drive_id = label->drive_id;
    disk.has_label = true;
    const JournalDisk* known = journal().FindDisk(disk.drive_id);
    if (!known || known->path != real) RETURN_IF_ERROR(journal_->AddDisk(disk.drive_id, real));
  } else if (!label_bytes.status().IsNotFound()) {
    return Status::InvalidArgument("disk " + path + ": " + label_bytes.status().message() +
                                   ": refusing to erase what may be another job's disk; "
                                   "remove the file if the disk is free");
  } else {
    RETURN_IF_ERROR(EraseForeign(disk));
    // What erasing freed is free now.
    if (::statvfs(real.c_str(), &vfs) == 0)
      free_left_[disk.device] =
          std::max(free_left_[disk.device], static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize);
  }
  disks_.push_back(std::move(disk));
  result_.disks_used.push_back(path);
  return Status::Ok();
}

// A disk without our label: anything on it but an empty file system
// (lost+found) is someone's data, erased only when the user confirms. Both
// the count and the erasing are one bounded walk that follows no link
// (util/directory_walk.h): a link is removed, never what it points to, and a tree
// too deep or too large to walk is refused with what to do instead.
Status DiskPrep::EraseForeign(const Disk& disk) {
  uint64_t entries = 0;
  ForeignFiles foreign;
  WalkVisitor count;
  count.visit = [&](const WalkEntry& entry) -> Result<WalkStep> {
    if (entry.depth == 1 && entry.name == "lost+found" && S_ISDIR(entry.st.st_mode))
      return WalkStep::kSkip;
    ++entries;
    if (S_ISDIR(entry.st.st_mode)) return WalkStep::kContinue;
    ++foreign.files;
    if (foreign.examples.size() < ForeignFiles::kMaxExamples)
      foreign.examples.push_back(PrintableName(entry.path));
    if (S_ISREG(entry.st.st_mode)) foreign.bytes += static_cast<uint64_t>(entry.st.st_size);
    return WalkStep::kContinue;
  };
  Status counted = WalkDirectoryTree(disk.dir->fd(), kForeignWalk, count);
  if (!counted.ok())
    return Status::InvalidArgument("disk " + disk.path + " cannot be looked through to erase it (" +
                                   counted.message() +
                                   "): erase it yourself (e.g. make a new file system on it)");
  if (entries == 0) return Status::Ok();
  if (foreign.files > 0) {
    if (!hooks_.confirm_erase)
      return Status::InvalidArgument("disk " + disk.path + " holds " +
                                     Plural(foreign.files, "file that is", "files that are") +
                                     " not ferry's");
    RETURN_IF_ERROR(hooks_.confirm_erase(disk.path, foreign));
  }
  WalkVisitor erase;
  auto remove = [&](const WalkEntry& entry, int flags) -> Status {
    if (::unlinkat(entry.parent_fd, entry.name.c_str(), flags) != 0 && errno != ENOENT)
      return ErrnoStatus("erasing " + PrintableName(entry.path) + " on disk " + disk.path, errno);
    return Status::Ok();
  };
  erase.visit = [&](const WalkEntry& entry) -> Result<WalkStep> {
    if (entry.depth == 1 && entry.name == "lost+found" && S_ISDIR(entry.st.st_mode))
      return WalkStep::kSkip;
    if (S_ISDIR(entry.st.st_mode)) return WalkStep::kContinue;  // emptied, then removed
    RETURN_IF_ERROR(remove(entry, 0));
    return WalkStep::kContinue;
  };
  erase.leave = [&](const WalkEntry& entry) { return remove(entry, AT_REMOVEDIR); };
  RETURN_IF_ERROR(WalkDirectoryTree(disk.dir->fd(), kForeignWalk, erase));
  return SyncDirectory(disk.real);
}

// The label goes on when the disk is first given packs, so that a resume
// recognises it; the journal record comes first, so that a label on a disk
// always has its drive ID in the journal.
Status DiskPrep::Label(Disk& disk) {
  // (A crash may have come between the label and the directories.)
  if (disk.has_label) return LocalBackend(disk.real).CreateDataDirectories();
  disk.drive_id = NewDriveId();
  RETURN_IF_ERROR(journal_->AddDisk(disk.drive_id, disk.real));
  RETURN_IF_ERROR(WriteFileAtomic(disk.real + "/" + kDiskLabelFile,
                                  EncodeDiskLabel({result_.staging.job, disk.drive_id}), 0644));
  disk.has_label = true;
  return LocalBackend(disk.real).CreateDataDirectories();
}

// Through the disk's ConfinedDir: what is read back is the file diskprep
// wrote on this disk, never what a link there points to.
Status DiskPrep::ReadBack(const Disk& disk_info, const Id& id, uint64_t size, BufferBytes& buffer) {
  const std::string& disk = disk_info.path;
  std::string relative = ManifestFilePath(id);
  auto fd = disk_info.dir->OpenFile(relative);
  if (!fd.ok()) return fd.status().WithContext("disk " + disk);
  ASSIGN_OR_RETURN(UncachedReader reader,
                   UncachedReader::Adopt(std::move(*fd), disk + "/" + relative));
  Sha256Stream hash;
  ASSIGN_OR_RETURN(uint64_t read, ReadFileUncached(reader, buffer, [&](ByteView piece) {
                     hash.Update(piece);
                     progress_.bytes_verified += piece.size();
                     return Status::Ok();
                   }));
  if (read != size)
    return Status::Corruption("disk " + disk + ": " + ManifestFilePath(id) + " reads back " +
                              std::to_string(read) + " bytes, but " + std::to_string(size) +
                              " were written: the disk is bad (or was changed meanwhile)");
  Id got = hash.Finish();
  if (got != id)
    return Status::Corruption("disk " + disk + ": " + ManifestFilePath(id) +
                              " reads back with SHA-256 " + got.Short() +
                              "…, not the bytes written under that name: the disk (or its "
                              "cable or USB bridge) is bad; use another disk");
  return Status::Ok();
}

// After a read-back mismatch: was it the disk, or was the staging copy bad?
Status DiskPrep::CheckSource(const Id& id, BufferBytes& buffer) {
  Sha256Stream hash;
  auto read = ReadFileUncached(PackPath(options_.staging, id), buffer, [&](ByteView piece) {
    hash.Update(piece);
    return Status::Ok();
  });
  if (!read.ok()) return read.status();
  Id got = hash.Finish();
  if (got != id)
    return Status::Corruption("staging pack " + options_.staging + "/" + ManifestFilePath(id) +
                              " is damaged (its bytes hash to " + got.Short() +
                              "…, not its name); the disk is not at fault. Repair the staging "
                              "from the source files before shipping");
  return Status::Ok();
}

// Looks at what `disks` hold of this job: temp files of a killed run are
// removed, a file the journal verified on that very disk is trusted, any
// other copy is read back before it counts, duplicates and strays go.
Status DiskPrep::ResolveDiskFiles(const std::vector<size_t>& disks) {
  std::map<Id, std::vector<std::pair<size_t, uint64_t>>> present;
  for (size_t index : disks) {
    Disk& disk = disks_[index];
    if (!disk.has_label) continue;
    // One walk that follows no link. Packs are written below data/XX, so
    // those must be real directories: a link there would send the copies
    // (and their read-backs) off the disk.
    auto not_directory = [&](const WalkEntry& entry) {
      return Status::InvalidArgument("disk " + disk.path + ": " + PrintableName(entry.path) +
                                     " is a " + FileTypeName(entry.st.st_mode) +
                                     ", not a directory: diskprep writes packs only into "
                                     "real directories on the disk; remove it and run again");
    };
    WalkVisitor visitor;
    visitor.visit = [&](const WalkEntry& entry) -> Result<WalkStep> {
      bool dir = S_ISDIR(entry.st.st_mode);
      if (entry.depth == 1) {
        if (entry.name != "data") return WalkStep::kSkip;
        if (!dir) return not_directory(entry);
        return WalkStep::kContinue;
      }
      if (entry.depth == 2) {
        if (!dir && IsPackPrefix(entry.name)) return not_directory(entry);
        return WalkStep::kContinue;
      }
      const std::string& name = entry.name;
      if (IsTempPath(name) && S_ISREG(entry.st.st_mode)) {  // left by a kill: never a copy
        ::unlinkat(entry.parent_fd, name.c_str(), 0);
        return WalkStep::kSkip;
      }
      auto id = Id::FromHex(name);
      std::string prefix = entry.path.substr(5, 2);
      if (!IsObjectId(name) || !id.ok() || !S_ISREG(entry.st.st_mode) ||
          prefix != name.substr(0, 2)) {
        Warn("disk " + disk.path + ": " + PrintableName(entry.path) +
             (S_ISREG(entry.st.st_mode)
                  ? ""
                  : std::string(" (") + FileTypeName(entry.st.st_mode) + ")") +
             " is not a pack of this job; left alone");
        return WalkStep::kSkip;
      }
      present[*id].push_back({index, static_cast<uint64_t>(entry.st.st_size)});
      return WalkStep::kContinue;
    };
    RETURN_IF_ERROR(WalkDirectoryTree(disk.dir->fd(), kOwnDiskWalk, visitor)
                        .WithContext("looking at what disk " + disk.path + " holds"));
  }

  BufferBytes buffer(kCopyChunk);
  for (auto& entry : present) {
    // Not a structured binding: the lambdas below capture it, which clang
    // before 16 refuses (the fuzz build, tests/fuzz/run.sh, uses clang).
    const Id& id = entry.first;
    auto& copies = entry.second;
    auto remove = [&](size_t index, const std::string& why) -> Status {
      Warn("disk " + disks_[index].path + ": " + ManifestFilePath(id) + " " + why + "; removed");
      std::string path = PackPath(disks_[index].real, id);
      if (::unlink(path.c_str()) != 0) return ErrnoStatus("remove " + path, errno);
      return Status::Ok();
    };
    auto pack = packs_.find(id);
    // Prefer the copy the journal verified on that disk.
    std::sort(copies.begin(), copies.end(), [&](const auto& a, const auto& b) {
      auto trusted = [&](const std::pair<size_t, uint64_t>& c) {
        auto v = journal().verified.find(id);
        return v != journal().verified.end() && v->second.drive_id == disks_[c.first].drive_id &&
               v->second.size == c.second;
      };
      return trusted(a) > trusted(b);
    });
    for (const auto& [index, size] : copies) {
      Disk& disk = disks_[index];
      if (pack == packs_.end()) {
        RETURN_IF_ERROR(remove(index, "is not a pack of this staging directory"));
        continue;
      }
      if (done_on_.count(id)) {
        RETURN_IF_ERROR(remove(index, "is already on drive " + done_on_[id]));
        continue;
      }
      auto verified = journal().verified.find(id);
      bool trusted = verified != journal().verified.end() &&
                     verified->second.drive_id == disk.drive_id && verified->second.size == size &&
                     size == pack->second;
      if (!trusted) {
        // On the disk but not journalled: a copy renamed into place just
        // before a kill. Only a read-back makes it count.
        Status checked = size == pack->second
                             ? ReadBack(disk, id, size, buffer)
                             : Status::Corruption("has " + std::to_string(size) + " bytes, not " +
                                                  std::to_string(pack->second));
        if (!checked.ok()) {
          RETURN_IF_ERROR(remove(index, "does not read back correctly (" + checked.message() +
                                            "); it will be copied again"));
          continue;
        }
        RETURN_IF_ERROR(journal_->AddVerified(disk.drive_id, id, size));
        ++result_.packs_reverified;
      } else {
        ++result_.packs_already_done;
      }
      done_on_[id] = disk.drive_id;
      disk.files++;
      if (disk.quota_left != UINT64_MAX) disk.quota_left -= std::min(disk.quota_left, size);
    }
  }
  return Status::Ok();
}

// First fit, largest first: packs are at most a few tens of MiB, so the room
// first fit wastes at the end of a disk is small.
std::vector<CopyTask> DiskPrep::Place(std::vector<std::pair<Id, uint64_t>>& pending) {
  std::sort(pending.begin(), pending.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<CopyTask> tasks;
  std::vector<std::pair<Id, uint64_t>> left;
  for (const auto& [id, size] : pending) {
    bool placed = false;
    for (size_t index = 0; index < disks_.size() && !placed; ++index) {
      Disk& disk = disks_[index];
      uint64_t reserve = kReserveBase + kReservePerFile * (disk.files + 1);
      uint64_t allocated = (size + disk.block - 1) / disk.block * disk.block;
      uint64_t& free = free_left_[disk.device];
      if (free < allocated + reserve) continue;
      if (disk.quota_left != UINT64_MAX && disk.quota_left < size + reserve) continue;
      free -= allocated;
      if (disk.quota_left != UINT64_MAX) disk.quota_left -= size;
      disk.files++;
      tasks.push_back({id, size, index});
      placed = true;
    }
    if (!placed) left.push_back({id, size});
  }
  pending = std::move(left);
  return tasks;
}

// Copies one pack to its disk and proves the copy, end to end on the calling
// thread: staging → DISK/data/XX/ID.tmp-N (both O_DIRECT), fdatasync, rename
// to DISK/data/XX/ID, read back from the device, SHA-256 against the name,
// journal. The directory is fsync'ed later, once per disk (SyncPackDirectories).
Status DiskPrep::CopyPack(const CopyTask& task, BufferBytes& buffer) {
  const Disk& disk = disks_[task.disk];
  std::string source = PackPath(options_.staging, task.id);
  std::string final_path = PackPath(disk.real, task.id);
  // O_DIRECT for the staging read too: buffered reads cost more system CPU
  // (copies, page cache bookkeeping) than the SHA-256 leaves free on small
  // machines, and nothing reads the staging pack again.
  std::string temp = TempPathFor(final_path);
  ASSIGN_OR_RETURN(DirectWriter out, DirectWriter::Create(temp, task.size));
  Status status = [&]() -> Status {
    auto copied = ReadFileUncached(source, buffer, [&](ByteView piece) -> Status {
      if (Interrupted())
        return Status::Interrupted("interrupted; run the same command again to continue");
      RETURN_IF_ERROR(out.Append(piece));
      progress_.bytes_copied += piece.size();
      return Status::Ok();
    });
    RETURN_IF_ERROR(copied.status());  // a missing staging pack is named by its path
    // Only a complete, durable copy may appear under the pack's name.
    RETURN_IF_ERROR(out.Sync());
    RETURN_IF_ERROR(out.Close());
    if (::rename(temp.c_str(), final_path.c_str()) != 0)
      return ErrnoStatus("rename " + temp, errno);
    return Status::Ok();
  }();
  if (!status.ok()) {
    out.Close().IgnoreError();  // the copy is thrown away
    ::unlink(temp.c_str());
    if (status.code() == StatusCode::kNoSpace)
      status = status.WithContext("disk " + disk.path + " is full");
    return status;
  }

  if (hooks_.before_read_back) {
    std::lock_guard lock(done_mutex_);
    hooks_.before_read_back(final_path);
  }
  status = ReadBack(disk, task.id, task.size, buffer);
  if (status.IsCorruption()) {
    Status staged = CheckSource(task.id, buffer);
    if (!staged.ok()) status = staged;
  }
  RETURN_IF_ERROR(status);
  // Journalled before its directory is fsync'ed: a crash may still lose the
  // rename, and the next run then finds no file and copies the pack again.
  RETURN_IF_ERROR(journal_->AddVerified(disk.drive_id, task.id, task.size));
  std::lock_guard lock(done_mutex_);
  done_on_[task.id] = disk.drive_id;
  ++result_.packs_copied;
  result_.bytes_copied += task.size;
  ++progress_.packs_done;
  return Status::Ok();
}

// kPacksInFlight threads each take the next pack and copy it end to end
// (CopyPack). At any moment the packs are at different steps, so the staging
// reads, the disk writes, the fdatasyncs (which the file system merges into
// one journal commit when they overlap), the read-backs and the hashing all
// overlap, and the device always has several requests queued.
Status DiskPrep::CopyAndVerify(const std::vector<CopyTask>& tasks) {
  if (tasks.empty()) return Status::Ok();
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex error_mutex;
  Status first_error;
  auto work = [&] {
    BufferBytes buffer(kCopyChunk);
    while (!stop) {
      size_t t = next++;
      if (t >= tasks.size()) break;
      Status status = CopyPack(tasks[t], buffer);
      if (!status.ok()) {
        std::lock_guard lock(error_mutex);
        if (first_error.ok()) first_error = std::move(status);
        stop = true;
      }
    }
  };
  std::vector<std::thread> workers;
  size_t threads = std::min(kPacksInFlight, tasks.size());
  for (size_t i = 1; i < threads; ++i) workers.emplace_back(work);
  work();
  for (std::thread& worker : workers) worker.join();
  RETURN_IF_ERROR(first_error);
  return SyncPackDirectories(tasks);
}

// The renames of the packs copied to a disk are made durable here, once per
// directory and before any manifest names them, rather than with one more
// journal commit per pack.
Status DiskPrep::SyncPackDirectories(const std::vector<CopyTask>& tasks) {
  std::set<std::string> directories;
  for (const CopyTask& task : tasks) {
    std::string path = PackPath(disks_[task.disk].real, task.id);
    directories.insert(path.substr(0, path.rfind('/')));
  }
  for (const std::string& directory : directories) RETURN_IF_ERROR(SyncDirectory(directory));
  return Status::Ok();
}

// The staging directory is the shipping disk: nothing to copy, but every
// pack is read back from the device before the disk is signed.
Status DiskPrep::RunDirect() {
  result_.direct = true;
  Disk disk;
  disk.path = options_.staging;
  disk.real = staging_real_;
  ASSIGN_OR_RETURN(ConfinedDir dir, ConfinedDir::Open(staging_real_));
  disk.dir = std::make_shared<ConfinedDir>(std::move(dir));
  auto label_bytes = disk.dir->ReadFile(kDiskLabelFile, kMaxLabelBytes);
  if (label_bytes.ok()) {
    ASSIGN_OR_RETURN(DiskLabel label, ParseDiskLabel(*label_bytes));
    if (label.job != result_.staging.job)
      return Status::InvalidArgument("staging " + options_.staging + " is labelled for job " +
                                     label.job + ", not " + result_.staging.job);
    disk.drive_id = label.drive_id;
    disk.has_label = true;
    if (!journal().FindDisk(disk.drive_id))
      RETURN_IF_ERROR(journal_->AddDisk(disk.drive_id, disk.real));
  } else if (!label_bytes.status().IsNotFound()) {
    return label_bytes.status();
  }
  for (const auto& [id, verified] : journal().verified)
    if (verified.drive_id != disk.drive_id)
      return Status::InvalidArgument(
          "packs of this staging were already copied to other disks (drive " + verified.drive_id +
          "): finish with those disks, or move " + options_.staging + "/" + kDiskPrepJournalFile +
          " away to start over");
  disks_.push_back(std::move(disk));
  result_.disks_used.push_back(disks_.back().path);
  RETURN_IF_ERROR(Label(disks_.back()));

  std::vector<std::pair<Id, uint64_t>> todo;
  for (const auto& [id, size] : packs_) {
    auto verified = journal().verified.find(id);
    if (verified != journal().verified.end() && verified->second.size == size) {
      done_on_[id] = disks_.back().drive_id;
      ++result_.packs_already_done;
    } else {
      todo.push_back({id, size});
      progress_.packs_total++;
      progress_.bytes_total += size;
    }
  }
  BufferBytes buffer(kCopyChunk);
  if (hooks_.start_copy && !todo.empty()) hooks_.start_copy();
  for (const auto& [id, size] : todo) {
    if (Interrupted())
      return Status::Interrupted("interrupted; run the same command again to continue");
    if (hooks_.before_read_back) hooks_.before_read_back(PackPath(staging_real_, id));
    RETURN_IF_ERROR(ReadBack(disks_.back(), id, size, buffer));
    RETURN_IF_ERROR(journal_->AddVerified(disks_.back().drive_id, id, size));
    done_on_[id] = disks_.back().drive_id;
    ++result_.packs_reverified;
    ++progress_.packs_done;
  }
  return Status::Ok();
}

// Every pack is verified on some disk: write the manifests, sign them and
// create the import job.
Status DiskPrep::Finish() {
  std::map<std::string, std::vector<ManifestFile>> files;
  for (const auto& [id, drive] : done_on_) files[drive].push_back({id, packs_[id]});

  // Disks in the order they were taken; each must be here to be signed.
  std::vector<std::pair<std::string, const Disk*>> order;
  std::string missing;
  for (const JournalDisk& known : journal().disks) {
    if (!files.count(known.drive_id)) continue;
    const Disk* here = nullptr;
    for (const Disk& disk : disks_)
      if (disk.drive_id == known.drive_id) here = &disk;
    if (!here)
      missing += (missing.empty() ? "" : ", ") + known.drive_id + " (last at " + known.path + ", " +
                 std::to_string(files[known.drive_id].size()) + " packs)";
    order.push_back({known.drive_id, here});
  }
  if (!missing.empty())
    return Status::InvalidArgument(
        "every pack is on a disk, but not every disk is here: " + missing +
        ". Give each of them with --disk (in any order) to write the manifests");
  if (order.size() != files.size())
    return Status::Internal("a drive holds packs but was never journalled as taken");

  // A disk taken in an earlier run that ended up with no packs is not part of
  // the job: take our label off so it is free again.
  for (const Disk& disk : disks_)
    if (disk.has_label && !files.count(disk.drive_id)) {
      std::string label = disk.real + "/" + kDiskLabelFile;
      ::unlink(label.c_str());
      Warn("disk " + disk.path + " is not needed for this job; its ferry label was removed");
    }

  ImportJobRequest request;
  request.name = result_.staging.job;
  request.storage_account = result_.staging.storage_account;
  request.container = result_.staging.container;
  request.public_key = Base64Encode(options_.signing_key.public_key);
  int count = static_cast<int>(order.size());
  for (int n = 0; n < count; ++n) {
    const Disk& disk = *order[static_cast<size_t>(n)].second;
    DiskManifest manifest;
    manifest.job = result_.staging.job;
    manifest.storage_account = result_.staging.storage_account;
    manifest.container = result_.staging.container;
    manifest.repository = result_.staging.repository;
    manifest.drive_id = disk.drive_id;
    manifest.disk_number = n + 1;
    manifest.disk_count = count;
    manifest.files = files[disk.drive_id];  // sorted by ID: done_on_ is a map
    Bytes bytes = EncodeDiskManifest(manifest);
    std::string signature = Base64Encode(Sign(options_.signing_key, bytes)) + "\n";
    RETURN_IF_ERROR(WriteFileAtomic(disk.real + "/" + kManifestFile, bytes, 0644));
    RETURN_IF_ERROR(
        WriteFileAtomic(disk.real + "/" + kManifestSignatureFile, AsBytes(signature), 0644));
    PreparedDisk prepared;
    prepared.drive_id = disk.drive_id;
    prepared.path = disk.path;
    prepared.disk_number = n + 1;
    prepared.disk_count = count;
    prepared.files = manifest.files.size();
    for (const ManifestFile& file : manifest.files) prepared.bytes += file.size;
    prepared.manifest_hash = Sha256(bytes).Hex();
    PreparedDisk record = prepared;
    record.path = disk.real;  // the journal keeps where the disk really is
    auto previous = journal().manifests.find(disk.drive_id);
    if (previous == journal().manifests.end() ||
        previous->second.manifest_hash != record.manifest_hash ||
        previous->second.path != record.path || previous->second.disk_count != count)
      RETURN_IF_ERROR(journal_->AddManifest(record));
    request.drives.push_back({disk.drive_id, prepared.bytes, prepared.manifest_hash});
    result_.disks.push_back(prepared);
  }

  RETURN_IF_ERROR(journal_->AddCreatingJob(request.name));
  ASSIGN_OR_RETURN(ImportJobInfo job, jobs_.Create(request));
  RETURN_IF_ERROR(journal_->AddJob(request.name));
  result_.job = job;
  result_.complete = true;
  return Status::Ok();
}

// A re-run after the job was created: report what the journal recorded.
Status DiskPrep::FinishWithJob(const ImportJobInfo& job) {
  result_.job_existed = true;
  result_.complete = true;
  result_.job = job;
  std::vector<PreparedDisk> manifests;
  for (const auto& [drive, manifest] : journal().manifests) manifests.push_back(manifest);
  std::sort(manifests.begin(), manifests.end(),
            [](const auto& a, const auto& b) { return a.disk_number < b.disk_number; });
  for (const PreparedDisk& m : manifests) {
    bool in_job = false;
    for (const ImportJobDrive& drive : job.drives) in_job = in_job || drive.drive_id == m.drive_id;
    if (in_job) result_.disks.push_back(m);
  }
  return Status::Ok();
}

Result<DiskPrepResult> DiskPrep::Run() {
  ASSIGN_OR_RETURN(result_.staging, ReadStagingInfo(options_.staging));
  ASSIGN_OR_RETURN(staging_real_, RealPath(options_.staging));
  ASSIGN_OR_RETURN(DiskPrepJournal opened,
                   DiskPrepJournal::Open(staging_real_ + "/" + kDiskPrepJournalFile));
  journal_.emplace(std::move(opened));

  ASSIGN_OR_RETURN(std::optional<ImportJobInfo> job, FindOwnJob());
  if (job) {
    RETURN_IF_ERROR(FinishWithJob(*job));
    return std::move(result_);
  }

  ASSIGN_OR_RETURN(std::vector<StagedPack> staged, ListStagedPacks(options_.staging));
  for (const StagedPack& pack : staged) packs_[pack.id] = pack.size;
  for (const auto& [id, verified] : journal_->state().verified)
    packs_.emplace(id, verified.size);  // on a disk already, even if staging lost it
  if (packs_.empty())
    return Status::InvalidArgument("staging " + options_.staging +
                                   " holds no packs: nothing to put on disks");

  bool direct = false;
  for (const std::string& path : options_.disks) {
    auto real = RealPath(path);
    if (real.ok() && *real == staging_real_) direct = true;
  }
  if (direct) {
    if (options_.disks.size() != 1)
      return Status::InvalidArgument(
          "the staging directory is given as a disk (direct-to-device mode): then it must be "
          "the only --disk");
    RETURN_IF_ERROR(RunDirect());
    RETURN_IF_ERROR(Finish());
    return std::move(result_);
  }

  if (options_.disks.empty() && !hooks_.another_disk)
    return Status::InvalidArgument("no disks given: name each with --disk PATH");
  std::vector<size_t> taken;
  for (const std::string& path : options_.disks) {
    RETURN_IF_ERROR(TakeDisk(path));
    taken.push_back(disks_.size() - 1);
  }
  // Drives of an earlier run that are not here: what the journal verified on
  // them stays there (the disk may be on its way or just unplugged).
  std::map<std::string, bool> here;
  for (const Disk& disk : disks_) here[disk.drive_id] = true;
  for (const auto& [id, verified] : journal().verified)
    if (!here.count(verified.drive_id) && journal().FindDisk(verified.drive_id)) {
      done_on_[id] = verified.drive_id;
      ++result_.packs_already_done;
    }
  RETURN_IF_ERROR(ResolveDiskFiles(taken));

  std::vector<std::pair<Id, uint64_t>> pending;
  for (const auto& [id, size] : packs_)
    if (!done_on_.count(id)) pending.push_back({id, size});
  std::vector<CopyTask> tasks = Place(pending);
  while (!pending.empty() && hooks_.another_disk) {
    uint64_t bytes = 0;
    for (const auto& pack : pending) bytes += pack.second;
    std::optional<std::string> path = hooks_.another_disk(pending.size(), bytes);
    if (!path) break;
    Status took = TakeDisk(*path);
    if (!took.ok()) {  // a prompted disk may be refused: say why and ask again
      Warn(took.message());
      continue;
    }
    RETURN_IF_ERROR(ResolveDiskFiles({disks_.size() - 1}));
    std::erase_if(pending, [&](const auto& pack) { return done_on_.count(pack.first) > 0; });
    for (CopyTask& task : Place(pending)) tasks.push_back(task);
  }
  std::set<size_t> labelled;  // once per disk: Label syncs the disk's directories
  for (const CopyTask& task : tasks) {
    if (labelled.insert(task.disk).second) RETURN_IF_ERROR(Label(disks_[task.disk]));
    progress_.packs_total++;
    progress_.bytes_total += task.size;
  }
  progress_.bytes_verified = 0;  // read-backs of found copies above are not this run's total
  if (hooks_.start_copy && !tasks.empty()) hooks_.start_copy();
  RETURN_IF_ERROR(CopyAndVerify(tasks));

  if (!pending.empty()) {
    result_.packs_left = pending.size();
    for (const auto& pack : pending) result_.bytes_left += pack.second;
    return std::move(result_);
  }
  RETURN_IF_ERROR(Finish());
  return std::move(result_);
}

}  // namespace

Result<DiskPrepResult> PrepareDisks(const DiskPrepOptions& options, const DiskPrepHooks& hooks,
                                    ImportJobClient& jobs, DiskPrepProgress& progress) {
  DiskPrep run(options, hooks, jobs, progress);
  return run.Run();
}

}  // namespace ferry
