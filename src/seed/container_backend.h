// ContainerBackend: the job's storage container (a directory of data/XX/ID
// packs, as LocalBackend lays it out) for ingest. Packs are streamed in
// with O_DIRECT as by every LocalBackend; what differs is durability of the
// renames: the directory fsync is deferred to SyncDirectories(), called
// once per drive before ingest reports it — one journal commit per directory
// instead of one per pack. A crash before then can lose a rename, never
// expose a partial pack, and a lost pack is simply copied again by the next run.
#pragma once

#include <mutex>
#include <set>

#include "storage/local_backend.h"

namespace ferry {

class ContainerBackend : public LocalBackend {
 public:
  explicit ContainerBackend(std::string root) : LocalBackend(std::move(root)) {}

  // Makes every rename committed so far durable (fsync of their directories).
  Status SyncDirectories();

 protected:
  Status ObjectRenamed(const std::string& directory) override;

 private:
  std::mutex mutex_;
  std::set<std::string> unsynced_;  // directories with renames not yet fsynced
};

}  // namespace ferry
