#include "seed/disk_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "util/direct_io.h"
#include "util/file_util.h"

namespace ferry {

namespace {

// Large enough that a disk streams at full speed with the read-ahead the
// kernel adds for POSIX_FADV_SEQUENTIAL; small enough for several copy threads.
constexpr size_t kReadSize = 8u << 20;

thread_local bool disk_failed = false;

// A buffer per copy thread, reused for every pack: allocating 8 MiB per pack
// would map and fault in fresh pages each time. Aligned for O_DIRECT.
BufferBytes& ThreadBuffer() {
  thread_local BufferBytes buffer;
  if (buffer.size() < kReadSize) buffer.resize(kReadSize);
  return buffer;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

DiskSource::DiskSource(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

bool DiskSource::DiskFailed() { return disk_failed; }
void DiskSource::ClearDiskFailure() { disk_failed = false; }

Result<uint64_t> DiskSource::Stat(const ObjectName& name) {
  std::string path = Path(name);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::Corruption(path + " is not a regular file");
  return static_cast<uint64_t>(st.st_size);
}

Status DiskSource::ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                              const std::function<Status(ByteView)>& sink) {
  disk_failed = true;  // until the sink has the data
  std::string path = Path(name);
  if (offset == 0 && length == kToEnd) return ReadWhole(path, sink);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open " + path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (length == kToEnd) length = offset <= size ? size - offset : 0;
  if (offset > size || length > size - offset)
    return Status::Corruption(path + ": range " + std::to_string(offset) + "+" +
                              std::to_string(length) + " lies past the end (" +
                              std::to_string(size) + " bytes)");
  // Advice only: a failure changes speed, never the result.
  ::posix_fadvise(fd.get(), static_cast<off_t>(offset), static_cast<off_t>(length),
                  POSIX_FADV_SEQUENTIAL);
  BufferBytes& buffer = ThreadBuffer();
  for (uint64_t done = 0; done < length;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kReadSize, length - done));
    uint64_t at = offset + done;
    RETURN_IF_ERROR(ReadAt(fd.get(), at, buffer.data(), n, path));
    disk_failed = false;
    RETURN_IF_ERROR(sink(ByteView(buffer.data(), n)));
    disk_failed = true;
    ::posix_fadvise(fd.get(), static_cast<off_t>(at), static_cast<off_t>(n), POSIX_FADV_DONTNEED);
    done += n;
  }
  disk_failed = false;
  return Status::Ok();
}

// The whole pack, as every copy reads it: straight from the device into an
// aligned buffer (O_DIRECT), which saves copying each byte through the page
// cache — on a small machine that copy costs as much CPU as hashing.
Status DiskSource::ReadWhole(const std::string& path, const std::function<Status(ByteView)>& sink) {
  ASSIGN_OR_RETURN(UncachedReader reader, UncachedReader::Open(path));
  BufferBytes& buffer = ThreadBuffer();
  for (uint64_t done = 0; done < reader.size();) {
    ASSIGN_OR_RETURN(size_t n, reader.Read(done, buffer.data(), kReadSize));
    if (n == 0)
      return Status::Corruption(path + " ended after " + std::to_string(done) + " of " +
                                std::to_string(reader.size()) + " bytes");
    disk_failed = false;
    RETURN_IF_ERROR(sink(ByteView(buffer.data(), n)));
    disk_failed = true;
    done += n;
  }
  disk_failed = false;
  return Status::Ok();
}

Result<Bytes> DiskSource::Get(const ObjectName& name, uint64_t offset, uint64_t length) {
  Bytes out;
  RETURN_IF_ERROR(ReadStream(name, offset, length, [&](ByteView data) {
    out.insert(out.end(), data.begin(), data.end());
    return Status::Ok();
  }));
  return out;
}

}  // namespace ferry
