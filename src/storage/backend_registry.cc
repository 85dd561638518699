#include "storage/backend_registry.h"

#include <algorithm>

#include "storage/azure_blob_backend.h"
#include "storage/http_transport.h"
#include "storage/local_backend.h"
#include "storage/memory_backend.h"
#include "storage/s3_backend.h"

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
  RegisterS3Backend(registry);
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

Result<ObjectStoreAddress> SplitObjectStoreAddress(const std::string& address,
                                                   const std::vector<std::string>& known) {
  ObjectStoreAddress split;
  size_t question = address.find('?');
  std::string path = address.substr(0, question);
  std::string query = question == std::string::npos ? "" : address.substr(question + 1);
  size_t slash = path.find('/');
  split.name = path.substr(0, slash);
  if (slash != std::string::npos) {
    std::string prefix = path.substr(slash + 1);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    for (size_t start = 0; !prefix.empty() && start <= prefix.size();) {
      size_t end = std::min(prefix.find('/', start), prefix.size());
      std::string part = prefix.substr(start, end - start);
      if (part.empty() || part == "." || part == "..")
        return Status::InvalidArgument("the prefix has an empty, '.' or '..' part");
      start = end + 1;
    }
    for (unsigned char c : prefix)
      if (c < 0x20 || c == 0x7f || c == '\\' || c == '#')
        return Status::InvalidArgument("the prefix has a control character, '\\' or '#'");
    if (prefix.size() > 512)
      return Status::InvalidArgument("the prefix is longer than 512 characters");
    split.prefix = prefix;
  }
  for (size_t start = 0; !query.empty() && start <= query.size();) {
    size_t end = std::min(query.find('&', start), query.size());
    std::string item = query.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    size_t equals = item.find('=');
    if (equals == std::string::npos) return Status::InvalidArgument("'" + item + "' has no value");
    std::string key = item.substr(0, equals);
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string names;
      for (const std::string& name : known) names += (names.empty() ? "" : ", ") + name;
      return Status::InvalidArgument("unknown parameter '" + key + "' (" + names + " are known)");
    }
    auto value = PercentDecode(item.substr(equals + 1));
    if (!value.ok()) return Status::InvalidArgument(key + ": " + value.status().message());
    if (!split.parameters.emplace(key, *value).second)
      return Status::InvalidArgument(key + " is given twice");
  }
  return split;
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
