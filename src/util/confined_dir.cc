#include "util/confined_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "util/file_util.h"

namespace ferry {

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd::UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

int UniqueFd::release() { return std::exchange(fd_, -1); }

const char* FileTypeName(mode_t mode) {
  if (S_ISREG(mode)) return "regular file";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISLNK(mode)) return "symbolic link";
  if (S_ISFIFO(mode)) return "named pipe";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  return "special file";
}

namespace {

// What a disk chose to put where a regular file should be, said plainly.
Status NotRegular(const std::string& relative, mode_t mode) {
  std::string what = FileTypeName(mode);
  std::string why = S_ISLNK(mode) ? " (not followed)" : S_ISDIR(mode) ? "" : " (not read)";
  return Status::Corruption(relative + " is a " + what + why + ", not a regular file");
}

// Splits "a/b/c" into its components; anything that could climb out
// (absolute, "..", ".", empty components) is refused: paths come from this
// program, and one that does not look like ours is a bug.
Result<std::vector<std::string>> Components(const std::string& relative) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = relative.find('/', start);
    std::string part = relative.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..")
      return Status::Internal("'" + relative + "' is not a path inside a directory");
    parts.push_back(std::move(part));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

// An errno from walking `prefix`, named relative to the directory.
Status ComponentError(const std::string& prefix, int err, int dir_fd, const std::string& part) {
  if (err == ELOOP || err == ENOTDIR) {
    struct stat st;
    if (::fstatat(dir_fd, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
      return Status::Corruption(prefix + " is a " + FileTypeName(st.st_mode) +
                                (S_ISLNK(st.st_mode) ? " (not followed)" : "") +
                                ", not a directory");
  }
  if (err == ENOENT) return Status::NotFound(prefix + " does not exist");
  return ErrnoStatus(prefix, err);
}

}  // namespace

Result<ConfinedDir> ConfinedDir::Open(const std::string& path) {
  ConfinedDir dir;
  dir.path_ = path;
  dir.fd_ = UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.fd_.valid()) {
    if (errno == ENOTDIR) return Status::InvalidArgument(path + " is not a directory");
    return ErrnoStatus("open " + path, errno);
  }
  return dir;
}

Result<UniqueFd> ConfinedDir::OpenParent(const std::string& relative, std::string* leaf) const {
  if (!fd_.valid()) return Status::Internal("ConfinedDir used before Open");
  ASSIGN_OR_RETURN(std::vector<std::string> parts, Components(relative));
  *leaf = parts.back();
  parts.pop_back();
  // dup: the caller owns what it gets, whichever level that is.
  UniqueFd current(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
  if (!current.valid()) return ErrnoStatus("dup " + path_, errno);
  std::string prefix;
  for (const std::string& part : parts) {
    prefix += (prefix.empty() ? "" : "/") + part;
    int next =
        ::openat(current.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return ComponentError(prefix, errno, current.get(), part);
    current = UniqueFd(next);
  }
  return current;
}

Result<struct stat> ConfinedDir::Stat(const std::string& relative) const {
  std::string leaf;
  ASSIGN_OR_RETURN(UniqueFd parent, OpenParent(relative, &leaf));
  struct stat st;
  if (::fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::NotFound(relative + " does not exist");
    return ErrnoStatus("stat " + relative, errno);
  }
  return st;
}

Result<UniqueFd> ConfinedDir::OpenFile(const std::string& relative, int extra_flags) const {
  std::string leaf;
  ASSIGN_OR_RETURN(UniqueFd parent, OpenParent(relative, &leaf));
  // Looked at before it is opened: opening a device can have effects of its
  // own (a tape rewinds), and a fifo would block until someone writes.
  struct stat before;
  if (::fstatat(parent.get(), leaf.c_str(), &before, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::NotFound(relative + " does not exist");
    return ErrnoStatus("stat " + relative, errno);
  }
  if (!S_ISREG(before.st_mode)) return NotRegular(relative, before.st_mode);
  int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | extra_flags;
  UniqueFd file(::openat(parent.get(), leaf.c_str(), flags));
  if (!file.valid()) {
    if (errno == ELOOP) return NotRegular(relative, S_IFLNK);  // swapped for a link meanwhile
    if (errno == ENOENT) return Status::NotFound(relative + " does not exist");
    return ErrnoStatus("open " + relative, errno);
  }
  // And checked again on what was opened: it may have been swapped meanwhile.
  struct stat after;
  if (::fstat(file.get(), &after) != 0) return ErrnoStatus("stat " + relative, errno);
  if (!S_ISREG(after.st_mode)) return NotRegular(relative, after.st_mode);
  if (after.st_ino != before.st_ino || after.st_dev != before.st_dev)
    return Status::Corruption(relative + " changed while it was being opened");
  // O_NONBLOCK only guarded the open; regular files ignore it, but say so.
  int fl = ::fcntl(file.get(), F_GETFL);
  if (fl >= 0) ::fcntl(file.get(), F_SETFL, fl & ~O_NONBLOCK);
  return file;
}

Result<Bytes> ConfinedDir::ReadFile(const std::string& relative, uint64_t max_bytes) const {
  ASSIGN_OR_RETURN(UniqueFd file, OpenFile(relative));
  struct stat st;
  if (::fstat(file.get(), &st) != 0) return ErrnoStatus("stat " + relative, errno);
  auto too_large = [&](uint64_t size) {
    return Status::Corruption(relative + " is " + std::to_string(size) + " bytes, more than the " +
                              std::to_string(max_bytes) + " it can be");
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes) return too_large(st.st_size);
  Bytes out(static_cast<size_t>(st.st_size) + 1);
  size_t done = 0;
  for (;;) {
    if (done == out.size()) {
      if (out.size() > max_bytes) return too_large(out.size());  // it grew while read
      out.resize(std::min<uint64_t>(max_bytes + 1, out.size() * 2));
    }
    ssize_t n = ::read(file.get(), out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read " + relative, errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  if (done > max_bytes) return too_large(done);
  out.resize(done);
  return out;
}

}  // namespace ferry
