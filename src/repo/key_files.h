// Reading the key files of a repository (docs/format.md, "Key files";
// docs/security.md, "Hostile key files").
//
// Anyone who can add objects to the repository (an append-only machine token,
// a hostile vault) can plant key files, so a key file is read like every other
// object: its size is bounded before it is read, its bytes must hash to its
// name, it must parse, and its KDF parameters must lie within what ferry
// writes (CheckKeyFileKdf) — all before any Argon2 work. A key file that fails
// is a value (StoredKeyFile::problem), never an error that hides the others:
// Repository::Open tries the rest, `key list` shows it, `check` reports it and
// `key remove` removes it.
#pragma once

#include <string>
#include <vector>

#include "format/key_file.h"
#include "storage/backend.h"
#include "util/id.h"
#include "util/status.h"

namespace ferry {

struct StoredKeyFile {
  Id id;
  // OK: `key_file` is intact (it may still not open with a given password).
  // Corruption: damaged ("key file ID is damaged: …") or refused ("key file
  // ID: Argon2 memory 2 GiB is beyond the 64 MiB ferry ever writes").
  // Unsupported: a version or KDF this ferry does not know.
  // The message names the key file and stands alone.
  Status problem;
  KeyFile key_file;

  bool intact() const { return problem.ok(); }
};

// Reads, verifies and parses key file `id`, `listed_size` bytes long as the
// backend's listing says. Only errors that say nothing about the file (I/O,
// permissions) are returned; every problem with the file itself is in the
// result's `problem`.
Result<StoredKeyFile> ReadKeyFile(Backend& backend, const Id& id, uint64_t listed_size);

// Every key file of the repository, in the backend's listing order.
Result<std::vector<StoredKeyFile>> ReadKeyFiles(Backend& backend);

}  // namespace ferry
