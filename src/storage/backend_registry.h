// BackendRegistry: the one way ferry opens storage from a location string —
// the CLI's --repo, the vault's repository store, a storage account's
// container. The scheme before "://" picks a factory (restic's location
// registry is the model); a string without a scheme is a local path. New
// backends (Azure Blob, S3) register a factory and every part of ferry can
// use them: nothing else needs to know which backends exist.
//
//   /srv/backup/repo, local:/srv/backup/repo   a directory (LocalBackend)
//   memory://NAME                              process memory, shared by name (MemoryBackend)
//
// Credentials never appear in a location: factories read them from the
// environment or from files, so a location can be logged and shown.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/backend.h"

namespace ferry {

struct StorageLocation {
  std::string scheme;   // "local", "memory", …
  std::string address;  // the rest: a path for "local", "NAME" for "memory://NAME"
  std::string text;     // as given, for messages
};

// Splits "scheme://address" (or a plain path, or "local:PATH"). Fails on an
// empty string or a malformed scheme, naming what is wrong.
Result<StorageLocation> ParseStorageLocation(const std::string& text);

// The location of `relative` ("repositories/prod/fileserver01") below
// `base`, for any scheme: a directory below a path, a longer prefix before an
// object store's query ("azure://c/p?account=a" → "azure://c/p/REL?account=a").
// `relative` must be a plain relative path (no "..", no empty parts).
Result<std::string> StorageLocationChild(const std::string& base, const std::string& relative);

// An object store's address (what follows "azure://" or "s3://"):
// NAME[/PREFIX][?KEY=VALUE&…], split and checked the same way for every
// store. The prefix loses a trailing "/" and may have no empty, "." or ".."
// part, no control character, '\\' or '#', and at most 512 bytes; each
// parameter must be one of `known`, given once, with a value, which is
// %-decoded. The name is left to the store's own naming rules.
struct ObjectStoreAddress {
  std::string name;  // the container or bucket
  std::string prefix;
  std::map<std::string, std::string> parameters;
};
// InvalidArgument says what is wrong; the caller adds the location and its syntax.
Result<ObjectStoreAddress> SplitObjectStoreAddress(const std::string& address,
                                                   const std::vector<std::string>& known);

class BackendRegistry {
 public:
  using Factory = std::function<Result<std::unique_ptr<Backend>>(const StorageLocation&)>;

  // The registry every command uses, with the built-in schemes.
  static BackendRegistry& Default();

  // `usage` shows the syntax in error messages ("s3://BUCKET/PREFIX?endpoint=URL").
  // Registering a scheme again replaces its factory.
  void Register(const std::string& scheme, const std::string& usage, Factory factory);
  Result<std::unique_ptr<Backend>> Open(const std::string& location) const;
  // "scheme: usage" for each registered scheme, sorted.
  std::vector<std::string> Schemes() const;

 private:
  struct Entry {
    std::string usage;
    Factory factory;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

// BackendRegistry::Default().Open(location).
Result<std::unique_ptr<Backend>> OpenBackend(const std::string& location);

}  // namespace ferry
