#include "storage/local_backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "util/file_util.h"

namespace ferry {

LocalBackend::LocalBackend(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Status LocalBackend::Create() {
  struct stat st;
  if (::stat((root_ + "/config").c_str(), &st) == 0)
    return Status::AlreadyExists("a repository already exists at " + root_);
  RETURN_IF_ERROR(MakeDirectories(root_));
  for (ObjectKind kind : {ObjectKind::kKey, ObjectKind::kIndex, ObjectKind::kSnapshot,
                          ObjectKind::kLock, ObjectKind::kData})
    RETURN_IF_ERROR(MakeDirectories(root_ + "/" + ObjectKindName(kind)));
  // All 256 pack directories up front: Put never has to create one (and fsync its parent).
  for (int i = 0; i < 256; ++i) {
    char sub[3];
    std::snprintf(sub, sizeof sub, "%02x", i);
    RETURN_IF_ERROR(MakeDirectories(root_ + "/data/" + sub));
  }
  return SyncDirectory(root_);
}

Status LocalBackend::Put(const ObjectName& name, ByteView data) {
  return WriteFileAtomic(FullPath(name), data, 0600);
}

Result<Bytes> LocalBackend::Get(const ObjectName& name, uint64_t offset, uint64_t length) {
  std::string path = FullPath(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("stat " + path, err);
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (length == kToEnd) length = offset <= size ? size - offset : 0;
  if (offset > size || length > size - offset) {
    ::close(fd);
    return Status::Corruption(path + ": range " + std::to_string(offset) + "+" +
                              std::to_string(length) + " lies past the end (" +
                              std::to_string(size) + " bytes)");
  }
  Bytes out(length);
  Status status = ReadAt(fd, offset, out.data(), length, path);
  ::close(fd);
  if (!status.ok()) return status;
  return out;
}

Result<uint64_t> LocalBackend::Stat(const ObjectName& name) {
  std::string path = FullPath(name);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  return static_cast<uint64_t>(st.st_size);
}

namespace {
Status ListDirectory(const std::string& directory,
                     const std::function<Status(const std::string&, uint64_t)>& visit) {
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return ErrnoStatus("open directory " + directory, errno);
  Status status;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (!IsObjectId(name)) continue;  // temp files and strays
    struct stat st;
    if (::fstatat(::dirfd(dir), entry->d_name, &st, 0) != 0) continue;  // removed meanwhile
    status = visit(name, static_cast<uint64_t>(st.st_size));
    if (!status.ok()) break;
  }
  ::closedir(dir);
  return status;
}
}  // namespace

Status LocalBackend::List(ObjectKind kind,
                          const std::function<Status(const std::string&, uint64_t)>& visit) {
  if (kind == ObjectKind::kConfig) {
    auto size = Stat(ObjectName::Config());
    if (size.ok()) return visit("config", *size);
    return size.status().IsNotFound() ? Status::Ok() : size.status();
  }
  std::string base = root_ + "/" + ObjectKindName(kind);
  if (kind != ObjectKind::kData) return ListDirectory(base, visit);
  for (int i = 0; i < 256; ++i) {
    char sub[3];
    std::snprintf(sub, sizeof sub, "%02x", i);
    Status status = ListDirectory(base + "/" + sub, visit);
    if (!status.ok() && !status.IsNotFound()) return status;
  }
  return Status::Ok();
}

Status LocalBackend::Remove(const ObjectName& name) {
  std::string path = FullPath(name);
  if (::unlink(path.c_str()) != 0) return ErrnoStatus("remove " + path, errno);
  return Status::Ok();
}

}  // namespace ferry
