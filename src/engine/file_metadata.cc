#include "engine/file_metadata.h"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "util/file_util.h"
#include "util/system_info.h"

namespace ferry {

namespace {
int64_t Nanos(const struct timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; }
struct timespec Timespec(int64_t nanos) {
  struct timespec t;
  t.tv_sec = nanos / 1000000000;
  t.tv_nsec = nanos % 1000000000;
  if (t.tv_nsec < 0) {
    t.tv_nsec += 1000000000;
    --t.tv_sec;
  }
  return t;
}

NodeType TypeOf(mode_t mode) {
  if (S_ISDIR(mode)) return NodeType::kDirectory;
  if (S_ISLNK(mode)) return NodeType::kSymlink;
  if (S_ISFIFO(mode)) return NodeType::kFifo;
  if (S_ISCHR(mode)) return NodeType::kCharDevice;
  if (S_ISBLK(mode)) return NodeType::kBlockDevice;
  if (S_ISSOCK(mode)) return NodeType::kSocket;
  return NodeType::kFile;
}

Status ReadXattrs(const std::string& path, Node& node) {
  std::string names(1024, '\0');
  ssize_t length;
  for (;;) {
    length = ::llistxattr(path.c_str(), names.data(), names.size());
    if (length >= 0) break;
    if (errno == ERANGE) {
      names.resize(names.size() * 4);
      continue;
    }
    if (errno == ENOTSUP) return Status::Ok();
    return ErrnoStatus("list extended attributes of " + path, errno);
  }
  names.resize(static_cast<size_t>(length));
  for (size_t start = 0; start < names.size();) {
    size_t end = names.find('\0', start);
    if (end == std::string::npos) end = names.size();
    std::string name = names.substr(start, end - start);
    start = end + 1;
    if (name.empty()) continue;
    Bytes value(256);
    for (;;) {
      ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
      if (n >= 0) {
        value.resize(static_cast<size_t>(n));
        break;
      }
      if (errno == ERANGE) {
        value.resize(value.size() * 16);
        continue;
      }
      if (errno == ENODATA) break;  // removed meanwhile
      return ErrnoStatus("read extended attribute " + name + " of " + path, errno);
    }
    node.xattrs.emplace_back(std::move(name), std::move(value));
  }
  std::sort(node.xattrs.begin(), node.xattrs.end());
  return Status::Ok();
}
}  // namespace

int64_t MtimeNanos(const struct stat& st) { return Nanos(st.st_mtim); }

Status ReadNodeMetadata(const std::string& path, const struct stat& st, Node& node) {
  node.type = TypeOf(st.st_mode);
  node.mode = st.st_mode & 07777;
  node.uid = st.st_uid;
  node.gid = st.st_gid;
  node.user = UserNameOf(st.st_uid);
  node.group = GroupNameOf(st.st_gid);
  node.mtime_ns = Nanos(st.st_mtim);
  node.ctime_ns = Nanos(st.st_ctim);
  node.inode = st.st_ino;
  node.device = st.st_dev;
  node.links = st.st_nlink;
  if (node.type == NodeType::kFile) node.size = static_cast<uint64_t>(st.st_size);
  if (node.type == NodeType::kCharDevice || node.type == NodeType::kBlockDevice)
    node.rdev = st.st_rdev;
  if (node.type == NodeType::kSymlink) {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return ErrnoStatus("read symlink " + path, errno);
    target.resize(static_cast<size_t>(n));
    node.link_target = std::move(target);
  }
  return ReadXattrs(path, node);
}

Status ApplyNodeMetadata(const std::string& path, const Node& node) {
  if (::geteuid() == 0 && ::lchown(path.c_str(), node.uid, node.gid) != 0)
    return ErrnoStatus("chown " + path, errno);
  if (node.type != NodeType::kSymlink && ::chmod(path.c_str(), node.mode) != 0)
    return ErrnoStatus("chmod " + path, errno);
  for (const auto& [name, value] : node.xattrs) {
    if (::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) != 0 &&
        errno != ENOTSUP)
      return ErrnoStatus("set extended attribute " + name + " on " + path, errno);
  }
  // Access time is not recorded (see format/tree.h): leave it as the restore set it.
  struct timespec times[2] = {{0, UTIME_OMIT}, Timespec(node.mtime_ns)};
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
    return ErrnoStatus("set times of " + path, errno);
  return Status::Ok();
}

bool UnchangedSince(const Node& now, const Node& parent) {
  return now.type == NodeType::kFile && parent.type == NodeType::kFile && now.size == parent.size &&
         now.mtime_ns == parent.mtime_ns && now.ctime_ns == parent.ctime_ns &&
         now.inode == parent.inode;
}

}  // namespace ferry
