// LocalBackend: a repository in a directory of the local filesystem (or a
// mounted NAS). Objects are files at ObjectName::Path(); writes go through a
// temp file, fsync, rename and directory fsync so that a crash never leaves a
// partial object under a real name.
#pragma once

#include "storage/backend.h"

namespace ferry {

class LocalBackend : public Backend {
 public:
  explicit LocalBackend(std::string root);

  Status Create() override;
  // Only data/00 … data/ff: for directories that hold packs and nothing else
  // (a staging directory, a disk, a storage container).
  Status CreateDataDirectories();
  Status Put(const ObjectName& name, ByteView data) override;
  Status PutIfAbsent(const ObjectName& name, ByteView data) override;
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Stat(const ObjectName& name) override;
  Status List(ObjectKind kind,
              const std::function<Status(const std::string&, uint64_t)>& visit) override;
  Status Remove(const ObjectName& name) override;
  std::string Location() const override { return root_; }
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(const ObjectName& name) override;
  Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                    const std::function<Status(ByteView)>& sink) override;

 protected:
  friend class LocalObjectWriter;
  // Called when a streamed object has been renamed into `directory`: makes
  // the rename durable (fsync of the directory). A subclass may defer it.
  virtual Status ObjectRenamed(const std::string& directory);

 private:
  std::string FullPath(const ObjectName& name) const { return root_ + "/" + name.Path(); }

  std::string root_;
};

}  // namespace ferry
