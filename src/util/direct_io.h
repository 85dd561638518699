// Large sequential file I/O that bypasses the page cache: reading a copy back
// from the device to prove what the device holds (diskprep's read-back, the
// datacenter's ingest), and writing big files without pushing everything else
// out of memory.
//
// Both use O_DIRECT with kBufferAlignment-aligned buffers, offsets and lengths.
// Where the file system refuses O_DIRECT (EINVAL: tmpfs, some FUSE and network
// file systems) they fall back to buffered I/O: the reader then flushes the
// file (fdatasync) and drops its cached pages (POSIX_FADV_DONTNEED) before
// reading, so that it still reads from the device wherever the kernel allows.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "util/bytes.h"
#include "util/confined_dir.h"
#include "util/status.h"

namespace ferry {

class UncachedReader {
 public:
  UncachedReader() = default;
  ~UncachedReader();
  UncachedReader(UncachedReader&& other) noexcept;
  UncachedReader& operator=(UncachedReader&& other) noexcept;
  UncachedReader(const UncachedReader&) = delete;
  UncachedReader& operator=(const UncachedReader&) = delete;

  static Result<UncachedReader> Open(const std::string& path);
  // Takes over `fd`, an open regular file (opened without O_DIRECT, e.g. by
  // ConfinedDir::OpenFile); `path` names it in errors.
  static Result<UncachedReader> Adopt(UniqueFd fd, std::string path);

  // Reads up to `length` bytes at `offset` into `out`; fewer only at the end
  // of the file. REQUIRES: `out`, `offset` and `length` are multiples of
  // kBufferAlignment (O_DIRECT's rule; harmless in the buffered fallback).
  Result<size_t> Read(uint64_t offset, uint8_t* out, size_t length);

  uint64_t size() const { return size_; }

 private:
  int fd_ = -1;
  bool direct_ = false;
  uint64_t size_ = 0;
  std::string path_;
};

// Reads all of `path` from the device in pieces of `buffer.size()` bytes and
// hands each to `sink`. `buffer` must be aligned and a multiple of
// kBufferAlignment long (BufferBytes is). Returns the number of bytes read.
Result<uint64_t> ReadFileUncached(const std::string& path, BufferBytes& buffer,
                                  const std::function<Status(ByteView)>& sink);
// The same for a file already open.
Result<uint64_t> ReadFileUncached(UncachedReader& reader, BufferBytes& buffer,
                                  const std::function<Status(ByteView)>& sink);

// A new file written sequentially: aligned pieces go through O_DIRECT, the
// unaligned tail (and everything, where O_DIRECT is refused) through the
// page cache. Close() without Sync() is for abandoning the file.
class DirectWriter {
 public:
  DirectWriter() = default;
  ~DirectWriter();
  DirectWriter(DirectWriter&& other) noexcept;
  DirectWriter& operator=(DirectWriter&& other) noexcept;
  DirectWriter(const DirectWriter&) = delete;
  DirectWriter& operator=(const DirectWriter&) = delete;

  // Creates `path` (it must not exist). `expected_size`, when known, is
  // reserved up front (fallocate) so the file is laid out contiguously.
  static Result<DirectWriter> Create(const std::string& path, uint64_t expected_size,
                                     int mode = 0644);

  Status Append(ByteView data);
  // fdatasync: the bytes are on the device when this returns OK.
  Status Sync();
  Status Close();

 private:
  int fd_ = -1;
  int direct_fd_ = -1;
  uint64_t offset_ = 0;
  std::string path_;
};

}  // namespace ferry
