#include "seed/disk_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "storage/local_backend.h"
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

// Ranged reads (ingest never needs them, the Backend contract does) are
// LocalBackend's; whole packs, as every copy reads them, come straight from
// the device into an aligned buffer (O_DIRECT), which saves copying each byte
// through the page cache — on a small machine that copy costs as much CPU as
// hashing. Either way disk_failed is set while the disk is being read.
Status DiskSource::ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                              const std::function<Status(ByteView)>& sink) {
  auto handed_over = [&](ByteView piece) {
    disk_failed = false;
    Status status = sink(piece);
    disk_failed = true;
    return status;
  };
  disk_failed = true;  // until the sink has the data
  Status status = offset == 0 && length == kToEnd
                      ? ReadFileUncached(Path(name), ThreadBuffer(), handed_over).status()
                      : LocalBackend(root_).ReadStream(name, offset, length, handed_over);
  if (status.ok()) disk_failed = false;
  return status;
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
