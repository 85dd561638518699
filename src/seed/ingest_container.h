// IngestContainer: the import job's storage container that datacenter ingest
// fills, wherever the storage account is. The container's location is
// ROOT/ACCOUNT/CONTAINER below a storage root of any scheme
// (StorageLocationChild), the same place the vault adopts from:
//
//  - a directory (a path, local:PATH): a ContainerBackend, whose renames are
//    made durable once per drive (MakeDurable), under a shared flock so that
//    a run can tell a killed run's temp files from those of another ingest
//    still copying, and remove them;
//  - an object store (azure://, s3://, …, opened through the registry): an
//    upload is atomic and durable once acknowledged, and an interrupted one
//    leaves nothing listed, so there is nothing to lock, sync or clean up.
//
// Either way a re-run finds the packs already committed and skips them.
#pragma once

#include <memory>
#include <string>

#include "storage/backend.h"
#include "util/status.h"

namespace ferry {

class ContainerBackend;

// The location of container `account`/`container` below `storage_root`; both
// names must be plain path components. The vault opens the same location to
// adopt a seed and to clean it up.
Result<std::string> ContainerLocation(const std::string& storage_root, const std::string& account,
                                      const std::string& container);

class IngestContainer {
 public:
  // Opens the container at `location` (ContainerLocation), creating what a
  // directory needs.
  static Result<std::unique_ptr<IngestContainer>> Open(const std::string& location);
  ~IngestContainer();
  IngestContainer(const IngestContainer&) = delete;
  IngestContainer& operator=(const IngestContainer&) = delete;

  Backend& backend() { return *backend_; }
  // The container's storage location, for reports ("/srv/accounts/a/c",
  // "azure://accounts/a/c?account=acct1").
  const std::string& location() const { return location_; }
  // Makes every pack committed so far durable; called before a drive is
  // reported Completed.
  Status MakeDurable();

 private:
  IngestContainer() = default;

  std::string location_;
  std::unique_ptr<Backend> backend_;
  ContainerBackend* directory_ = nullptr;  // backend_ when the container is a directory
  int lock_fd_ = -1;                       // the directory's shared flock
};

}  // namespace ferry
