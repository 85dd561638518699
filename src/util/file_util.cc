#include "util/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>

namespace ferry {

Status ErrnoStatus(const std::string& what, int err) {
  std::string message = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return Status::NotFound(message);
    case EACCES:
    case EPERM:
      return Status::PermissionDenied(message);
    case ENOSPC:
    case EDQUOT:
      return Status::NoSpace(message);
    case EEXIST:
      return Status::AlreadyExists(message);
    default:
      return Status::IOError(message);
  }
}

Result<Bytes> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  Bytes out;
  uint8_t buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus("read " + path, err);
    }
    if (n == 0) break;
    out.insert(out.end(), buffer, buffer + n);
  }
  ::close(fd);
  return out;
}

Status WriteAll(int fd, ByteView data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + what, errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status ReadAt(int fd, uint64_t offset, uint8_t* out, size_t length, const std::string& what) {
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read " + what, errno);
    }
    if (n == 0)
      return Status::Corruption(what + ": file ends at byte " + std::to_string(offset + done) +
                                ", expected " + std::to_string(offset + length));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status SyncDirectory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open directory " + path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync directory " + path, err);
  return Status::Ok();
}

std::string TempPathFor(const std::string& path) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return path + ".tmp-" + std::to_string(rng());
}

bool IsTempPath(const std::string& path) { return path.find(".tmp-") != std::string::npos; }

void RemoveTempFiles(const std::string& root, int64_t min_age_seconds) {
  namespace fs = std::filesystem;
  std::error_code error;
  auto now = fs::file_time_type::clock::now();
  for (auto it = fs::recursive_directory_iterator(root, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    std::error_code ignored;
    if (!IsTempPath(it->path().filename().string()) || !it->is_regular_file(ignored)) continue;
    auto modified = fs::last_write_time(it->path(), ignored);
    if (!ignored && now - modified >= std::chrono::seconds(min_age_seconds))
      fs::remove(it->path(), ignored);
  }
}

namespace {
// Large, page-aligned objects (packs) are written with O_DIRECT: they are not
// read again soon, and copying them into the page cache costs as much CPU as
// encrypting them (~3 s per 1.3 GB on a small VM). The unaligned tail goes
// through the page cache. Returns false if the file system refuses O_DIRECT
// (tmpfs, some network file systems); nothing has been written then.
constexpr size_t kDirectWriteMinimum = 1 << 20;
bool TryWriteDirect(const std::string& temp, ByteView data, int fd, Status* status) {
  if (data.size() < kDirectWriteMinimum ||
      reinterpret_cast<uintptr_t>(data.data()) % kBufferAlignment != 0)
    return false;
  int direct = ::open(temp.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
  if (direct < 0) return false;
  size_t aligned = data.size() / kBufferAlignment * kBufferAlignment;
  size_t done = 0;
  while (done < aligned) {
    ssize_t n = ::pwrite(direct, data.data() + done, aligned - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(direct);
  if (done == 0) return false;  // refused: fall back to buffered writes from the start
  if (done < aligned) done = done / kBufferAlignment * kBufferAlignment;
  // The rest (a short final write or the unaligned tail) through the page cache.
  if (::lseek(fd, static_cast<off_t>(done), SEEK_SET) < 0) {
    *status = ErrnoStatus("seek " + temp, errno);
    return true;
  }
  *status = WriteAll(fd, data.subspan(done), temp);
  return true;
}
}  // namespace

Status WriteFileAtomic(const std::string& path, ByteView data, int mode) {
  size_t slash = path.rfind('/');
  std::string directory = slash == std::string::npos ? "." : path.substr(0, slash);
  if (directory.empty()) directory = "/";
  std::string temp = TempPathFor(path);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("create " + temp, errno);
  Status status;
  if (!TryWriteDirect(temp, data, fd, &status)) status = WriteAll(fd, data, temp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus("fsync " + temp, errno);
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus("close " + temp, errno);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0)
    status = ErrnoStatus("rename " + temp + " to " + path, errno);
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return SyncDirectory(directory);
}

Status MakeDirectories(const std::string& path, int mode) {
  if (path.empty()) return Status::Ok();
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return Status::InvalidArgument(path + " exists and is not a directory");
  }
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0)
    RETURN_IF_ERROR(MakeDirectories(path.substr(0, slash), mode));
  if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST)
    return ErrnoStatus("mkdir " + path, errno);
  return Status::Ok();
}

}  // namespace ferry
