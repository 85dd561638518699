#include "engine/restorer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "engine/archiver.h"
#include "engine/file_metadata.h"
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
  std::string hard_link_to;  // non-empty: make a hard link to this destination path
};

class Restore {
 public:
  Restore(Repository& repository, const RestoreOptions& options, RestoreProgress& progress,
          const std::function<void(const std::string&)>& warn)
      : repository_(repository), options_(options), progress_(progress), warn_(warn) {
    for (const std::string& include : options.includes) includes_.push_back(AbsolutePath(include));
  }

  Result<RestoreResult> Run(const Snapshot& snapshot) {
    std::string target = AbsolutePath(options_.target);
    RETURN_IF_ERROR(MakeDirectories(target, 0755));
    RETURN_IF_ERROR(Plan(snapshot.tree, "", target == "/" ? "" : target, 0));
    if (entries_.empty() && !includes_.empty())
      return Status::NotFound("no path in the snapshot matches the --include paths");
    RETURN_IF_ERROR(CheckConflicts());
    RETURN_IF_ERROR(CreateEntries());
    FillFiles();
    // Directories last, deepest first: their own entries changed their times.
    std::vector<const PlannedEntry*> directories;
    for (const PlannedEntry& entry : entries_)
      if (entry.node.type == NodeType::kDirectory) directories.push_back(&entry);
    std::stable_sort(directories.begin(), directories.end(),
                     [](auto* a, auto* b) { return a->depth > b->depth; });
    for (const PlannedEntry* entry : directories) {
      Status status = ApplyNodeMetadata(entry->path, entry->node);
      if (!status.ok()) Warning(status.message());
    }
    if (!errors_.empty()) {
      std::string message =
          std::to_string(errors_.size()) + " file(s) could not be restored: " + errors_.front();
      return Status::Corruption(message);
    }
    result_.warnings = warnings_;
    return result_;
  }

 private:
  void Warning(const std::string& message) {
    std::lock_guard lock(mutex_);
    ++warnings_;
    warn_(message);
  }
  void Error(const std::string& message) {
    std::lock_guard lock(mutex_);
    errors_.push_back(message);
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

  Status Plan(const Id& tree_id, const std::string& snapshot_dir, const std::string& dest_dir,
              size_t depth, bool everything = false) {
    ASSIGN_OR_RETURN(Tree tree, repository_.LoadTree(tree_id));
    for (Node& node : tree.nodes) {
      std::string snapshot_path = snapshot_dir + "/" + node.name;
      Selection selection = everything ? Selection::kAll : Select(snapshot_path);
      if (selection == Selection::kNone) continue;
      if (selection == Selection::kAncestor && node.type != NodeType::kDirectory) continue;
      PlannedEntry entry;
      entry.path = dest_dir + "/" + node.name;
      entry.snapshot_path = snapshot_path;
      entry.depth = depth;
      Id subtree = node.subtree;
      bool is_directory = node.type == NodeType::kDirectory;
      if (node.type == NodeType::kFile && node.links > 1) {
        auto key = std::make_pair(node.device, node.inode);
        auto [it, inserted] = hard_links_.emplace(key, entry.path);
        if (!inserted) entry.hard_link_to = it->second;
      }
      if (node.type == NodeType::kFile && entry.hard_link_to.empty()) {
        ++progress_.files_total;
        progress_.bytes_total += node.size;
      }
      entry.node = std::move(node);
      std::string path = entry.path;
      entries_.push_back(std::move(entry));
      if (is_directory)
        RETURN_IF_ERROR(
            Plan(subtree, snapshot_path, path, depth + 1, selection == Selection::kAll));
    }
    return Status::Ok();
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
    for (const PlannedEntry& entry : entries_) {
      RETURN_IF_ERROR(RemoveExisting(entry));
      const Node& node = entry.node;
      const char* path = entry.path.c_str();
      Status status;
      switch (node.type) {
        case NodeType::kDirectory:
          if (::mkdir(path, 0700) != 0 && errno != EEXIST)
            status = ErrnoStatus("mkdir " + entry.path, errno);
          ++result_.directories;
          break;
        case NodeType::kFile:
          if (!entry.hard_link_to.empty()) {
            if (::link(entry.hard_link_to.c_str(), path) != 0)
              status = ErrnoStatus("hard link " + entry.path, errno);
            break;
          }
          {
            int fd = ::open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0) {
              status = ErrnoStatus("create " + entry.path, errno);
              break;
            }
            // Full size up front: regions never written stay holes.
            if (::ftruncate(fd, static_cast<off_t>(node.size)) != 0)
              status = ErrnoStatus("set size of " + entry.path, errno);
            ::close(fd);
            files_.push_back(&entry);
          }
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
      if (!status.ok()) {
        // Parent directories must exist for everything below; anything else
        // is a warning and the restore goes on.
        if (node.type == NodeType::kDirectory) return status;
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
        if (options_.cancel && *options_.cancel) return;
        FillFile(*files_[i]);
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& thread : pool) thread.join();
  }

  void FillFile(const PlannedEntry& entry) {
    int fd = ::open(entry.path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      Error(ErrnoStatus("open " + entry.path, errno).message());
      return;
    }
    uint64_t offset = 0;
    Status status;
    {
      FileContentWriter writer(fd, entry.path, entry.node.size);
      for (const Id& id : entry.node.content) {
        auto blob = repository_.LoadBlob(id);
        if (!blob.ok()) {
          status = blob.status();
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
    if (!status.ok()) {
      Error(entry.snapshot_path + ": " + status.message());
      return;
    }
    status = ApplyNodeMetadata(entry.path, entry.node);
    if (!status.ok()) Warning(status.message());
    ++progress_.files_done;
    std::lock_guard lock(mutex_);
    ++result_.files;
    result_.bytes += offset;
  }

  Repository& repository_;
  const RestoreOptions& options_;
  RestoreProgress& progress_;
  const std::function<void(const std::string&)>& warn_;
  std::vector<std::string> includes_;
  std::vector<PlannedEntry> entries_;
  std::vector<const PlannedEntry*> files_;
  std::map<std::pair<uint64_t, uint64_t>, std::string> hard_links_;
  std::mutex mutex_;
  std::vector<std::string> errors_;
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
