#include "seed/container_backend.h"

#include "util/file_util.h"

namespace ferry {

Status ContainerBackend::ObjectRenamed(const std::string& directory) {
  std::lock_guard lock(mutex_);
  unsynced_.insert(directory);
  return Status::Ok();
}

Status ContainerBackend::SyncDirectories() {
  std::set<std::string> directories;
  {
    std::lock_guard lock(mutex_);
    directories.swap(unsynced_);
  }
  for (const std::string& directory : directories) {
    Status status = SyncDirectory(directory);
    if (!status.ok()) {
      std::lock_guard lock(mutex_);
      unsynced_.insert(directories.begin(), directories.end());
      return status;
    }
  }
  return Status::Ok();
}

}  // namespace ferry
