#include "util/direct_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "util/file_util.h"

namespace ferry {

namespace {

bool Aligned(uint64_t value) { return value % kBufferAlignment == 0; }
bool Aligned(const void* pointer) {
  return reinterpret_cast<uintptr_t>(pointer) % kBufferAlignment == 0;
}

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

// ---- UncachedReader ----

UncachedReader::~UncachedReader() { CloseFd(fd_); }

UncachedReader::UncachedReader(UncachedReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      direct_(other.direct_),
      size_(other.size_),
      path_(std::move(other.path_)) {}

UncachedReader& UncachedReader::operator=(UncachedReader&& other) noexcept {
  if (this != &other) {
    CloseFd(fd_);
    fd_ = std::exchange(other.fd_, -1);
    direct_ = other.direct_;
    size_ = other.size_;
    path_ = std::move(other.path_);
  }
  return *this;
}

namespace {
// The buffered fallback: flush what is dirty, then drop the cached pages, so
// the reads that follow go to the device (where the file system has one).
Status DropCachedPages(int fd, const std::string& path) {
  if (::fdatasync(fd) != 0 && errno != EINVAL && errno != EROFS)
    return ErrnoStatus("fdatasync " + path, errno);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);  // advisory: failure changes nothing
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return Status::Ok();
}

// Turns O_DIRECT off on `fd` (the file system refused it) and drops the cache.
Status FallBackToBuffered(int fd, const std::string& path) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_DIRECT) != 0)
    return ErrnoStatus("fcntl " + path, errno);
  return DropCachedPages(fd, path);
}
}  // namespace

Result<UncachedReader> UncachedReader::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  return Adopt(UniqueFd(fd), path);
}

Result<UncachedReader> UncachedReader::Adopt(UniqueFd fd, std::string path) {
  UncachedReader reader;
  reader.path_ = std::move(path);
  reader.fd_ = fd.release();
  // O_DIRECT is set on the open file rather than at open, so one open (the
  // caller's, which may have checked what it opened) serves both ways.
  int flags = ::fcntl(reader.fd_, F_GETFL);
  reader.direct_ = flags >= 0 && ::fcntl(reader.fd_, F_SETFL, flags | O_DIRECT) == 0;
  if (!reader.direct_) RETURN_IF_ERROR(DropCachedPages(reader.fd_, reader.path_));
  struct stat st;
  if (::fstat(reader.fd_, &st) != 0) return ErrnoStatus("stat " + reader.path_, errno);
  reader.size_ = static_cast<uint64_t>(st.st_size);
  return reader;
}

Result<size_t> UncachedReader::Read(uint64_t offset, uint8_t* out, size_t length) {
  if (direct_ && !(Aligned(offset) && Aligned(length) && Aligned(out)))
    return Status::Internal("unaligned direct read of " + path_);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd_, out + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EINVAL && direct_ && done == 0) {
      // Some file systems accept O_DIRECT at open and refuse it on read.
      direct_ = false;
      RETURN_IF_ERROR(FallBackToBuffered(fd_, path_));
      continue;
    }
    if (n < 0) return ErrnoStatus("read " + path_, errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
    // A short direct read before the end means the next offset is unaligned;
    // it only happens at the end of the file, so stop there.
    if (direct_ && !Aligned(done)) break;
  }
  return done;
}

Result<uint64_t> ReadFileUncached(const std::string& path, BufferBytes& buffer,
                                  const std::function<Status(ByteView)>& sink) {
  ASSIGN_OR_RETURN(UncachedReader reader, UncachedReader::Open(path));
  return ReadFileUncached(reader, buffer, sink);
}

Result<uint64_t> ReadFileUncached(UncachedReader& reader, BufferBytes& buffer,
                                  const std::function<Status(ByteView)>& sink) {
  uint64_t offset = 0;
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, reader.Read(offset, buffer.data(), buffer.size()));
    if (n == 0) break;
    RETURN_IF_ERROR(sink(ByteView(buffer.data(), n)));
    offset += n;
    if (n < buffer.size()) break;
  }
  return offset;
}

// ---- DirectWriter ----

DirectWriter::~DirectWriter() {
  CloseFd(direct_fd_);
  CloseFd(fd_);
}

DirectWriter::DirectWriter(DirectWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      direct_fd_(std::exchange(other.direct_fd_, -1)),
      offset_(other.offset_),
      path_(std::move(other.path_)) {}

DirectWriter& DirectWriter::operator=(DirectWriter&& other) noexcept {
  if (this != &other) {
    CloseFd(direct_fd_);
    CloseFd(fd_);
    fd_ = std::exchange(other.fd_, -1);
    direct_fd_ = std::exchange(other.direct_fd_, -1);
    offset_ = other.offset_;
    path_ = std::move(other.path_);
  }
  return *this;
}

Result<DirectWriter> DirectWriter::Create(const std::string& path, uint64_t expected_size,
                                          int mode) {
  DirectWriter writer;
  writer.path_ = path;
  writer.fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (writer.fd_ < 0) return ErrnoStatus("create " + path, errno);
  writer.direct_fd_ = ::open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);  // -1: buffered
  if (expected_size > 0)  // a hint: file systems without fallocate just allocate as we write
    ::fallocate(writer.fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(expected_size));
  return writer;
}

Status DirectWriter::Append(ByteView data) {
  if (fd_ < 0) return Status::Internal("write to closed file " + path_);
  size_t done = 0;
  if (direct_fd_ >= 0 && Aligned(offset_) && Aligned(data.data())) {
    size_t aligned = data.size() / kBufferAlignment * kBufferAlignment;
    while (done < aligned) {
      ssize_t n = ::pwrite(direct_fd_, data.data() + done, aligned - done,
                           static_cast<off_t>(offset_ + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EINVAL && done == 0) {
        CloseFd(direct_fd_);  // refused after all: everything buffered from here
        break;
      }
      if (n < 0) return ErrnoStatus("write " + path_, errno);
      done += static_cast<size_t>(n);
      if (!Aligned(done)) break;  // a short write: finish through the page cache
    }
  }
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write " + path_, errno);
    done += static_cast<size_t>(n);
  }
  offset_ += done;
  return Status::Ok();
}

Status DirectWriter::Sync() {
  if (fd_ < 0) return Status::Internal("sync of closed file " + path_);
  if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync " + path_, errno);
  return Status::Ok();
}

Status DirectWriter::Close() {
  CloseFd(direct_fd_);
  if (fd_ < 0) return Status::Ok();
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return ErrnoStatus("close " + path_, errno);
  return Status::Ok();
}

}  // namespace ferry
