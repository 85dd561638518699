// StorageRootId: a random ID the vault keeps in a directory storage root
// (ROOT/.ferry-storage-root), so that datacenter ingest can tell the vault's
// storage accounts from any other directory, whatever path they are mounted
// at on the datacenter's machine.
//
// Why: ingest into a directory the vault does not adopt from succeeds, and
// the next backup then re-sends the whole seed over the network. The import
// service tells operators the root's location and ID; ingest refuses a root
// whose marker is absent or different (docs/seeding.md, "Where ingest copies").
// Object-store roots need no marker: their location names the same place
// from anywhere.
#pragma once

#include <optional>
#include <string>

#include "util/status.h"

namespace ferry {

// The marker's name, directly below the storage root. A storage account may
// not have this name (ContainerLocation refuses it).
inline constexpr char kStorageRootIdFile[] = ".ferry-storage-root";

// The ID of the directory storage root `root`, creating the directory and the
// marker (mode 0644: the ID is no secret, it only names the root) if needed.
// Two processes creating it at once agree on one ID (the marker is linked into
// place, never replaced).
Result<std::string> EnsureStorageRootId(const std::string& root);

// The ID in `root`'s marker; nullopt if `root` has none (another directory, or
// one not mounted). An unreadable or malformed marker is an error.
Result<std::optional<std::string>> ReadStorageRootId(const std::string& root);

}  // namespace ferry
