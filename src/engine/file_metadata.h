// Between file-system entries and tree nodes: reading an entry's full metadata
// (lstat, xattrs, link target) into a Node, and applying a Node's metadata to
// a restored entry (owner, mode, xattrs, times, in that order: chown clears
// setuid bits, and anything written after utimensat would change mtime).
#pragma once

#include <sys/stat.h>

#include <string>

#include "format/tree.h"
#include "util/status.h"

namespace ferry {

// Fills every metadata field of `node` except content/subtree. `path` is the
// entry's full path, `st` its lstat result.
Status ReadNodeMetadata(const std::string& path, const struct stat& st, Node& node);

// Applies owner (when running as root), mode, xattrs and times to `path`.
// Symlinks get owner, xattrs and times, never a mode.
Status ApplyNodeMetadata(const std::string& path, const Node& node);

// True if `now` (just read from disk) is the same unchanged file that `parent`
// recorded: same size, mtime, ctime and inode.
bool UnchangedSince(const Node& now, const Node& parent);

int64_t MtimeNanos(const struct stat& st);

}  // namespace ferry
