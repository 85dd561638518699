#include "storage/local_backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "util/direct_io.h"
#include "util/file_util.h"

namespace ferry {

LocalBackend::LocalBackend(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Status LocalBackend::Create() {
  struct stat st;
  if (::stat((root_ + "/config").c_str(), &st) == 0)
    return Status::AlreadyExists("a repository already exists at " + root_);
  RETURN_IF_ERROR(MakeDirectories(root_));
  for (ObjectKind kind : {ObjectKind::kKey, ObjectKind::kIndex, ObjectKind::kSnapshot,
                          ObjectKind::kLock, ObjectKind::kData})
    RETURN_IF_ERROR(MakeDirectories(root_ + "/" + ObjectKindName(kind)));
  RETURN_IF_ERROR(CreateDataDirectories());
  return SyncDirectory(root_);
}

Status LocalBackend::CreateDataDirectories() {
  // All 256 pack directories up front: Put never has to create one (and fsync its parent).
  for (int i = 0; i < 256; ++i) {
    char sub[3];
    std::snprintf(sub, sizeof sub, "%02x", i);
    RETURN_IF_ERROR(MakeDirectories(root_ + "/data/" + sub));
  }
  return SyncDirectory(root_);
}

Status LocalBackend::Put(const ObjectName& name, ByteView data) {
  return WriteFileAtomic(FullPath(name), data, 0600);
}

// link(2) refuses an existing name: the object appears whole, once.
Status LocalBackend::PutIfAbsent(const ObjectName& name, ByteView data) {
  std::string path = FullPath(name);
  std::string temp = TempPathFor(path);
  RETURN_IF_ERROR(WriteFileAtomic(temp, data, 0600));
  int linked = ::link(temp.c_str(), path.c_str());
  int err = errno;
  ::unlink(temp.c_str());
  if (linked != 0) {
    if (err == EEXIST) return Status::AlreadyExists(path + " exists");
    return ErrnoStatus("link " + temp + " to " + path, err);
  }
  return ObjectRenamed(path.substr(0, path.rfind('/')));
}

namespace {
// An open object file and the checked byte range to read from it.
class RangeReader {
 public:
  ~RangeReader() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Opens `path` and resolves `length` (kToEnd allowed); a range past the end
  // is Corruption: the object is shorter than its reader expects.
  Status Open(const std::string& path, uint64_t offset, uint64_t length) {
    path_ = path;
    offset_ = offset;
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return ErrnoStatus("open " + path, errno);
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("stat " + path, errno);
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (length == Backend::kToEnd) length = offset <= size ? size - offset : 0;
    if (offset > size || length > size - offset)
      return Status::Corruption(path + ": range " + std::to_string(offset) + "+" +
                                std::to_string(length) + " lies past the end (" +
                                std::to_string(size) + " bytes)");
    length_ = length;
    return Status::Ok();
  }
  uint64_t length() const { return length_; }
  Status Read(uint64_t at, uint8_t* out, size_t n) {
    return ReadAt(fd_, offset_ + at, out, n, path_);
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  uint64_t length_ = 0;
};
}  // namespace

Result<Bytes> LocalBackend::Get(const ObjectName& name, uint64_t offset, uint64_t length) {
  RangeReader reader;
  RETURN_IF_ERROR(reader.Open(FullPath(name), offset, length));
  Bytes out(reader.length());
  RETURN_IF_ERROR(reader.Read(0, out.data(), out.size()));
  return out;
}

Result<uint64_t> LocalBackend::Stat(const ObjectName& name) {
  std::string path = FullPath(name);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  return static_cast<uint64_t>(st.st_size);
}

namespace {
Status ListDirectory(const std::string& directory,
                     const std::function<Status(const std::string&, uint64_t)>& visit) {
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return ErrnoStatus("open directory " + directory, errno);
  Status status;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (!IsObjectId(name)) continue;  // temp files and strays
    struct stat st;
    if (::fstatat(::dirfd(dir), entry->d_name, &st, 0) != 0) continue;  // removed meanwhile
    status = visit(name, static_cast<uint64_t>(st.st_size));
    if (!status.ok()) break;
  }
  ::closedir(dir);
  return status;
}
}  // namespace

Status LocalBackend::List(ObjectKind kind,
                          const std::function<Status(const std::string&, uint64_t)>& visit) {
  if (kind == ObjectKind::kConfig) {
    auto size = Stat(ObjectName::Config());
    if (size.ok()) return visit("config", *size);
    return size.status().IsNotFound() ? Status::Ok() : size.status();
  }
  std::string base = root_ + "/" + ObjectKindName(kind);
  if (kind != ObjectKind::kData) return ListDirectory(base, visit);
  for (int i = 0; i < 256; ++i) {
    char sub[3];
    std::snprintf(sub, sizeof sub, "%02x", i);
    Status status = ListDirectory(base + "/" + sub, visit);
    if (!status.ok() && !status.IsNotFound()) return status;
  }
  return Status::Ok();
}

// Objects streamed in (a vault's uploads, packs copied from a disk or a
// container) are written with O_DIRECT: each is written once and not read
// back by this process, so copying it into the page cache would cost CPU —
// on a vault, CPU its clients are waiting for — and then the same fsync.
// Pieces that arrive aligned go to the device as they are; others are staged
// in an aligned buffer, so only an object's tail goes through the page cache.
// Commit: fdatasync, rename, then ObjectRenamed (by default, fsync the directory).
class LocalObjectWriter : public ObjectWriter {
 public:
  LocalObjectWriter(LocalBackend& backend, std::string path, std::string temp, DirectWriter writer)
      : backend_(backend),
        path_(std::move(path)),
        temp_(std::move(temp)),
        writer_(std::move(writer)),
        pending_(std::move(spare_stage_)) {}
  ~LocalObjectWriter() override {
    if (pending_.capacity() >= kStage && spare_stage_.capacity() < kStage) {
      pending_.clear();
      spare_stage_ = std::move(pending_);
    }
    if (committed_) return;
    writer_.Close().IgnoreError();  // abandoned: the temp file goes
    ::unlink(temp_.c_str());
  }

  Status Write(ByteView data) override {
    if (pending_.empty() && IsAligned(data)) return writer_.Append(data);
    while (!data.empty()) {
      if (pending_.capacity() < kStage) pending_.reserve(kStage);
      size_t n = std::min(kStage - pending_.size(), data.size());
      AppendBytes(pending_, data.first(n));
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
    return backend_.ObjectRenamed(path_.substr(0, path_.rfind('/')));
  }

 private:
  static constexpr size_t kStage = 1u << 20;
  // The last staging buffer this thread used: taken over by its next writer,
  // so that its pages are faulted in once per thread, not once per object.
  static thread_local BufferBytes spare_stage_;
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

  LocalBackend& backend_;
  std::string path_, temp_;
  DirectWriter writer_;
  BufferBytes pending_;
  bool committed_ = false;
};

thread_local BufferBytes LocalObjectWriter::spare_stage_;

Status LocalBackend::ObjectRenamed(const std::string& directory) {
  return SyncDirectory(directory);
}

Result<std::unique_ptr<ObjectWriter>> LocalBackend::OpenWriter(const ObjectName& name) {
  std::string path = FullPath(name);
  std::string temp = TempPathFor(path);
  ASSIGN_OR_RETURN(DirectWriter writer, DirectWriter::Create(temp, 0, 0600));
  return std::unique_ptr<ObjectWriter>(new LocalObjectWriter(*this, path, temp, std::move(writer)));
}

Status LocalBackend::ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                                const std::function<Status(ByteView)>& sink) {
  RangeReader reader;
  RETURN_IF_ERROR(reader.Open(FullPath(name), offset, length));
  Bytes buffer(std::min<uint64_t>(reader.length(), 1u << 20));
  for (uint64_t done = 0; done < reader.length();) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), reader.length() - done));
    RETURN_IF_ERROR(reader.Read(done, buffer.data(), n));
    RETURN_IF_ERROR(sink(ByteView(buffer.data(), n)));
    done += n;
  }
  return Status::Ok();
}

Status LocalBackend::Remove(const ObjectName& name) {
  std::string path = FullPath(name);
  if (::unlink(path.c_str()) != 0) return ErrnoStatus("remove " + path, errno);
  return Status::Ok();
}

}  // namespace ferry
