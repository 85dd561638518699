#include "storage/cache_backend.h"

#include <sys/stat.h>

#include "crypto/hash.h"
#include "util/file_util.h"

namespace ferry {

namespace {

// https://bford.info/cachedir/
constexpr char kCacheDirTag[] =
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by ferry.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n";

Result<Bytes> Slice(const Bytes& whole, const ObjectName& name, uint64_t offset, uint64_t length) {
  if (length == Backend::kToEnd) length = whole.size() >= offset ? whole.size() - offset : 0;
  if (offset > whole.size() || length > whole.size() - offset)
    return Status::Corruption(name.Path() + ": range " + std::to_string(offset) + "+" +
                              std::to_string(length) + " lies past the end (" +
                              std::to_string(whole.size()) + " bytes)");
  return Bytes(whole.begin() + static_cast<ptrdiff_t>(offset),
               whole.begin() + static_cast<ptrdiff_t>(offset + length));
}

}  // namespace

CacheBackend::CacheBackend(std::unique_ptr<Backend> remote, std::string directory)
    : remote_(std::move(remote)), directory_(std::move(directory)), cache_(directory_) {}

bool CacheBackend::Cached(const ObjectName& name) {
  return name.kind == ObjectKind::kIndex || name.kind == ObjectKind::kSnapshot ||
         (name.kind == ObjectKind::kData && name.metadata);
}

bool CacheBackend::Ready() {
  std::lock_guard lock(mutex_);
  if (ready_ < 0) {
    struct stat st;
    bool exists = ::stat((directory_ + "/data/ff").c_str(), &st) == 0;
    ready_ = exists ||
             (MakeDirectories(directory_ + "/index", 0700).ok() &&
              MakeDirectories(directory_ + "/snapshots", 0700).ok() &&
              WriteFileAtomic(directory_ + "/CACHEDIR.TAG", AsBytes(kCacheDirTag), 0644).ok() &&
              cache_.CreateDataDirectories().ok());
  }
  return ready_ == 1;
}

bool CacheBackend::Verified(const ObjectName& name) {
  std::lock_guard lock(mutex_);
  return verified_.count(name.Path()) > 0;
}

// The cache is an optimisation: when it cannot be written (full, read-only),
// the object simply stays remote.
void CacheBackend::Keep(const ObjectName& name, ByteView data) {
  if (!Ready() || !cache_.Put(name, data).ok()) return;
  std::lock_guard lock(mutex_);
  verified_.insert(name.Path());
}

Result<Bytes> CacheBackend::LoadWhole(const ObjectName& name) {
  if (Ready()) {
    auto cached = cache_.Get(name, 0, kToEnd);
    if (cached.ok() && Sha256(*cached).Hex() == name.name) {
      std::lock_guard lock(mutex_);
      verified_.insert(name.Path());
      return cached;
    }
    if (cached.ok()) cache_.Remove(name).IgnoreError();  // damaged: fetch it again
  }
  ASSIGN_OR_RETURN(Bytes fetched, remote_->Get(name, 0, kToEnd));
  if (Sha256(fetched).Hex() != name.name)
    return Status::Corruption(name.Path() + " from " + remote_->Location() +
                              " does not match its name (damaged)");
  Keep(name, fetched);
  return fetched;
}

Status CacheBackend::Put(const ObjectName& name, ByteView data) {
  RETURN_IF_ERROR(remote_->Put(name, data));
  if (Cached(name)) Keep(name, data);
  return Status::Ok();
}

Status CacheBackend::PutIfAbsent(const ObjectName& name, ByteView data) {
  RETURN_IF_ERROR(remote_->PutIfAbsent(name, data));
  if (Cached(name)) Keep(name, data);
  return Status::Ok();
}

Result<Bytes> CacheBackend::Get(const ObjectName& name, uint64_t offset, uint64_t length) {
  if (!Cached(name)) return remote_->Get(name, offset, length);
  if (Verified(name)) {
    auto range = cache_.Get(name, offset, length);
    if (range.ok()) return range;  // else the entry went away meanwhile
  }
  ASSIGN_OR_RETURN(Bytes whole, LoadWhole(name));
  return Slice(whole, name, offset, length);
}

Status CacheBackend::ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                                const std::function<Status(ByteView)>& sink) {
  if (!Cached(name)) return remote_->ReadStream(name, offset, length, sink);
  ASSIGN_OR_RETURN(Bytes range, Get(name, offset, length));
  return sink(range);
}

Status CacheBackend::List(ObjectKind kind,
                          const std::function<Status(const std::string&, uint64_t)>& visit) {
  std::set<std::string> listed;
  RETURN_IF_ERROR(remote_->List(kind, [&](const std::string& name, uint64_t size) {
    listed.insert(name);
    return visit(name, size);
  }));
  if ((kind == ObjectKind::kIndex || kind == ObjectKind::kSnapshot) && Ready()) {
    std::vector<std::string> gone;
    cache_
        .List(kind,
              [&](const std::string& name, uint64_t) {
                if (!listed.count(name)) gone.push_back(name);
                return Status::Ok();
              })
        .IgnoreError();
    for (const std::string& name : gone) cache_.Remove({kind, name}).IgnoreError();
  }
  return Status::Ok();
}

Status CacheBackend::Remove(const ObjectName& name) {
  RETURN_IF_ERROR(remote_->Remove(name));
  if (Cached(name) || name.kind == ObjectKind::kData) cache_.Remove(name).IgnoreError();
  return Status::Ok();
}

}  // namespace ferry
