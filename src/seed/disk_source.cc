#include "seed/disk_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

}  // namespace

Result<std::unique_ptr<DiskSource>> DiskSource::Open(const std::string& root) {
  std::string trimmed = root;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  ASSIGN_OR_RETURN(ConfinedDir dir, ConfinedDir::Open(trimmed));
  return std::unique_ptr<DiskSource>(new DiskSource(std::move(trimmed), std::move(dir)));
}

bool DiskSource::DiskFailed() { return disk_failed; }
void DiskSource::ClearDiskFailure() { disk_failed = false; }

Result<uint64_t> DiskSource::Stat(const ObjectName& name) {
  ASSIGN_OR_RETURN(struct stat st, dir_.Stat(name.Path()));
  if (!S_ISREG(st.st_mode))
    return Status::Corruption(name.Path() + " is a " + FileTypeName(st.st_mode) +
                              (S_ISLNK(st.st_mode) ? " (not followed)" : "") +
                              ", not a regular file");
  return static_cast<uint64_t>(st.st_size);
}

// Whole packs, as every copy reads them, come straight from the device into
// an aligned buffer (O_DIRECT), which saves copying each byte through the
// page cache — on a small machine that copy costs as much CPU as hashing.
// Ranged reads (ingest never needs them, the Backend contract does) are
// plain preads. Either way the file is opened through the ConfinedDir, and
// disk_failed is set while the disk is being read.
Status DiskSource::ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                              const std::function<Status(ByteView)>& sink) {
  auto handed_over = [&](ByteView piece) {
    disk_failed = false;
    Status status = sink(piece);
    disk_failed = true;
    return status;
  };
  disk_failed = true;  // until the sink has the data
  Status status = [&]() -> Status {
    ASSIGN_OR_RETURN(UniqueFd fd, dir_.OpenFile(name.Path()));
    if (offset == 0 && length == kToEnd) {
      ASSIGN_OR_RETURN(UncachedReader reader, UncachedReader::Adopt(std::move(fd), name.Path()));
      return ReadFileUncached(reader, ThreadBuffer(), handed_over).status();
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat " + name.Path(), errno);
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (offset > size || (length != kToEnd && length > size - offset))
      return Status::Corruption(name.Path() + ": range " + std::to_string(offset) + "+" +
                                std::to_string(length) + " is past its end (" +
                                std::to_string(size) + " bytes)");
    uint64_t end = length == kToEnd ? size : offset + length;
    BufferBytes& buffer = ThreadBuffer();
    for (uint64_t at = offset; at < end;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), end - at));
      RETURN_IF_ERROR(ReadAt(fd.get(), at, buffer.data(), n, name.Path()));
      RETURN_IF_ERROR(handed_over(ByteView(buffer.data(), n)));
      at += n;
    }
    return Status::Ok();
  }();
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
