#include "engine/snapshot_dump.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>

#include "repo/tree_walker.h"

namespace ferry {

namespace {

Status WriteAll(int fd, ByteView data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(std::string("writing the output: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Calls `sink` with each blob of file `node` in order; checks the total size.
Status ReadContents(Repository& repository, const std::string& path, const Node& node,
                    const std::function<Status(ByteView)>& sink, const std::atomic<bool>* cancel) {
  uint64_t total = 0;
  for (const Id& id : node.content) {
    if (cancel && *cancel) return Status::Interrupted("dump interrupted");
    auto blob = repository.LoadBlob(BlobType::kData, id);
    if (!blob.ok()) return blob.status().WithContext(path);
    total += blob->size();
    if (total > node.size)
      return Status::Corruption(path + ": its data is longer than its size " +
                                std::to_string(node.size));
    RETURN_IF_ERROR(sink(*blob));
  }
  if (total != node.size)
    return Status::Corruption(path + ": its data (" + std::to_string(total) +
                              " bytes) is shorter than its size " + std::to_string(node.size));
  return Status::Ok();
}

mode_t FileType(NodeType type) {
  switch (type) {
    case NodeType::kDirectory:
      return AE_IFDIR;
    case NodeType::kSymlink:
      return AE_IFLNK;
    case NodeType::kFifo:
      return AE_IFIFO;
    case NodeType::kCharDevice:
      return AE_IFCHR;
    case NodeType::kBlockDevice:
      return AE_IFBLK;
    case NodeType::kSocket:
      return AE_IFSOCK;
    default:
      return AE_IFREG;
  }
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

Status ArchiveError(archive* a, const std::string& what) {
  const char* message = archive_error_string(a);
  return Status::IOError(what + ": " + (message ? message : "libarchive failed"));
}

}  // namespace

Status DumpFile(Repository& repository, const Node& node, int fd, const std::atomic<bool>* cancel) {
  return ReadContents(
      repository, node.name, node, [&](ByteView data) { return WriteAll(fd, data); }, cancel);
}

Status DumpTar(Repository& repository, const std::string& path, const Node& node, int fd,
               const std::atomic<bool>* cancel) {
  if (node.type != NodeType::kDirectory)
    return Status::InvalidArgument(path + " is not a directory");
  std::unique_ptr<archive, ArchiveDeleter> tar(archive_write_new());
  if (!tar) return Status::Internal("libarchive: out of memory");
  if (archive_write_set_format_pax(tar.get()) != ARCHIVE_OK ||
      archive_write_open_fd(tar.get(), fd) != ARCHIVE_OK)
    return ArchiveError(tar.get(), "starting the tar archive");
  std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
  std::string base = path == "/" ? "" : path;
  Status failed;
  auto write_node = [&](const std::string& full, const Node& n) -> Status {
    archive_entry_clear(entry.get());
    std::string name = full.substr(1);  // without the leading '/'
    if (n.type == NodeType::kDirectory) name += "/";
    archive_entry_copy_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), FileType(n.type));
    archive_entry_set_perm(entry.get(), n.mode & 07777);
    archive_entry_set_uid(entry.get(), n.uid);
    archive_entry_set_gid(entry.get(), n.gid);
    if (!n.user.empty()) archive_entry_copy_uname(entry.get(), n.user.c_str());
    if (!n.group.empty()) archive_entry_copy_gname(entry.get(), n.group.c_str());
    archive_entry_set_mtime(entry.get(), n.mtime_ns / 1000000000, n.mtime_ns % 1000000000);
    archive_entry_set_size(entry.get(), n.type == NodeType::kFile ? n.size : 0);
    if (n.type == NodeType::kSymlink)
      archive_entry_copy_symlink(entry.get(), n.link_target.c_str());
    if (n.type == NodeType::kCharDevice || n.type == NodeType::kBlockDevice)
      archive_entry_set_rdev(entry.get(), n.rdev);
    for (const auto& [key, value] : n.xattrs)
      archive_entry_xattr_add_entry(entry.get(), key.c_str(), value.data(), value.size());
    if (archive_write_header(tar.get(), entry.get()) < ARCHIVE_WARN)
      return ArchiveError(tar.get(), full);
    if (n.type != NodeType::kFile) return Status::Ok();
    return ReadContents(
        repository, full, n,
        [&](ByteView data) -> Status {
          if (archive_write_data(tar.get(), data.data(), data.size()) < 0)
            return ArchiveError(tar.get(), full);
          return Status::Ok();
        },
        cancel);
  };
  TreeWalkCallbacks callbacks;
  callbacks.node = [&](const std::string& below, const Node& n) {
    if (!failed.ok()) return false;
    failed = write_node(base + below, n);
    return failed.ok();
  };
  callbacks.tree_error = [&](const std::string& below, const Id&, const Status& status) {
    if (failed.ok()) failed = status.WithContext("directory " + base + below);
  };
  Status walked = WalkTrees(repository, node.subtree, callbacks, cancel);
  if (!walked.ok()) return walked;
  if (!failed.ok()) return failed;
  if (archive_write_close(tar.get()) != ARCHIVE_OK)
    return ArchiveError(tar.get(), "finishing the tar archive");
  return Status::Ok();
}

}  // namespace ferry
