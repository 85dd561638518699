// ConfinedDir: a directory whose contents come from outside (a shipped disk,
// a disk given to diskprep) reached without ever leaving it.
//
// Every path is relative to the directory's own file descriptor and walked
// one component at a time with openat(O_NOFOLLOW): a symbolic link anywhere
// in a path — the file itself or a parent such as a symlinked data/ — is
// refused, never followed, so nothing outside the directory is read. Only
// regular files are opened, after fstatat(AT_SYMLINK_NOFOLLOW) says so and
// with O_NONBLOCK, so a fifo never blocks and a device is never opened.
// Errors name the path relative to the directory (its location on the
// machine that reads it is nobody else's business), and say what the entry
// is: "data/ab/ab12… is a symbolic link (not followed)".
//
// The directory itself is opened as given (following links): it is the
// operator's own argument, not something the disk chose.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept;
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();

 private:
  int fd_ = -1;
};

// "symbolic link", "directory", "named pipe", "socket", "character device",
// "block device", "regular file": for messages about an entry's type.
const char* FileTypeName(mode_t mode);

class ConfinedDir {
 public:
  ConfinedDir() = default;

  // Opens `path` (a directory); its own errors name `path`.
  static Result<ConfinedDir> Open(const std::string& path);

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

  // lstat of `relative` ("data/ab/ab12…"), no link followed on the way.
  // NotFound if it (or a parent) does not exist; Corruption if a parent is
  // not a directory (a symlink, a file).
  Result<struct stat> Stat(const std::string& relative) const;

  // Opens regular file `relative` read-only (`extra_flags`, e.g. O_DIRECT,
  // are added). Corruption, naming the type, for anything but a regular file.
  Result<UniqueFd> OpenFile(const std::string& relative, int extra_flags = 0) const;

  // All of regular file `relative`, if it holds at most `max_bytes`; larger
  // is Corruption before anything is read. Reads stop at max_bytes + 1 even
  // if the file grows meanwhile.
  Result<Bytes> ReadFile(const std::string& relative, uint64_t max_bytes) const;

 private:
  // The directory holding the last component, and that component.
  Result<UniqueFd> OpenParent(const std::string& relative, std::string* leaf) const;

  UniqueFd fd_;
  std::string path_;
};

}  // namespace ferry
