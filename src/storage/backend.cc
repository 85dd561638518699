#include "storage/backend.h"

#include "storage/local_backend.h"

namespace ferry {

const char* ObjectKindName(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kConfig: return "config";
    case ObjectKind::kKey: return "keys";
    case ObjectKind::kData: return "data";
    case ObjectKind::kIndex: return "index";
    case ObjectKind::kSnapshot: return "snapshots";
    case ObjectKind::kLock: return "locks";
  }
  return "?";
}

std::string ObjectName::Path() const {
  if (kind == ObjectKind::kConfig) return "config";
  if (kind == ObjectKind::kData) return "data/" + name.substr(0, 2) + "/" + name;
  return std::string(ObjectKindName(kind)) + "/" + name;
}

bool IsObjectId(const std::string& name) {
  if (name.size() != 64) return false;
  for (char c : name)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<std::unique_ptr<Backend>> OpenBackend(const std::string& location) {
  if (location.empty())
    return Status::InvalidArgument(
        "no repository given: use --repo or set FERRY_REPOSITORY");
  if (location.find("://") != std::string::npos)
    return Status::Unsupported("repository location '" + location +
                               "': only local directories are supported so far");
  return std::unique_ptr<Backend>(new LocalBackend(location));
}

}  // namespace ferry
