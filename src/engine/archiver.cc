#include "engine/archiver.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "chunk/chunker.h"
#include "engine/file_metadata.h"
#include "util/bounded_queue.h"
#include "util/clock.h"
#include "util/file_util.h"
#include "util/system_info.h"

namespace ferry {

std::string AbsolutePath(const std::string& path) {
  std::string normal = std::filesystem::absolute(path).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

namespace {

std::string JoinPath(const std::string& directory, const std::string& name) {
  return directory == "/" ? "/" + name : directory + "/" + name;
}

// Of an absolute, normalised path: 0 for "/", 2 for "/a/b".
size_t Components(const std::string& path) {
  return path == "/" ? 0 : static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
}

// The part of the snapshot tree above the backed-up paths: /home/alice and
// /etc give root → {home → {alice*}, etc*}, where * marks a path to back up.
struct PathTrie {
  bool target = false;
  std::map<std::string, PathTrie> children;
};

// A directory whose tree is being assembled. Freed when it completes.
struct DirState {
  DirState* parent = nullptr;
  size_t slot = 0;                  // this directory's node in parent->nodes
  std::vector<Node> nodes;          // fixed size once listed: workers write into their slot
  std::vector<uint8_t> dropped;     // 1 = left out (unreadable); not vector<bool>: races
  std::atomic<int64_t> pending{1};  // children in flight + 1 while the walker lists
  size_t depth = 1;                 // of this directory's tree: 1 for the root (kMaxTreeDepth)
  // The same directory in the parent snapshot. If the new listing equals it
  // node for node, its tree ID is reused without encoding or saving anything.
  std::unique_ptr<Tree> parent_tree;
  Id parent_tree_id;
};

struct FileJob {
  DirState* dir;
  size_t slot;
  std::string path;
};

// Looks up a name in a parent snapshot's tree (sorted by name).
const Node* FindNode(const Tree* tree, const std::string& name) {
  if (!tree) return nullptr;
  auto it = std::lower_bound(tree->nodes.begin(), tree->nodes.end(), name,
                             [](const Node& node, const std::string& n) { return node.name < n; });
  return it != tree->nodes.end() && it->name == name ? &*it : nullptr;
}

// Jobs are only paths, so a long queue costs no memory, and it lets the
// walker run ahead instead of waking a worker for every small file.
constexpr size_t kFileQueueLength = 256;

class Backup {
 public:
  Backup(Repository& repository, const BackupOptions& options, BackupProgress& progress,
         const std::function<void(const std::string&)>& warn)
      : repository_(repository),
        options_(options),
        progress_(progress),
        warn_(warn),
        chunker_(repository.keys().chunker, repository.config().chunker),
        queue_(kFileQueueLength) {}

  Result<BackupResult> Run();

 private:
  int WorkerCount() const {
    if (options_.threads > 0) return options_.threads;
    return std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  }
  bool Cancelled() const { return options_.cancel && options_.cancel->load(); }
  void Warn(const std::string& message) {
    ++progress_.warnings;
    {
      std::lock_guard lock(mutex_);
      incomplete_ = true;
    }
    warn_(message);
  }
  void Fail(const Status& status) {
    std::lock_guard lock(mutex_);
    if (fatal_.ok()) fatal_ = status;
  }
  bool Failed() {
    std::lock_guard lock(mutex_);
    return !fatal_.ok();
  }

  Result<std::optional<SnapshotEntry>> SelectParent(const std::vector<std::string>& paths);
  void Scan(const std::vector<std::string>& paths);
  void ScanPath(const std::string& path, dev_t root_device, size_t depth);
  void WalkTrie(const std::string& path, const PathTrie& trie, DirState* dir, const Tree* parent);
  void WalkDirectory(const std::string& path, DirState* dir, const Tree* parent, dev_t root_device);
  // Handles one listed entry whose metadata is already in dir->nodes[slot].
  void ProcessEntry(const std::string& path, DirState* dir, size_t slot, const Node* parent_node,
                    dev_t root_device);
  void WorkerLoop();
  void ReadFile(const FileJob& job);
  void ChildDone(DirState* dir);
  void FinishDirectory(DirState* dir);
  // Loads the parent snapshot's tree for `dir` (if any) into dir->parent_tree.
  void AdoptParentTree(DirState* dir, const Node* parent_node);

  Repository& repository_;
  const BackupOptions& options_;
  BackupProgress& progress_;
  const std::function<void(const std::string&)>& warn_;
  Chunker chunker_;
  BoundedQueue<FileJob> queue_;

  std::mutex mutex_;  // guards fatal_, incomplete_, root_done_, root_tree_
  std::condition_variable root_done_signal_;
  Status fatal_;
  bool incomplete_ = false;
  bool root_done_ = false;
  Id root_tree_;

  std::atomic<uint64_t> files_new_{0}, files_changed_{0}, files_unmodified_{0}, dirs_{0};
  std::atomic<uint64_t> bytes_total_{0}, blobs_new_{0};
};

Result<std::optional<SnapshotEntry>> Backup::SelectParent(const std::vector<std::string>& paths) {
  if (options_.force_read) return std::optional<SnapshotEntry>();
  if (options_.parent) {
    ASSIGN_OR_RETURN(Snapshot snapshot, repository_.LoadSnapshot(*options_.parent));
    return std::optional<SnapshotEntry>(SnapshotEntry{*options_.parent, std::move(snapshot)});
  }
  ASSIGN_OR_RETURN(std::vector<SnapshotEntry> snapshots, repository_.ListSnapshots());
  std::string host = options_.hostname.empty() ? HostName() : options_.hostname;
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    std::vector<std::string> theirs = it->snapshot.paths;
    std::sort(theirs.begin(), theirs.end());
    if (it->snapshot.hostname == host && theirs == paths) return std::optional<SnapshotEntry>(*it);
  }
  return std::optional<SnapshotEntry>();
}

// `depth`: of the tree that would list `path`'s entries; the walk stops where
// the archiver's does (kMaxTreeDepth), which also bounds this recursion.
void Backup::ScanPath(const std::string& path, dev_t root_device, size_t depth) {
  struct stat st;
  if (Cancelled() || ::lstat(path.c_str(), &st) != 0) return;
  if (S_ISREG(st.st_mode)) {
    ++progress_.files_total;
    progress_.bytes_total += static_cast<uint64_t>(st.st_size);
    return;
  }
  if (!S_ISDIR(st.st_mode) || (options_.one_file_system && st.st_dev != root_device) ||
      depth > kMaxTreeDepth)
    return;
  DIR* handle = ::opendir(path.c_str());
  if (!handle) return;
  std::vector<std::string> names;
  while (struct dirent* entry = ::readdir(handle)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(handle);
  for (const std::string& name : names) {
    std::string child = JoinPath(path, name);
    if (!options_.excludes.Excluded(child, name)) ScanPath(child, root_device, depth + 1);
  }
}

void Backup::Scan(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) ScanPath(path, st.st_dev, 1 + Components(path));
  }
  progress_.scan_finished = true;
}

void Backup::AdoptParentTree(DirState* dir, const Node* parent_node) {
  if (!parent_node || parent_node->type != NodeType::kDirectory) return;
  auto tree = repository_.LoadTree(parent_node->subtree);
  if (!tree.ok()) {
    // A damaged parent only costs speed: this directory is read in full.
    warn_("parent snapshot: " + tree.status().message() + " (reading the directory in full)");
    return;
  }
  dir->parent_tree = std::make_unique<Tree>(std::move(*tree));
  dir->parent_tree_id = parent_node->subtree;
}

void Backup::WalkTrie(const std::string& path, const PathTrie& trie, DirState* dir,
                      const Tree* parent) {
  dir->nodes.resize(trie.children.size());
  dir->dropped.assign(trie.children.size(), 0);
  size_t slot = 0;
  for (const auto& [name, child] : trie.children) {
    std::string child_path = JoinPath(path, name);
    Node& node = dir->nodes[slot];
    node.name = name;
    struct stat st;
    Status status = ::lstat(child_path.c_str(), &st) == 0
                        ? ReadNodeMetadata(child_path, st, node)
                        : ErrnoStatus("stat " + child_path, errno);
    if (!status.ok()) {
      Warn(status.message());
      dir->dropped[slot++] = 1;
      continue;
    }
    const Node* parent_node = FindNode(parent, name);
    if (child.target) {
      ProcessEntry(child_path, dir, slot, parent_node, st.st_dev);
    } else {
      auto* sub = new DirState;
      sub->parent = dir;
      sub->slot = slot;
      sub->depth = dir->depth + 1;
      AdoptParentTree(sub, parent_node);
      ++dir->pending;
      ++dirs_;
      WalkTrie(child_path, child, sub, sub->parent_tree.get());
    }
    ++slot;
  }
  ChildDone(dir);  // the walker's own reference
}

void Backup::WalkDirectory(const std::string& path, DirState* dir, const Tree* parent,
                           dev_t root_device) {
  std::vector<std::string> names;
  DIR* handle = ::opendir(path.c_str());
  if (!handle) {
    Warn(ErrnoStatus("open directory " + path, errno).message());
  } else {
    while (struct dirent* entry = ::readdir(handle)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(handle);
  }
  std::sort(names.begin(), names.end());
  // List completely before dispatching anything: workers write into nodes[],
  // which must not move afterwards.
  std::vector<struct stat> stats(names.size());
  dir->nodes.resize(names.size());
  dir->dropped.assign(names.size(), 0);
  for (size_t i = 0; i < names.size(); ++i) {
    std::string child = JoinPath(path, names[i]);
    Node& node = dir->nodes[i];
    node.name = names[i];
    if (options_.excludes.Excluded(child, names[i])) {
      dir->dropped[i] = 1;
      continue;
    }
    Status status = ::lstat(child.c_str(), &stats[i]) == 0 ? ReadNodeMetadata(child, stats[i], node)
                                                           : ErrnoStatus("stat " + child, errno);
    if (!status.ok()) {
      if (!status.IsNotFound()) Warn(status.message());  // vanished since listing: not an error
      dir->dropped[i] = 1;
    }
  }
  for (size_t i = 0; i < names.size() && !Failed() && !Cancelled(); ++i) {
    if (dir->dropped[i]) continue;
    ProcessEntry(JoinPath(path, names[i]), dir, i, FindNode(parent, names[i]), root_device);
  }
  ChildDone(dir);
}

void Backup::ProcessEntry(const std::string& path, DirState* dir, size_t slot,
                          const Node* parent_node, dev_t root_device) {
  Node& node = dir->nodes[slot];
  if (node.type == NodeType::kDirectory) {
    // Readers refuse trees nested deeper (docs/format.md): never write one.
    // This also bounds the walk's recursion.
    if (dir->depth + 1 > kMaxTreeDepth) {
      Warn("directory " + path + " is nested deeper than " + std::to_string(kMaxTreeDepth) +
           " levels, the most a snapshot holds (left out)");
      dir->dropped[slot] = 1;
      return;
    }
    ++dirs_;
    auto* sub = new DirState;
    sub->parent = dir;
    sub->slot = slot;
    sub->depth = dir->depth + 1;
    ++dir->pending;
    if (options_.one_file_system && node.device != root_device) {
      ChildDone(sub);  // a mount point: recorded, not entered
      return;
    }
    AdoptParentTree(sub, parent_node);
    WalkDirectory(path, sub, sub->parent_tree.get(), root_device);
    return;
  }
  if (node.type != NodeType::kFile) return;
  bytes_total_ += node.size;
  if (parent_node && !options_.force_read && UnchangedSince(node, *parent_node) &&
      std::all_of(parent_node->content.begin(), parent_node->content.end(), [&](const Id& id) {
        return repository_.FindBlob(BlobType::kData, id).has_value();
      })) {
    node.content = parent_node->content;
    ++files_unmodified_;
    ++progress_.files_done;
    progress_.bytes_done += node.size;
    return;
  }
  ++(parent_node ? files_changed_ : files_new_);
  ++dir->pending;
  queue_.Push(FileJob{dir, slot, path});
}

void Backup::WorkerLoop() {
  while (auto job = queue_.Pop()) {
    if (!Failed() && !Cancelled()) ReadFile(*job);
    ChildDone(job->dir);
  }
}

void Backup::ReadFile(const FileJob& job) {
  Node& node = job.dir->nodes[job.slot];
  int fd = ::open(job.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME);
  if (fd < 0 && errno == EPERM)  // O_NOATIME needs ownership or CAP_FOWNER
    fd = ::open(job.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    Warn(ErrnoStatus("open " + job.path, errno).message() + " (left out of the snapshot)");
    job.dir->dropped[job.slot] = 1;
    return;
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  const size_t max_chunk = chunker_.params().max_size;
  thread_local Bytes buffer;
  buffer.resize(2 * max_chunk);
  size_t start = 0, end = 0;
  bool at_end = false;
  uint64_t total = 0;
  std::vector<Id> content;
  Status status;
  while (status.ok()) {
    if (!at_end && end - start < max_chunk) {
      std::memmove(buffer.data(), buffer.data() + start, end - start);
      end -= start;
      start = 0;
      while (end < buffer.size()) {
        ssize_t n = ::read(fd, buffer.data() + end, buffer.size() - end);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          status = ErrnoStatus("read " + job.path, errno);
          break;
        }
        if (n == 0) {
          at_end = true;
          break;
        }
        end += static_cast<size_t>(n);
        progress_.bytes_read += static_cast<uint64_t>(n);
      }
      if (!status.ok()) break;
    }
    if (start == end) break;
    ByteView data(buffer.data() + start, end - start);
    size_t length = chunker_.NextBoundary(data, at_end);
    ByteView chunk = data.first(length);
    Id id = repository_.BlobId(chunk);
    auto added = repository_.SaveBlob(BlobType::kData, id, chunk);
    if (!added.ok()) {
      Fail(added.status());
      ::close(fd);
      return;
    }
    if (*added) ++blobs_new_;
    content.push_back(id);
    start += length;
    total += length;
    progress_.bytes_done += length;
    if (Cancelled()) break;
  }
  ::close(fd);
  if (!status.ok()) {
    Warn(status.message() + " (left out of the snapshot)");
    job.dir->dropped[job.slot] = 1;
    return;
  }
  // The file may have changed while it was read: record what was read.
  node.size = total;
  node.content = std::move(content);
  ++progress_.files_done;
}

void Backup::ChildDone(DirState* dir) {
  if (--dir->pending == 0) FinishDirectory(dir);
}

void Backup::FinishDirectory(DirState* dir) {
  Tree tree;
  for (size_t i = 0; i < dir->nodes.size(); ++i)
    if (!dir->dropped[i]) tree.nodes.push_back(std::move(dir->nodes[i]));
  Id id;
  if (dir->parent_tree && dir->parent_tree->nodes == tree.nodes) {
    id = dir->parent_tree_id;  // unchanged directory: same encoding, same ID
  } else if (!Failed() && !Cancelled()) {
    auto saved = repository_.SaveTree(tree);
    if (saved.ok())
      id = *saved;
    else
      Fail(saved.status());
  }
  DirState* parent = dir->parent;
  size_t slot = dir->slot;
  delete dir;
  if (parent) {
    parent->nodes[slot].subtree = id;
    ChildDone(parent);
    return;
  }
  std::lock_guard lock(mutex_);
  root_tree_ = id;
  root_done_ = true;
  root_done_signal_.notify_all();
}

Result<BackupResult> Backup::Run() {
  auto started = std::chrono::steady_clock::now();
  int64_t start_time = Clock::System().NowNanos();
  std::vector<std::string> paths;
  for (const std::string& given : options_.paths) {
    std::string path = AbsolutePath(given);
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus("backup path " + given, errno);
    paths.push_back(path);
  }
  if (paths.empty()) return Status::InvalidArgument("nothing to back up: give at least one path");
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());

  ASSIGN_OR_RETURN(std::optional<SnapshotEntry> parent, SelectParent(paths));
  PathTrie trie;
  bool root_is_target = false;
  for (const std::string& path : paths) {
    if (path == "/") {
      root_is_target = true;
      continue;
    }
    PathTrie* at = &trie;
    for (const auto& part : std::filesystem::path(path).relative_path())
      at = &at->children[part.string()];
    at->target = true;
  }

  std::thread scanner([&] { Scan(paths); });
  std::vector<std::thread> workers;
  for (int i = 0; i < WorkerCount(); ++i) workers.emplace_back([this] { WorkerLoop(); });

  auto* root = new DirState;
  if (parent) {
    Node parent_root;
    parent_root.type = NodeType::kDirectory;
    parent_root.subtree = parent->snapshot.tree;
    AdoptParentTree(root, &parent_root);
  }
  if (root_is_target) {
    struct stat st;
    ::lstat("/", &st);
    WalkDirectory("/", root, root->parent_tree.get(), st.st_dev);
  } else {
    WalkTrie("/", trie, root, root->parent_tree.get());
  }
  queue_.Close();
  for (auto& worker : workers) worker.join();
  scanner.join();
  {
    std::unique_lock lock(mutex_);
    root_done_signal_.wait(lock, [&] { return root_done_; });
  }
  if (Cancelled()) {
    // Keep what was uploaded usable for the next run: index it.
    repository_.Flush().IgnoreError();
    return Status::Interrupted("backup interrupted; no snapshot was written");
  }
  {
    std::lock_guard lock(mutex_);
    if (!fatal_.ok()) return fatal_;
  }
  RETURN_IF_ERROR(repository_.Flush());
  if (options_.before_snapshot) RETURN_IF_ERROR(options_.before_snapshot());

  BackupResult result;
  Snapshot& snapshot = result.snapshot;
  snapshot.time_ns = options_.time_ns.value_or(start_time);
  snapshot.tree = root_tree_;
  snapshot.paths = paths;
  snapshot.hostname = options_.hostname.empty() ? HostName() : options_.hostname;
  snapshot.username = UserName();
  snapshot.uid = ::getuid();
  snapshot.gid = ::getgid();
  snapshot.tags = options_.tags;
  snapshot.excludes = options_.excludes.patterns();
  if (parent) snapshot.parent = parent->id;
  snapshot.incomplete = incomplete_;
  snapshot.program_version = "ferry 0.1.0";
  snapshot.summary.files_new = files_new_;
  snapshot.summary.files_changed = files_changed_;
  snapshot.summary.files_unmodified = files_unmodified_;
  snapshot.summary.dirs = dirs_;
  snapshot.summary.bytes_total = bytes_total_;
  snapshot.summary.bytes_read = progress_.bytes_read;
  snapshot.summary.data_added = repository_.bytes_written();
  snapshot.summary.warnings = progress_.warnings;
  ASSIGN_OR_RETURN(result.snapshot_id, repository_.SaveSnapshot(snapshot));
  result.packs_written = repository_.packs_written();
  result.blobs_new = blobs_new_;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace

Result<BackupResult> RunBackup(Repository& repository, const BackupOptions& options,
                               BackupProgress& progress,
                               const std::function<void(const std::string&)>& warn) {
  Backup backup(repository, options, progress, warn);
  return backup.Run();
}

}  // namespace ferry
