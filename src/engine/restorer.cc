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
#include "repo/tree_walker.h"
#include "util/file_util.h"

namespace ferry {

namespace {

bool IsAllZero(ByteView data) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    if (word) return false;
  }
  for (; n; ++p, --n)
    if (*p) return false;
  return true;
}

// Writes `data` at `offset`, skipping every file-system block that is all
// zeros: the file was created at full size, so skipped blocks stay holes.
// Chunks do not follow hole boundaries (a chunk may hold the end of the data
// and the start of a hole), so whole-blob checks alone would fill holes.
Status WriteSparse(int fd, ByteView data, uint64_t offset, const std::string& path) {
  constexpr uint64_t kBlock = 4096;
  size_t position = 0;
  while (position < data.size()) {
    // Up to the next block boundary of the file, so holes stay block-aligned.
    auto block_end = [&](size_t at) {
      uint64_t next = (offset + at) / kBlock * kBlock + kBlock;
      return std::min<size_t>(data.size(), static_cast<size_t>(next - offset));
    };
    size_t end = block_end(position);
    if (IsAllZero(data.subspan(position, end - position))) {
      position = end;
      continue;
    }
    size_t run_end = end;
    while (run_end < data.size()) {
      size_t next = block_end(run_end);
      if (IsAllZero(data.subspan(run_end, next - run_end))) break;
      run_end = next;
    }
    size_t done = position;
    while (done < run_end) {
      ssize_t n =
          ::pwrite(fd, data.data() + done, run_end - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("write " + path, errno);
      done += static_cast<size_t>(n);
    }
    position = run_end;
  }
  return Status::Ok();
}

// Writes a file's content front to back. Files of 1 MiB and more go to the
// disk with O_DIRECT in block-aligned pieces: restoring copies every byte into
// the page cache otherwise, which on small machines costs more CPU than
// decrypting and decompressing it. All-zero blocks are skipped either way, and
// the unaligned tail goes through the page cache. Where the file system
// refuses O_DIRECT, everything goes through the page cache.
class FileContentWriter {
 public:
  static constexpr uint64_t kDirectMinimum = 1 << 20;
  static constexpr size_t kDirectChunk = 4 << 20;

  FileContentWriter(int fd, const std::string& path, uint64_t size) : fd_(fd), path_(path) {
    if (size >= kDirectMinimum) direct_fd_ = ::open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
    pending_.clear();
  }
  ~FileContentWriter() {
    if (direct_fd_ >= 0) ::close(direct_fd_);
  }

  Status Append(ByteView data) {
    if (direct_fd_ < 0) {
      Status status = WriteSparse(fd_, data, offset_, path_);
      offset_ += data.size();
      return status;
    }
    AppendBytes(pending_, data);
    return pending_.size() >= kDirectChunk ? FlushAligned() : Status::Ok();
  }

  Status Finish() {
    if (direct_fd_ >= 0) RETURN_IF_ERROR(FlushAligned());
    Status status = WriteSparse(fd_, pending_, offset_, path_);
    offset_ += pending_.size();
    pending_.clear();
    return status;
  }

 private:
  Status FlushAligned() {
    size_t aligned = pending_.size() / kBufferAlignment * kBufferAlignment;
    if (aligned == 0) return Status::Ok();
    ByteView piece(pending_.data(), aligned);
    // pending_ starts at a block-aligned file offset and its memory is page
    // aligned, so every run WriteSparse writes is aligned for O_DIRECT.
    Status status = WriteSparse(direct_fd_, piece, offset_, path_);
    if (!status.ok()) {
      ::close(direct_fd_);  // refused after all: the page cache from here on
      direct_fd_ = -1;
      RETURN_IF_ERROR(WriteSparse(fd_, piece, offset_, path_));
    }
    std::memmove(pending_.data(), pending_.data() + aligned, pending_.size() - aligned);
    pending_.resize(pending_.size() - aligned);
    offset_ += aligned;
    return Status::Ok();
  }

  int fd_;
  int direct_fd_ = -1;
  std::string path_;
  uint64_t offset_ = 0;  // file offset of pending_[0]
  static thread_local BufferBytes pending_;
};
thread_local BufferBytes FileContentWriter::pending_;

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
    return WalkTrees(repository_, root, callbacks, options_.cancel);
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

  void FillFiles() {
    // Writers of large files wait for the device (O_DIRECT), so one per core
    // leaves cores idle: three per core keep them busy (2.1 GB on 2 cores:
    // 5.5-7.2 s with 2 writers, 4.2-4.5 s with 4 to 12).
    int threads = options_.threads > 0
                      ? options_.threads
                      : std::max(4, 3 * static_cast<int>(std::thread::hardware_concurrency()));
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t i; (i = next++) < files_.size();) {
        if (Cancelled()) return;
        FillFile(*files_[i], i);
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& thread : pool) thread.join();
  }

  void FillFile(PlannedEntry& entry, size_t number) {
    // Short, so that a name of NAME_MAX bytes does not matter; the PID keeps
    // two restores into one target apart.
    std::string temp = ParentOf(entry.path) + "/.ferry-restore-" + std::to_string(::getpid()) +
                       "-" + std::to_string(number);
    Status status = WriteFile(entry, temp);
    if (status.ok()) status = ApplyNodeMetadata(temp, entry.node);
    if (status.ok() && ::rename(temp.c_str(), entry.path.c_str()) != 0)
      status = ErrnoStatus("rename " + temp + " to " + entry.path, errno);
    if (!status.ok()) {
      ::unlink(temp.c_str());
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

  // Creates `temp` at the file's full size (regions never written stay holes)
  // and writes the content.
  Status WriteFile(const PlannedEntry& entry, const std::string& temp) {
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("create " + temp, errno);
    Status status;
    if (::ftruncate(fd, static_cast<off_t>(entry.node.size)) != 0)
      status = ErrnoStatus("set size of " + temp, errno);
    uint64_t offset = 0;
    if (status.ok()) {
      FileContentWriter writer(fd, temp, entry.node.size);
      for (const Id& id : entry.node.content) {
        auto blob = repository_.LoadBlob(BlobType::kData, id);
        if (!blob.ok()) {
          status = blob.status();
          break;
        }
        if (offset + blob->size() > entry.node.size) {
          status = Status::Corruption("content is longer than the " +
                                      std::to_string(entry.node.size) + " bytes the snapshot says");
          break;
        }
        status = writer.Append(*blob);
        offset += blob->size();
        progress_.bytes_done += blob->size();
        if (!status.ok()) break;
      }
      if (status.ok()) status = writer.Finish();
    }
    if (status.ok() && offset != entry.node.size)
      status = Status::Corruption("content adds up to " + std::to_string(offset) +
                                  " bytes, the snapshot says " + std::to_string(entry.node.size));
    ::close(fd);
    return status;
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
