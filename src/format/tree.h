// Tree objects: one directory's listing with full metadata (docs/format.md,
// "Trees"). Stored as JSON blobs of type tree in packs; the encoding is
// deterministic (sorted keys, nodes sorted by name) so an unchanged directory
// yields the same tree ID and is stored once. Access times are not recorded:
// reading a file or listing a directory changes them, so recording them would
// make every backup of unchanged data write new trees (borg decides the same).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "util/bytes.h"
#include "util/id.h"

namespace ferry {

enum class NodeType { kFile, kDirectory, kSymlink, kFifo, kCharDevice, kBlockDevice, kSocket };
const char* NodeTypeName(NodeType type);

struct Node {
  std::string name;  // raw bytes; need not be UTF-8
  NodeType type = NodeType::kFile;
  uint32_t mode = 0;  // permission bits including setuid, setgid, sticky (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user;  // names at backup time, informational
  std::string group;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  uint64_t links = 0;
  uint64_t size = 0;
  uint64_t rdev = 0;                                  // device nodes
  std::string link_target;                            // symlinks; raw bytes
  std::vector<Id> content;                            // files: data blob IDs in order
  Id subtree;                                         // directories: the tree blob of its contents
  std::vector<std::pair<std::string, Bytes>> xattrs;  // sorted by name

  bool operator==(const Node&) const = default;
};

struct Tree {
  std::vector<Node> nodes;  // sorted by name (bytewise)
};

// The deepest nesting of trees a snapshot may have (docs/format.md, "Trees"):
// the root tree is at depth 1, the tree of /a at depth 2, and so on. 2048 is
// the deepest directory a PATH_MAX (4096-byte) path can name with one-byte
// names, so no backup of a real file system comes near it; readers refuse
// deeper trees (naming the path) instead of walking whatever a hostile
// repository nests, and the archiver never writes them.
constexpr size_t kMaxTreeDepth = 2048;

Bytes EncodeTree(const Tree& tree);
Result<Tree> ParseTree(ByteView json);

}  // namespace ferry
