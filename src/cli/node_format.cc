#include "cli/node_format.h"

#include <sys/stat.h>

#include "util/clock.h"

namespace ferry {

std::string PermissionString(const Node& node) {
  char type = '-';
  switch (node.type) {
    case NodeType::kDirectory:
      type = 'd';
      break;
    case NodeType::kSymlink:
      type = 'l';
      break;
    case NodeType::kFifo:
      type = 'p';
      break;
    case NodeType::kCharDevice:
      type = 'c';
      break;
    case NodeType::kBlockDevice:
      type = 'b';
      break;
    case NodeType::kSocket:
      type = 's';
      break;
    default:
      break;
  }
  std::string out(1, type);
  const char* letters = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) out += (node.mode & (0400 >> i)) ? letters[i] : '-';
  if (node.mode & S_ISUID) out[3] = (node.mode & 0100) ? 's' : 'S';
  if (node.mode & S_ISGID) out[6] = (node.mode & 0010) ? 's' : 'S';
  if (node.mode & S_ISVTX) out[9] = (node.mode & 0001) ? 't' : 'T';
  return out;
}

std::string LongListing(const std::string& path, const Node& node) {
  char line[512];
  std::snprintf(line, sizeof line, "%s %8s %8s %12llu %s ", PermissionString(node).c_str(),
                node.user.empty() ? std::to_string(node.uid).c_str() : node.user.c_str(),
                node.group.empty() ? std::to_string(node.gid).c_str() : node.group.c_str(),
                static_cast<unsigned long long>(node.size), FormatTimeLocal(node.mtime_ns).c_str());
  std::string out = line + path;
  if (node.type == NodeType::kSymlink) out += " -> " + node.link_target;
  return out;
}

nlohmann::json NodeJson(const std::string& path, const Node& node) {
  nlohmann::json j = {{"path", path},
                      {"type", NodeTypeName(node.type)},
                      {"permissions", PermissionString(node)},
                      {"mode", node.mode},
                      {"mtime", FormatTimeRfc3339(node.mtime_ns)},
                      {"uid", node.uid},
                      {"gid", node.gid},
                      {"user", node.user},
                      {"group", node.group},
                      {"size", node.size}};
  if (node.type == NodeType::kFile) j["links"] = node.links;
  if (node.type == NodeType::kSymlink) j["target"] = node.link_target;
  return j;
}

}  // namespace ferry
