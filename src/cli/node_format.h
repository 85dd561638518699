// How find, diff and ls show a snapshot entry: the permission string and the
// `ls -l`-like line, and the JSON object of one entry (restic's field names).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "format/tree.h"

namespace ferry {

// "drwxr-xr-x", "-rwsr-x---", …
std::string PermissionString(const Node& node);
// "-rw-r--r--     root     root         1234 2024-05-01 12:00:00 /etc/fstab"
std::string LongListing(const std::string& path, const Node& node);
// {"path","type","permissions","mode","mtime","uid","gid","user","group","size"[,"links"][,"target"]}
nlohmann::json NodeJson(const std::string& path, const Node& node);

}  // namespace ferry
