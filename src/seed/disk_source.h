// DiskSource: a shipped disk's data/XX/ID packs seen as a read-only Backend,
// so that ingest copies them with CopyVerifiedPack like every other pack copy.
//
// It differs from LocalBackend in what a datacenter copy needs: whole packs
// are read in 8 MiB pieces straight from the device (O_DIRECT, see
// util/direct_io.h; a disk is read once, and caching it would only cost CPU
// and push out the container's dirty pages), and it remembers whether a
// failed copy failed on the disk's side (a damaged pack) or on the receiving
// side (the container).
//
// Nothing on the disk is followed: every pack is reached through a
// ConfinedDir (util/confined_dir.h), so a symlinked data/ or a pack-named
// link to a file outside the disk is a corrupt pack, never a read elsewhere,
// and errors name paths relative to the disk.
#pragma once

#include <memory>
#include <string>

#include "storage/backend.h"
#include "util/confined_dir.h"

namespace ferry {

class DiskSource : public Backend {
 public:
  // Opens the disk's directory (an error if it cannot be opened).
  static Result<std::unique_ptr<DiskSource>> Open(const std::string& root);

  // The disk, for its other files (label, manifest) and its walk.
  const ConfinedDir& dir() const { return dir_; }

  // True if a ReadStream on this thread since ClearDiskFailure() failed
  // reading the disk (not in the sink): the pack is unreadable, which ingest
  // reports as corrupt rather than as an error of the container.
  static bool DiskFailed();
  static void ClearDiskFailure();

  Result<uint64_t> Stat(const ObjectName& name) override;
  Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                    const std::function<Status(ByteView)>& sink) override;
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override;
  std::string Location() const override { return root_; }

  // A disk is never written or listed through this class.
  Status Create() override { return ReadOnly(); }
  Status Put(const ObjectName&, ByteView) override { return ReadOnly(); }
  Status PutIfAbsent(const ObjectName&, ByteView) override { return ReadOnly(); }
  Status List(ObjectKind, const std::function<Status(const std::string&, uint64_t)>&) override {
    return ReadOnly();
  }
  Status Remove(const ObjectName&) override { return ReadOnly(); }

 private:
  DiskSource(std::string root, ConfinedDir dir) : root_(std::move(root)), dir_(std::move(dir)) {}
  Status ReadOnly() const {
    return Status::Unsupported("a shipped disk is read-only to ingest: " + root_);
  }

  std::string root_;
  ConfinedDir dir_;
};

}  // namespace ferry
