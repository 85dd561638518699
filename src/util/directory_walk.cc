#include "util/directory_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

#include "util/file_util.h"

namespace ferry {

namespace {

// One directory being walked: its stream (which owns its descriptor) and the
// entry that led into it. Entries are read as the walk goes, so a directory
// of millions of names costs no memory.
struct Level {
  DIR* dir = nullptr;
  WalkEntry entry;  // depth 0 for the root
  Level() = default;
  Level(Level&& other) noexcept : dir(std::exchange(other.dir, nullptr)), entry(other.entry) {}
  Level& operator=(Level&&) = delete;
  ~Level() {
    if (dir) ::closedir(dir);
  }
};

// `fd` becomes the stream's (closed with it, also on error).
Result<DIR*> OpenStream(int fd, const std::string& shown) {
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("read directory " + shown, err);
  }
  return dir;
}

}  // namespace

Status WalkDirectoryTree(int root_fd, const WalkLimits& limits, const WalkVisitor& visitor) {
  uint64_t visited = 0;
  std::vector<Level> stack;
  stack.reserve(static_cast<size_t>(std::max(limits.max_depth, 0)) + 1);
  {
    int fd = ::openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open the walk's root", errno);
    Level root;
    ASSIGN_OR_RETURN(root.dir, OpenStream(fd, "."));
    root.entry.depth = 0;
    stack.push_back(std::move(root));
  }
  while (!stack.empty()) {
    Level& top = stack.back();
    errno = 0;
    dirent* next = ::readdir(top.dir);
    if (!next) {
      if (errno != 0)
        return ErrnoStatus("read directory " + (top.entry.depth ? top.entry.path : "."), errno);
      WalkEntry left = top.entry;
      stack.pop_back();
      if (left.depth > 0 && visitor.leave) {
        left.parent_fd = ::dirfd(stack.back().dir);
        RETURN_IF_ERROR(visitor.leave(left));
      }
      continue;
    }
    WalkEntry entry;
    entry.name = next->d_name;
    if (entry.name == "." || entry.name == "..") continue;
    entry.path = top.entry.depth == 0 ? entry.name : top.entry.path + "/" + entry.name;
    entry.depth = top.entry.depth + 1;
    entry.parent_fd = ::dirfd(top.dir);
    if (++visited > limits.max_entries)
      return Status::Corruption("more than " + std::to_string(limits.max_entries) +
                                " entries (stopped at " + entry.path + ")");
    if (::fstatat(entry.parent_fd, entry.name.c_str(), &entry.st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed since it was listed
      return ErrnoStatus("stat " + entry.path, errno);
    }
    ASSIGN_OR_RETURN(WalkStep step, visitor.visit(entry));
    if (!S_ISDIR(entry.st.st_mode) || step == WalkStep::kSkip) continue;
    if (entry.depth >= limits.max_depth)
      return Status::Corruption(entry.path + ": nested deeper than " +
                                std::to_string(limits.max_depth) + " levels");
    int fd = ::openat(entry.parent_fd, entry.name.c_str(),
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ELOOP || errno == ENOTDIR)
        return Status::Corruption(entry.path + " was replaced while it was walked");
      return ErrnoStatus("open directory " + entry.path, errno);
    }
    Level level;
    ASSIGN_OR_RETURN(level.dir, OpenStream(fd, entry.path));
    level.entry = std::move(entry);
    stack.push_back(std::move(level));  // `top` is not used after this
  }
  return Status::Ok();
}

}  // namespace ferry
