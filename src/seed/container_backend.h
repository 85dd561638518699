// ContainerBackend: the job's storage container (a directory of data/XX/ID
// packs, as LocalBackend lays it out) with pack writes that bypass the page
// cache. Ingest writes each pack once and never reads it back in this
// process; going through the cache would cost a copy of every byte in CPU
// and then the same fsync anyway.
//
// Commit is temp file, fdatasync, rename; the directory fsync that makes the
// rename durable is deferred to SyncDirectories(), called once per drive
// before ingest reports it: one journal commit per directory instead of one
// per pack. A crash before then can lose a rename, never expose a partial
// pack, and a lost pack is simply copied again by the next run.
#pragma once

#include <mutex>
#include <set>

#include "storage/local_backend.h"

namespace ferry {

class ContainerBackend : public LocalBackend {
 public:
  explicit ContainerBackend(std::string root) : LocalBackend(std::move(root)) {}

  Result<std::unique_ptr<ObjectWriter>> OpenWriter(const ObjectName& name) override;

  // Makes every rename committed so far durable (fsync of their directories).
  Status SyncDirectories();

 private:
  friend class DirectObjectWriter;
  void Renamed(const std::string& directory);

  std::mutex mutex_;
  std::set<std::string> unsynced_;  // directories with renames not yet fsynced
};

}  // namespace ferry
