#include "storage/memory_backend.h"

#include <vector>

namespace ferry {

std::shared_ptr<MemoryBackend::Store> MemoryBackend::Named(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<Store>> stores;
  std::lock_guard lock(mutex);
  auto& store = stores[name];
  if (!store) store = std::make_shared<Store>();
  return store;
}

Status MemoryBackend::Create() {
  std::lock_guard lock(store_->mutex);
  if (store_->objects.count(ObjectName::Config().Path()))
    return Status::AlreadyExists("a repository already exists at " + location_);
  return Status::Ok();
}

Status MemoryBackend::Put(const ObjectName& name, ByteView data) {
  auto object = std::make_shared<const Bytes>(data.begin(), data.end());
  std::lock_guard lock(store_->mutex);
  store_->objects[name.Path()] = std::move(object);
  return Status::Ok();
}

Status MemoryBackend::PutIfAbsent(const ObjectName& name, ByteView data) {
  auto object = std::make_shared<const Bytes>(data.begin(), data.end());
  std::lock_guard lock(store_->mutex);
  if (!store_->objects.emplace(name.Path(), std::move(object)).second)
    return Status::AlreadyExists(location_ + ": " + name.Path() + " exists");
  return Status::Ok();
}

std::shared_ptr<const Bytes> MemoryBackend::Find(const ObjectName& name) {
  std::lock_guard lock(store_->mutex);
  auto found = store_->objects.find(name.Path());
  return found == store_->objects.end() ? nullptr : found->second;
}

Result<Bytes> MemoryBackend::Get(const ObjectName& name, uint64_t offset, uint64_t length) {
  // Readers keep their own reference: a concurrent Put or Remove replaces the
  // store's, never the bytes being copied.
  std::shared_ptr<const Bytes> object = Find(name);
  if (!object) return Status::NotFound(location_ + ": no object " + name.Path());
  uint64_t size = object->size();
  if (length == kToEnd) length = offset <= size ? size - offset : 0;
  // As for a file: the object is shorter than its reader expects.
  if (offset > size || length > size - offset)
    return Status::Corruption(location_ + "/" + name.Path() + ": range " + std::to_string(offset) +
                              "+" + std::to_string(length) + " lies past the end (" +
                              std::to_string(size) + " bytes)");
  return Bytes(object->begin() + static_cast<ptrdiff_t>(offset),
               object->begin() + static_cast<ptrdiff_t>(offset + length));
}

Result<uint64_t> MemoryBackend::Stat(const ObjectName& name) {
  std::shared_ptr<const Bytes> object = Find(name);
  if (!object) return Status::NotFound(location_ + ": no object " + name.Path());
  return object->size();
}

Status MemoryBackend::List(ObjectKind kind,
                           const std::function<Status(const std::string&, uint64_t)>& visit) {
  // A snapshot of the listing: `visit` may put or remove objects.
  std::vector<std::pair<std::string, uint64_t>> found;
  std::string prefix = std::string(ObjectKindName(kind)) + "/";
  {
    std::lock_guard lock(store_->mutex);
    for (auto it = store_->objects.lower_bound(prefix);
         it != store_->objects.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      std::string name = it->first.substr(it->first.rfind('/') + 1);
      found.emplace_back(std::move(name), it->second->size());
    }
  }
  for (const auto& [name, size] : found) RETURN_IF_ERROR(visit(name, size));
  return Status::Ok();
}

Status MemoryBackend::Remove(const ObjectName& name) {
  std::lock_guard lock(store_->mutex);
  if (store_->objects.erase(name.Path()) == 0)
    return Status::NotFound(location_ + ": no object " + name.Path());
  return Status::Ok();
}

}  // namespace ferry
