#include "engine/restorer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "chunk/chunker.h"
#include "engine/archiver.h"
#include "engine/file_metadata.h"
#include "engine/file_restorer.h"
#include "engine/restore_plan.h"
#include "repo/tree_prefetcher.h"
#include "repo/tree_walker.h"
#include "util/file_util.h"

namespace ferry {

namespace {

struct PlannedEntry {
  std::string path;  // destination
  std::string snapshot_path;
  Node node;
  size_t depth = 0;
  // A second name of a hard-linked inode: the index in entries_ of the first.
  std::optional<size_t> hard_link_to;
  // Set once, by the one thread that restores the entry.
  bool failed = false;
  bool restored = false;
};

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The nearest existing directory at or above `path`, whose file system the
// restore will write to.
std::string ExistingAncestor(std::string path) {
  struct stat st;
  while (path.size() > 1 && ::stat(path.c_str(), &st) != 0) path = ParentOf(path);
  return path;
}

class Restore {
 public:
  Restore(Repository& repository, const RestoreOptions& options, RestoreProgress& progress,
          const std::function<void(const std::string&)>& warn)
      : repository_(repository), options_(options), progress_(progress), warn_(warn) {
    for (const std::string& include : options.includes) includes_.push_back(AbsolutePath(include));
  }

  Result<RestoreResult> Run(const Snapshot& snapshot) {
    std::string target = AbsolutePath(options_.target);
    RETURN_IF_ERROR(Plan(snapshot.tree, target == "/" ? "" : target));
    if (entries_.empty() && !includes_.empty() && failures_.empty())
      return Status::NotFound("no path in the snapshot matches the --include paths");
    RETURN_IF_ERROR(CheckConflicts());
    RETURN_IF_ERROR(CheckFreeSpace(target));
    RETURN_IF_ERROR(MakeDirectories(target, 0755));
    RETURN_IF_ERROR(CreateEntries());
    FillFiles();
    if (Cancelled()) return Status::Interrupted("restore interrupted");
    CreateHardLinks();
    // Directories last, deepest first: their own entries changed their times.
    std::vector<const PlannedEntry*> directories;
    for (const PlannedEntry& entry : entries_)
      if (entry.node.type == NodeType::kDirectory && !entry.failed) directories.push_back(&entry);
    std::stable_sort(directories.begin(), directories.end(),
                     [](auto* a, auto* b) { return a->depth > b->depth; });
    for (const PlannedEntry* entry : directories) {
      Status status = ApplyNodeMetadata(entry->path, entry->node);
      if (!status.ok()) Warning(status.message());
    }
    result_.warnings = warnings_;
    result_.failures = std::move(failures_);
    return result_;
  }

 private:
  bool Cancelled() const { return options_.cancel && *options_.cancel; }
  void Warning(const std::string& message) {
    std::lock_guard lock(mutex_);
    ++warnings_;
    warn_(message);
  }
  // `path` is the path in the snapshot: the one the user knows.
  void Failure(const std::string& path, const std::string& reason) {
    std::string message = (path.empty() ? "/" : path) + ": not restored: " + reason;
    std::lock_guard lock(mutex_);
    failures_.push_back(message);
    warn_(message);
  }

  enum class Selection { kNone, kAncestor, kAll };
  Selection Select(const std::string& snapshot_path) const {
    if (includes_.empty()) return Selection::kAll;
    Selection best = Selection::kNone;
    for (const std::string& include : includes_) {
      if (include == "/" || snapshot_path == include || snapshot_path.rfind(include + "/", 0) == 0)
        return Selection::kAll;
      if (include.rfind(snapshot_path + "/", 0) == 0) best = Selection::kAncestor;
    }
    return best;
  }

  Status Plan(const Id& root, const std::string& target) {
    TreeWalkCallbacks callbacks;
    callbacks.node = [&](const std::string& snapshot_path, const Node& node) {
      Selection selection = Select(snapshot_path);
      if (selection == Selection::kNone) return false;
      if (selection == Selection::kAncestor && node.type != NodeType::kDirectory) return false;
      PlannedEntry entry;
      entry.path = target + snapshot_path;
      entry.snapshot_path = snapshot_path;
      entry.depth =
          static_cast<size_t>(std::count(snapshot_path.begin(), snapshot_path.end(), '/'));
      if (node.type == NodeType::kFile && node.links > 1) {
        auto key = std::make_pair(node.device, node.inode);
        auto [it, inserted] = hard_links_.emplace(key, entries_.size());
        if (!inserted) entry.hard_link_to = it->second;
      }
      if (node.type == NodeType::kFile && !entry.hard_link_to) {
        ++progress_.files_total;
        progress_.bytes_total += node.size;
      }
      entry.node = node;
      entries_.push_back(std::move(entry));
      return true;
    };
    callbacks.tree_error = [&](const std::string& path, const Id&, const Status& status) {
      Failure(path, "its directory listing cannot be read: " + status.message());
    };
    // Trees are read ahead in batches: on an object store a few requests per
    // level instead of one per directory. With --include only one level
    // ahead: most of the snapshot is not walked.
    TreePrefetcher trees(repository_, includes_.empty() ? kMaxTreeDepth : 1);
    return WalkTrees([&](const Id& id) { return trees.Load(id); }, root, callbacks,
                     options_.cancel);
  }

  Status CheckConflicts() {
    if (options_.overwrite) return Status::Ok();
    std::vector<std::string> existing;
    for (const PlannedEntry& entry : entries_) {
      struct stat st;
      if (::lstat(entry.path.c_str(), &st) != 0) continue;
      if (entry.node.type == NodeType::kDirectory && S_ISDIR(st.st_mode)) continue;
      existing.push_back(entry.path);
    }
    if (existing.empty()) return Status::Ok();
    std::string message = "restore would overwrite " + existing.front();
    if (existing.size() > 1) message += " and " + std::to_string(existing.size() - 1) + " more";
    return Status::AlreadyExists(message + "; pass --overwrite to replace them");
  }

  // The bytes the files will take, against what the target's file system has
  // for us (f_bavail: without the blocks reserved for root). Files are sparse:
  // chunks of all zeros are never written, so when the plain sum does not fit,
  // the zero chunks are taken out before refusing (runs of zeros come as
  // chunks of one length, found by chunking zeros with the repository's own
  // chunker). Files that --overwrite replaces give their blocks back.
  Status CheckFreeSpace(const std::string& target) {
    uint64_t need = 0;
    uint64_t freed = 0;
    for (const PlannedEntry& entry : entries_) {
      if (entry.node.type != NodeType::kFile || entry.hard_link_to) continue;
      need += entry.node.size;
      struct stat st;
      if (options_.overwrite && ::lstat(entry.path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          st.st_nlink == 1)
        freed += static_cast<uint64_t>(st.st_blocks) * 512;
    }
    std::string where = ExistingAncestor(target);
    struct statvfs fs;
    if (::statvfs(where.c_str(), &fs) != 0) return ErrnoStatus("statvfs " + where, errno);
    uint64_t available = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize + freed;
    if (need <= available) return Status::Ok();
    need -= std::min(need, ZeroChunkBytes());
    if (need <= available) return Status::Ok();
    return Status::NoSpace("not enough space to restore into " + target + ": the files need " +
                           std::to_string(need) + " bytes (" + HumanBytes(need) + "), " + where +
                           " has " + std::to_string(available) + " bytes (" +
                           HumanBytes(available) +
                           ") available; nothing was written (free space, or restore part of "
                           "the snapshot with --include)");
  }

  uint64_t ZeroChunkBytes() {
    const ChunkerParams& params = repository_.config().chunker;
    Chunker chunker(repository_.keys().chunker, params);
    Bytes zeros(params.max_size, 0);
    size_t length = chunker.NextBoundary(zeros, true);
    zeros.resize(length);
    Id zero_chunk = repository_.BlobId(zeros);
    uint64_t bytes = 0;
    for (const PlannedEntry& entry : entries_) {
      if (entry.node.type != NodeType::kFile || entry.hard_link_to) continue;
      for (const Id& id : entry.node.content)
        if (id == zero_chunk) bytes += length;
    }
    return bytes;
  }

  Status RemoveExisting(const PlannedEntry& entry) {
    struct stat st;
    if (::lstat(entry.path.c_str(), &st) != 0) return Status::Ok();
    if (S_ISDIR(st.st_mode)) {
      if (entry.node.type == NodeType::kDirectory) return Status::Ok();
      std::error_code error;
      std::filesystem::remove_all(entry.path, error);
      if (error) return Status::IOError("remove " + entry.path + ": " + error.message());
      return Status::Ok();
    }
    if (::unlink(entry.path.c_str()) != 0) return ErrnoStatus("remove " + entry.path, errno);
    return Status::Ok();
  }

  Status CreateEntries() {
    // Entries are in walk order, a directory before what is inside it: below
    // a directory that could not be made, nothing is attempted (its failure
    // names it).
    std::string failed_directory;
    for (PlannedEntry& entry : entries_) {
      if (!failed_directory.empty() && entry.path.rfind(failed_directory + "/", 0) == 0) {
        entry.failed = true;
        continue;
      }
      const Node& node = entry.node;
      const char* path = entry.path.c_str();
      // A file replaces what is there by rename, once complete, so a failed
      // restore leaves the old file; only a directory in its way goes first.
      bool replaced_later = node.type == NodeType::kFile;
      struct stat st;
      Status status;
      if (!replaced_later || (::lstat(path, &st) == 0 && S_ISDIR(st.st_mode)))
        status = RemoveExisting(entry);
      if (status.ok()) {
        switch (node.type) {
          case NodeType::kDirectory:
            if (::mkdir(path, 0700) != 0 && errno != EEXIST)
              status = ErrnoStatus("mkdir " + entry.path, errno);
            else
              ++result_.directories;
            break;
          case NodeType::kFile:
            if (!entry.hard_link_to) files_.push_back(&entry);
            break;
          case NodeType::kSymlink:
            if (::symlink(node.link_target.c_str(), path) != 0)
              status = ErrnoStatus("create symlink " + entry.path, errno);
            else
              status = ApplyNodeMetadata(entry.path, node);
            ++result_.other;
            break;
          case NodeType::kFifo:
            if (::mkfifo(path, 0600) != 0)
              status = ErrnoStatus("create fifo " + entry.path, errno);
            else
              status = ApplyNodeMetadata(entry.path, node);
            ++result_.other;
            break;
          case NodeType::kCharDevice:
          case NodeType::kBlockDevice: {
            mode_t kind = node.type == NodeType::kCharDevice ? S_IFCHR : S_IFBLK;
            if (::mknod(path, kind | 0600, static_cast<dev_t>(node.rdev)) != 0)
              status = ErrnoStatus("create device node " + entry.path, errno);
            else
              status = ApplyNodeMetadata(entry.path, node);
            ++result_.other;
            break;
          }
          case NodeType::kSocket:
            break;  // a socket is only meaningful to the process that bound it
        }
      }
      if (status.ok()) continue;
      if (node.type == NodeType::kDirectory) {
        entry.failed = true;
        failed_directory = entry.path;
        Failure(entry.snapshot_path, status.message());
      } else if (node.type == NodeType::kFile) {
        entry.failed = true;
        Failure(entry.snapshot_path, status.message());
      } else {
        Warning(status.message());
      }
    }
    return Status::Ok();
  }

  // Plans every file's blobs by pack, then reads each pack once and writes
  // its blobs wherever they go (FileRestorer).
  void FillFiles() {
    RestorePlan plan([&](const Id& blob) { return repository_.FindBlob(BlobType::kData, blob); });
    for (PlannedEntry* entry : files_) {
      Status planned = plan.AddFile(entry->node.content, entry->node.size);
      if (!planned.ok()) {
        entry->failed = true;
        Failure(entry->snapshot_path, planned.message());
      }
    }
    plan.Finish();
    // Writers of large files wait for the device (O_DIRECT), and readers for
    // an object store, so one worker per core leaves cores idle: three per
    // core keep them busy (2.1 GB on 2 cores: 5.5-7.2 s with 2 writers,
    // 4.2-4.5 s with 4 to 12).
    FileRestoreOptions options;
    options.threads = options_.threads > 0
                          ? options_.threads
                          : std::max(4, 3 * static_cast<int>(std::thread::hardware_concurrency()));
    options.cancel = options_.cancel;
    // Short, so that a name of NAME_MAX bytes does not matter; the PID keeps
    // two restores into one target apart.
    std::string pid = std::to_string(::getpid());
    auto temp_path = [&](size_t file) {
      return ParentOf(files_[file]->path) + "/.ferry-restore-" + pid + "-" + std::to_string(file);
    };
    auto done = [&](size_t file, const Status& written) {
      FinishFile(*files_[file], temp_path(file), written);
    };
    FileRestorer(repository_, plan, options, temp_path, done, &progress_.bytes_done).Run();
  }

  // The file's content is in `temp` (if `written` is OK): it gets its
  // metadata and its name.
  void FinishFile(PlannedEntry& entry, const std::string& temp, const Status& written) {
    Status status = written;
    if (status.ok()) status = ApplyNodeMetadata(temp, entry.node);
    if (status.ok() && ::rename(temp.c_str(), entry.path.c_str()) != 0)
      status = ErrnoStatus("rename " + temp + " to " + entry.path, errno);
    if (!status.ok()) {
      if (written.ok()) ::unlink(temp.c_str());
      entry.failed = true;
      Failure(entry.snapshot_path, status.message());
      return;
    }
    entry.restored = true;
    ++progress_.files_done;
    std::lock_guard lock(mutex_);
    ++result_.files;
    result_.bytes += entry.node.size;
  }

  void CreateHardLinks() {
    for (PlannedEntry& entry : entries_) {
      if (!entry.hard_link_to || entry.failed) continue;
      const PlannedEntry& first = entries_[*entry.hard_link_to];
      Status status;
      if (!first.restored)
        status = Status::NotFound("it is a hard link to " + first.snapshot_path +
                                  ", which was not restored");
      if (status.ok()) status = RemoveExisting(entry);
      if (status.ok() && ::link(first.path.c_str(), entry.path.c_str()) != 0)
        status = ErrnoStatus("hard link " + entry.path, errno);
      if (!status.ok()) {
        entry.failed = true;
        Failure(entry.snapshot_path, status.message());
      }
    }
  }

  Repository& repository_;
  const RestoreOptions& options_;
  RestoreProgress& progress_;
  const std::function<void(const std::string&)>& warn_;
  std::vector<std::string> includes_;
  std::vector<PlannedEntry> entries_;
  std::vector<PlannedEntry*> files_;
  std::map<std::pair<uint64_t, uint64_t>, size_t> hard_links_;
  std::mutex mutex_;
  std::vector<std::string> failures_;
  uint64_t warnings_ = 0;
  RestoreResult result_;
};

}  // namespace

Result<RestoreResult> RunRestore(Repository& repository, const Snapshot& snapshot,
                                 const RestoreOptions& options, RestoreProgress& progress,
                                 const std::function<void(const std::string&)>& warn) {
  Restore restore(repository, options, progress, warn);
  return restore.Run(snapshot);
}

}  // namespace ferry
