#include "repo/key_files.h"

#include <algorithm>

#include "crypto/hash.h"

namespace ferry {

Result<StoredKeyFile> ReadKeyFile(Backend& backend, const Id& id, uint64_t listed_size) {
  StoredKeyFile stored;
  stored.id = id;
  std::string name = "key file " + id.Hex();
  auto damaged = [&](const std::string& why) {
    stored.problem = Status::Corruption(name + " is damaged: " + why);
    return stored;
  };
  // Not read at all: a planted multi-gigabyte "key file" must cost nothing.
  if (listed_size > kMaxKeyFileSize)
    return damaged(HumanBytes(listed_size) + ", more than any key file (at most " +
                   HumanBytes(kMaxKeyFileSize) + ")");
  auto bytes = backend.Get({ObjectKind::kKey, id.Hex()}, 0, listed_size);
  if (!bytes.ok()) {
    // Removed since the listing, or shorter than listed: the object's fault.
    if (bytes.status().IsNotFound() || bytes.status().IsCorruption())
      return damaged(bytes.status().message());
    return bytes.status().WithContext(name);
  }
  if (Sha256(*bytes) != id) return damaged("its content does not match its name");
  auto key_file = ParseKeyFile(*bytes);
  if (!key_file.ok()) {
    if (key_file.status().code() == StatusCode::kUnsupported) {
      stored.problem = key_file.status().WithContext(name);
      return stored;
    }
    return damaged(key_file.status().message());
  }
  if (Status bounds = CheckKeyFileKdf(key_file->kdf); !bounds.ok()) {
    stored.problem = bounds.WithContext(name);
    return stored;
  }
  stored.key_file = std::move(*key_file);
  return stored;
}

Result<std::vector<StoredKeyFile>> ReadKeyFiles(Backend& backend) {
  std::vector<std::pair<Id, uint64_t>> listed;
  RETURN_IF_ERROR(backend.List(ObjectKind::kKey, [&](const std::string& name, uint64_t size) {
    // Not an object name (a temporary file): not a key file; readers ignore it.
    if (auto id = Id::FromHex(name); id.ok() && IsObjectId(name)) listed.emplace_back(*id, size);
    return Status::Ok();
  }));
  // By name: the order keys are tried in, and warned about, is the same everywhere.
  std::sort(listed.begin(), listed.end());
  std::vector<StoredKeyFile> keys;
  keys.reserve(listed.size());
  for (const auto& [id, size] : listed) {
    ASSIGN_OR_RETURN(StoredKeyFile key, ReadKeyFile(backend, id, size));
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace ferry
