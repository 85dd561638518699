#include "seed/ingest_container.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "seed/container_backend.h"
#include "seed/storage_root_id.h"
#include "storage/backend_registry.h"
#include "util/file_util.h"

namespace ferry {

namespace {

// While other ingests copy into the same container (several operators may
// ingest drives of one job at once), a temp file is only known to be a killed
// run's when it has not been written to for this long.
constexpr int64_t kStaleTempSeconds = 10 * 60;

bool PlainComponent(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('?') == std::string::npos;
}

}  // namespace

Result<std::string> ContainerLocation(const std::string& storage_root, const std::string& account,
                                      const std::string& container) {
  if (!PlainComponent(account) || !PlainComponent(container) || account == kStorageRootIdFile)
    return Status::InvalidArgument("storage account '" + account + "' and container '" + container +
                                   "' cannot be names below the storage root");
  return StorageLocationChild(storage_root, account + "/" + container);
}

Result<std::unique_ptr<IngestContainer>> IngestContainer::Open(const std::string& location) {
  ASSIGN_OR_RETURN(StorageLocation parsed, ParseStorageLocation(location));
  std::unique_ptr<IngestContainer> opened(new IngestContainer);
  opened->location_ = location;
  if (parsed.scheme != "local") {
    ASSIGN_OR_RETURN(opened->backend_, OpenBackend(location));
    // The store's container or bucket must be there (Azure creates a
    // missing container; S3 says which bucket is missing) before packs go in.
    Status created = opened->backend_->Create();
    if (!created.ok() && created.code() != StatusCode::kAlreadyExists)
      return created.WithContext("preparing the container " + location);
    return opened;
  }
  const std::string& directory = parsed.address;
  auto backend = std::make_unique<ContainerBackend>(directory);
  RETURN_IF_ERROR(backend->CreateDataDirectories().WithContext("preparing the container"));
  opened->directory_ = backend.get();
  opened->backend_ = std::move(backend);
  // Every ingest holds a shared flock on the container directory while it
  // copies into it (the kernel drops it when the process dies, kill -9
  // included). One that gets the lock exclusively knows no other ingest is
  // running, so every temp file there is a killed run's and goes at once;
  // otherwise only stale ones.
  opened->lock_fd_ = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (opened->lock_fd_ < 0) return ErrnoStatus("open container " + directory, errno);
  bool alone = ::flock(opened->lock_fd_, LOCK_EX | LOCK_NB) == 0;
  RemoveTempFiles(directory + "/data", alone ? 0 : kStaleTempSeconds);
  if (::flock(opened->lock_fd_, LOCK_SH) != 0)
    return ErrnoStatus("lock container " + directory, errno);
  return opened;
}

IngestContainer::~IngestContainer() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing releases the flock
}

Status IngestContainer::MakeDurable() {
  if (!directory_) return Status::Ok();
  return directory_->SyncDirectories().WithContext("syncing " + location_);
}

}  // namespace ferry
