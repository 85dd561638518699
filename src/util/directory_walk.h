// A bounded walk over a directory tree that came from outside (a shipped
// disk, a disk given to diskprep): iterative, never follows a symbolic link,
// never opens anything but directories, and stops with a clear error past a
// depth or a number of entries, so a hostile tree costs bounded time, memory
// and file descriptors (one per level) and cannot crash the walker.
//
// Each entry is lstat'ed (fstatat AT_SYMLINK_NOFOLLOW) relative to its
// parent's descriptor; a directory is entered with openat(O_NOFOLLOW |
// O_DIRECTORY), so one swapped for a link meanwhile is refused. Entries come
// in readdir order, read as the walk goes (a directory of millions of names
// costs no memory): callers that report them sort what they keep.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <string>

#include "util/status.h"

namespace ferry {

struct WalkLimits {
  int max_depth = 16;               // levels below the root that may be entered
  uint64_t max_entries = 1u << 20;  // entries visited in all
};

struct WalkEntry {
  std::string path;    // relative to the root, '/'-separated, the names' raw bytes
  std::string name;    // the last component
  int depth = 1;       // 1 for the root's own entries
  struct stat st;      // lstat: a symbolic link is S_IFLNK, never its target
  int parent_fd = -1;  // the entry's directory, open during the call (for unlinkat)
};

enum class WalkStep { kContinue, kSkip };  // kSkip: do not enter this directory

struct WalkVisitor {
  // Every entry, parents before their contents. For a directory, kContinue
  // enters it. An error stops the walk and is returned.
  std::function<Result<WalkStep>(const WalkEntry&)> visit;
  // Optional: a directory that was entered, after everything in it (for
  // removing a tree bottom-up).
  std::function<Status(const WalkEntry&)> leave;
};

// Walks the directory open at `root_fd` (not closed). Past `limits`:
// Corruption "PATH: nested deeper than N levels" or "more than N entries
// (stopped at PATH)", paths relative to the root.
Status WalkDirectoryTree(int root_fd, const WalkLimits& limits, const WalkVisitor& visitor);

}  // namespace ferry
