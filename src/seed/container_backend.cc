#include "seed/container_backend.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/direct_io.h"
#include "util/file_util.h"

namespace ferry {

class DirectObjectWriter : public ObjectWriter {
 public:
  DirectObjectWriter(ContainerBackend& backend, std::string path, std::string temp,
                     DirectWriter writer)
      : backend_(backend),
        path_(std::move(path)),
        temp_(std::move(temp)),
        writer_(std::move(writer)) {}
  ~DirectObjectWriter() override {
    if (committed_) return;
    writer_.Close().IgnoreError();  // abandoned: the temp file goes
    ::unlink(temp_.c_str());
  }

  // Pieces arrive aligned from DiskSource (8 MiB) and go to the device as
  // they are; anything else is staged in an aligned buffer first, so that
  // only the pack's tail goes through the page cache.
  Status Write(ByteView data) override {
    if (pending_.empty() && IsAligned(data)) return writer_.Append(data);
    while (!data.empty()) {
      if (pending_.capacity() < kStage) pending_.reserve(kStage);
      size_t n = std::min(kStage - pending_.size(), data.size());
      pending_.insert(pending_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(n));
      data = data.subspan(n);
      if (pending_.size() == kStage) RETURN_IF_ERROR(FlushPending());
    }
    return Status::Ok();
  }

  Status Commit() override {
    RETURN_IF_ERROR(FlushPending());
    RETURN_IF_ERROR(writer_.Sync());
    RETURN_IF_ERROR(writer_.Close());
    if (::rename(temp_.c_str(), path_.c_str()) != 0)
      return ErrnoStatus("rename " + temp_ + " to " + path_, errno);
    committed_ = true;
    backend_.Renamed(path_.substr(0, path_.rfind('/')));
    return Status::Ok();
  }

 private:
  static constexpr size_t kStage = 4u << 20;
  static bool IsAligned(ByteView data) {
    return reinterpret_cast<uintptr_t>(data.data()) % kBufferAlignment == 0 &&
           data.size() % kBufferAlignment == 0;
  }
  Status FlushPending() {
    if (pending_.empty()) return Status::Ok();
    Status status = writer_.Append(pending_);
    pending_.clear();
    return status;
  }

  ContainerBackend& backend_;
  std::string path_, temp_;
  DirectWriter writer_;
  BufferBytes pending_;
  bool committed_ = false;
};

void ContainerBackend::Renamed(const std::string& directory) {
  std::lock_guard lock(mutex_);
  unsynced_.insert(directory);
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

Result<std::unique_ptr<ObjectWriter>> ContainerBackend::OpenWriter(const ObjectName& name) {
  std::string path = Location() + "/" + name.Path();
  std::string temp = TempPathFor(path);
  ASSIGN_OR_RETURN(DirectWriter writer, DirectWriter::Create(temp, 0, 0600));
  return std::unique_ptr<ObjectWriter>(
      new DirectObjectWriter(*this, path, temp, std::move(writer)));
}

}  // namespace ferry
