#include "storage/backend_registry.h"

#include <algorithm>

#include "storage/azure_blob_backend.h"
#include "storage/local_backend.h"
#include "storage/memory_backend.h"

namespace ferry {

namespace {

bool IsSchemeName(const std::string& scheme) {
  if (scheme.empty() || !(scheme[0] >= 'a' && scheme[0] <= 'z')) return false;
  for (char c : scheme)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
      return false;
  return true;
}

void RegisterBuiltins(BackendRegistry& registry) {
  registry.Register(
      "local", "PATH or local:PATH (a directory)",
      [](const StorageLocation& location) -> Result<std::unique_ptr<Backend>> {
        if (location.address.empty())
          return Status::InvalidArgument("'" + location.text + "': no directory given");
        return std::unique_ptr<Backend>(new LocalBackend(location.address));
      });
  registry.Register("memory", "memory://NAME (this process's memory; for tests)",
                    [](const StorageLocation& location) -> Result<std::unique_ptr<Backend>> {
                      return std::unique_ptr<Backend>(
                          new MemoryBackend(MemoryBackend::Named(location.address), location.text));
                    });
  RegisterAzureBlobBackend(registry);
}

}  // namespace

Result<StorageLocation> ParseStorageLocation(const std::string& text) {
  if (text.empty())
    return Status::InvalidArgument("no repository given: use --repo or set FERRY_REPOSITORY");
  StorageLocation location{"local", text, text};
  if (size_t separator = text.find("://"); separator != std::string::npos) {
    location.scheme = text.substr(0, separator);
    location.address = text.substr(separator + 3);
    if (!IsSchemeName(location.scheme))
      return Status::InvalidArgument("storage location '" + text + "': '" + location.scheme +
                                     "' is not a scheme name (lower-case letters, digits, +-.)");
  } else if (text.rfind("local:", 0) == 0) {
    location.address = text.substr(6);
  }
  return location;
}

Result<std::string> StorageLocationChild(const std::string& base, const std::string& relative) {
  ASSIGN_OR_RETURN(StorageLocation location, ParseStorageLocation(base));
  bool plain = !relative.empty() && relative.front() != '/' && relative.back() != '/';
  for (size_t start = 0; plain && start <= relative.size();) {
    size_t end = std::min(relative.find('/', start), relative.size());
    std::string part = relative.substr(start, end - start);
    plain = !part.empty() && part != "." && part != ".." && part.find('?') == std::string::npos;
    start = end + 1;
  }
  if (!plain)
    return Status::InvalidArgument("'" + relative + "' is not a plain relative storage path");
  std::string text = location.text;
  size_t query = location.scheme == "local" ? std::string::npos : text.find('?');
  std::string head = text.substr(0, query),
              tail = query == std::string::npos ? "" : text.substr(query);
  while (head.size() > 1 && head.ends_with('/') && !head.ends_with("://")) head.pop_back();
  return head + (head.ends_with("://") ? "" : "/") + relative + tail;
}

BackendRegistry& BackendRegistry::Default() {
  static BackendRegistry* registry = [] {
    auto* made = new BackendRegistry;
    RegisterBuiltins(*made);
    return made;
  }();
  return *registry;
}

void BackendRegistry::Register(const std::string& scheme, const std::string& usage,
                               Factory factory) {
  std::lock_guard lock(mutex_);
  entries_[scheme] = {usage, std::move(factory)};
}

Result<std::unique_ptr<Backend>> BackendRegistry::Open(const std::string& text) const {
  ASSIGN_OR_RETURN(StorageLocation location, ParseStorageLocation(text));
  Factory factory;
  {
    std::lock_guard lock(mutex_);
    auto entry = entries_.find(location.scheme);
    if (entry == entries_.end()) {
      std::string known;
      for (const auto& [scheme, registered] : entries_)
        known += (known.empty() ? "" : ", ") + registered.usage;
      return Status::Unsupported("storage location '" + text + "': no backend for '" +
                                 location.scheme + "://' (this ferry knows " + known + ")");
    }
    factory = entry->second.factory;
  }
  return factory(location);
}

std::vector<std::string> BackendRegistry::Schemes() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> schemes;
  for (const auto& [scheme, entry] : entries_) schemes.push_back(scheme + ": " + entry.usage);
  return schemes;
}

Result<std::unique_ptr<Backend>> OpenBackend(const std::string& location) {
  return BackendRegistry::Default().Open(location);
}

}  // namespace ferry
