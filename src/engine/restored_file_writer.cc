#include "engine/restored_file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/file_util.h"

namespace ferry {

namespace {

constexpr uint64_t kBlock = 4096;

bool IsAllZero(ByteView data) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    if (word) return false;
  }
  for (; n; ++p, --n)
    if (*p) return false;
  return true;
}

}  // namespace

// Chunks do not follow hole boundaries (a chunk may hold the end of the data
// and the start of a hole), so whole-blob checks alone would fill holes:
// each block is looked at.
Status WriteSparse(int fd, ByteView data, uint64_t offset, const std::string& path) {
  size_t position = 0;
  while (position < data.size()) {
    // Up to the next block boundary of the file, so holes stay block-aligned.
    auto block_end = [&](size_t at) {
      uint64_t next = (offset + at) / kBlock * kBlock + kBlock;
      return std::min<size_t>(data.size(), static_cast<size_t>(next - offset));
    };
    size_t end = block_end(position);
    if (IsAllZero(data.subspan(position, end - position))) {
      position = end;
      continue;
    }
    size_t run_end = end;
    while (run_end < data.size()) {
      size_t next = block_end(run_end);
      if (IsAllZero(data.subspan(run_end, next - run_end))) break;
      run_end = next;
    }
    size_t done = position;
    while (done < run_end) {
      ssize_t n =
          ::pwrite(fd, data.data() + done, run_end - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("write " + path, errno);
      done += static_cast<size_t>(n);
    }
    position = run_end;
  }
  return Status::Ok();
}

void RestoredFileWriter::Adopt(int fd, const std::string& path, uint64_t size) {
  Close();
  fd_ = fd;
  path_ = path;
  size_ = size;
}

Status RestoredFileWriter::Open(const std::string& path, uint64_t size) {
  Close();
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  Adopt(fd, path, size);
  return Status::Ok();
}

void RestoredFileWriter::Close() {
  if (direct_fd_ >= 0) ::close(direct_fd_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = direct_fd_ = -1;
  direct_tried_ = false;
}

Status RestoredFileWriter::WriteAt(ByteView data, uint64_t offset, BufferBytes& staging) {
  uint64_t end = offset + data.size();
  uint64_t inner_begin = (offset + kBlock - 1) / kBlock * kBlock;
  uint64_t inner_end = end / kBlock * kBlock;
  if (size_ < kDirectMinimum || inner_end <= inner_begin)
    return WriteSparse(fd_, data, offset, path_);
  if (!direct_tried_) {
    direct_tried_ = true;
    direct_fd_ = ::open(path_.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
  }
  if (direct_fd_ < 0) return WriteSparse(fd_, data, offset, path_);
  size_t head = static_cast<size_t>(inner_begin - offset);
  size_t inner = static_cast<size_t>(inner_end - inner_begin);
  RETURN_IF_ERROR(WriteSparse(fd_, data.first(head), offset, path_));
  RETURN_IF_ERROR(WriteDirect(data.subspan(head, inner), inner_begin, staging));
  return WriteSparse(fd_, data.subspan(head + inner), inner_end, path_);
}

// REQUIRES: `offset` and the length of `data` are multiples of kBlock.
Status RestoredFileWriter::WriteDirect(ByteView data, uint64_t offset, BufferBytes& staging) {
  constexpr size_t kPiece = 4 << 20;
  for (size_t done = 0; done < data.size();) {
    size_t n = std::min(kPiece, data.size() - done);
    ByteView piece = data.subspan(done, n);
    if (direct_fd_ >= 0) {
      // O_DIRECT needs aligned memory too: the blob's plaintext is not.
      staging.resize(n);
      std::memcpy(staging.data(), piece.data(), n);
      if (WriteSparse(direct_fd_, staging, offset + done, path_).ok()) {
        done += n;
        continue;
      }
      ::close(direct_fd_);  // refused after all: the page cache from here on
      direct_fd_ = -1;
    }
    RETURN_IF_ERROR(WriteSparse(fd_, piece, offset + done, path_));
    done += n;
  }
  return Status::Ok();
}

}  // namespace ferry
