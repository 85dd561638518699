// Writing the content of a file being restored, piece by piece at any offset
// and in any order (blobs arrive pack by pack, not file by file), into a file
// created at its full size: every file-system block that is all zeros is
// skipped, so holes stay holes.
//
// Files of 1 MiB and more get their block-aligned pieces written with
// O_DIRECT: restoring otherwise copies every byte into the page cache, which
// on small machines costs more CPU than decrypting and decompressing it
// (docs/benchmarks.md). A piece's partial blocks at either end — shared with
// the neighbouring blobs, or the file's unaligned tail — go through the page
// cache, so no block is ever written both ways. Where the file system refuses
// O_DIRECT, everything goes through the page cache.
//
// Not thread-safe: one writer per thread. Several writers may write disjoint
// pieces of one file at once.
#pragma once

#include <cstdint>
#include <string>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

// Writes `data` at `offset` of the open file `fd`, skipping every
// file-system block that is all zeros. `path` names the file in errors.
Status WriteSparse(int fd, ByteView data, uint64_t offset, const std::string& path);

class RestoredFileWriter {
 public:
  static constexpr uint64_t kDirectMinimum = 1 << 20;

  RestoredFileWriter() = default;
  ~RestoredFileWriter() { Close(); }
  RestoredFileWriter(const RestoredFileWriter&) = delete;
  RestoredFileWriter& operator=(const RestoredFileWriter&) = delete;

  // Takes over `fd`, open for writing on `path`, a file of `size` bytes.
  void Adopt(int fd, const std::string& path, uint64_t size);
  // Opens the existing file `path` of `size` bytes for writing.
  Status Open(const std::string& path, uint64_t size);
  void Close();

  // REQUIRES: open. `staging` is this thread's buffer for O_DIRECT pieces
  // (page-aligned memory), reused from write to write.
  Status WriteAt(ByteView data, uint64_t offset, BufferBytes& staging);

 private:
  Status WriteDirect(ByteView data, uint64_t offset, BufferBytes& staging);

  int fd_ = -1;
  int direct_fd_ = -1;
  bool direct_tried_ = false;
  uint64_t size_ = 0;
  std::string path_;
};

}  // namespace ferry
