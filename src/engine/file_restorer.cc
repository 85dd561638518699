#include "engine/file_restorer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "engine/restored_file_writer.h"
#include "util/file_util.h"

namespace ferry {

namespace {
constexpr uint8_t kCreated = 1;
constexpr uint8_t kFailed = 2;
constexpr size_t kNoFile = SIZE_MAX;

// Creates `path` (it must not exist) at `size` bytes: the regions never
// written stay holes. Returns the open descriptor.
Result<int> CreateFullSize(const std::string& path, uint64_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("create " + path, errno);
  if (size > 0 && ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    Status status = ErrnoStatus("set size of " + path, errno);
    ::close(fd);
    ::unlink(path.c_str());
    return status;
  }
  return fd;
}
}  // namespace

// One worker's state: the file it has open (blobs of one pack mostly go to
// one file, or to files one after another) and its O_DIRECT staging buffer.
class FileRestorer::Worker {
 public:
  explicit Worker(FileRestorer& restorer) : restorer_(restorer) {}

  void Run() {
    const std::vector<PlannedPack>& packs = restorer_.plan_.packs();
    size_t empty = restorer_.empty_files_.size();
    for (size_t job; (job = restorer_.next_job_++) < empty + packs.size();) {
      if (restorer_.Cancelled()) return;
      if (job < empty) {
        CreateEmpty(restorer_.empty_files_[job]);
      } else {
        RestorePack(packs[job - empty]);
        Close();
      }
    }
  }

 private:
  void Close() {
    writer_.Close();
    file_ = kNoFile;
  }

  void CreateEmpty(size_t file) {
    std::string temp = restorer_.temp_path_(file);
    auto fd = CreateFullSize(temp, 0);
    if (fd.ok()) ::close(*fd);
    restorer_.done_(file, fd.status());
  }

  void RestorePack(const PlannedPack& pack) {
    IndexedPack wanted{pack.pack_id, pack.salt, {}};
    wanted.blobs.reserve(pack.blobs.size());
    for (const PlannedBlob& blob : pack.blobs) wanted.blobs.push_back(blob.entry);
    // Not OK only when cancelled: read errors come blob by blob.
    ReadPackBlobs(
        restorer_.repository_, wanted,
        [&](size_t index, Result<Bytes> plain) -> Status {
          if (restorer_.Cancelled()) return Status::Interrupted("restore interrupted");
          for (const BlobTarget& target : pack.blobs[index].targets) {
            if (plain.ok())
              Write(target, *plain);
            else
              restorer_.Fail(target.file, plain.status());
          }
          return Status::Ok();
        },
        restorer_.options_.max_gap)
        .IgnoreError();
  }

  void Write(const BlobTarget& target, ByteView data) {
    size_t file = target.file;
    uint64_t size = restorer_.plan_.files()[file].size;
    Status status;
    {
      std::lock_guard lock(restorer_.LockOf(file));
      uint8_t& state = restorer_.state_[file];
      if (state & kFailed) return;
      if (!(state & kCreated)) {
        // Under the lock: a second writer of this file waits for it to exist.
        std::string temp = restorer_.temp_path_(file);
        auto fd = CreateFullSize(temp, size);
        if (fd.ok()) {
          state |= kCreated;
          Close();
          writer_.Adopt(*fd, temp, size);
          file_ = file;
        } else {
          status = fd.status();
        }
      }
    }
    if (status.ok() && file_ != file) {
      Close();
      status = writer_.Open(restorer_.temp_path_(file), size);
      if (status.ok()) file_ = file;
    }
    if (status.ok()) status = writer_.WriteAt(data, target.offset, staging_);
    if (status.ok() && restorer_.bytes_written_) *restorer_.bytes_written_ += data.size();
    if (!status.ok()) {
      if (file_ == file) Close();
      restorer_.Fail(file, status);
      return;
    }
    bool complete;
    {
      std::lock_guard lock(restorer_.LockOf(file));
      complete = --restorer_.remaining_[file] == 0 && !(restorer_.state_[file] & kFailed);
    }
    if (!complete) return;
    if (file_ == file) Close();
    restorer_.done_(file, Status::Ok());
  }

  FileRestorer& restorer_;
  RestoredFileWriter writer_;
  size_t file_ = kNoFile;  // the file writer_ has open
  BufferBytes staging_;
};

FileRestorer::FileRestorer(Repository& repository, const RestorePlan& plan,
                           const FileRestoreOptions& options,
                           std::function<std::string(size_t file)> temp_path,
                           std::function<void(size_t file, const Status& status)> done,
                           std::atomic<uint64_t>* bytes_written)
    : repository_(repository),
      plan_(plan),
      options_(options),
      temp_path_(std::move(temp_path)),
      done_(std::move(done)),
      bytes_written_(bytes_written) {
  const std::vector<PlannedFile>& files = plan.files();
  remaining_.resize(files.size());
  state_.assign(files.size(), 0);
  for (size_t file = 0; file < files.size(); ++file) {
    remaining_[file] = files[file].targets;
    if (files[file].refused)
      state_[file] = kFailed;  // reported by whoever planned it
    else if (files[file].targets == 0)
      empty_files_.push_back(file);
  }
}

void FileRestorer::Fail(size_t file, const Status& status) {
  bool created;
  {
    std::lock_guard lock(LockOf(file));
    uint8_t& state = state_[file];
    if (state & kFailed) return;
    state |= kFailed;
    created = state & kCreated;
  }
  // A writer still holding it open writes into the removed file; harmless.
  if (created) ::unlink(temp_path_(file).c_str());
  done_(file, status);
}

void FileRestorer::Run() {
  int threads = std::max(1, options_.threads);
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back([this] { Worker(*this).Run(); });
  Worker(*this).Run();
  for (std::thread& thread : pool) thread.join();
  if (!Cancelled()) return;
  // Cancelled: no full-size file of holes may stay behind.
  for (size_t file = 0; file < state_.size(); ++file)
    if (state_[file] == kCreated && remaining_[file] > 0) ::unlink(temp_path_(file).c_str());
}

}  // namespace ferry
