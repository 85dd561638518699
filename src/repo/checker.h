// Checker: verifies a repository's structure and, optionally, every byte.
//
// Structure: every key file matches its name, parses and asks for KDF
// parameters ferry writes; the config authenticates and is the one opened;
// every index object opens and parses; every indexed pack exists
// with a header that matches the index exactly; a pack no index lists has a
// header that authenticates (else it is forged or damaged); every snapshot
// object opens; every tree reachable from a snapshot loads, and every blob a
// tree references is indexed. With
// read_data: every pack's bytes hash to its name and every blob decrypts and
// matches its MAC. Each problem names the damaged object, and damaged blobs
// are traced to the snapshots and file paths that use them. Each kind of
// damage names the `ferry repair` verb that fixes it (CheckReport::repairs).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "repo/repository.h"

namespace ferry {

struct CheckOptions {
  bool read_data = false;
  // Packs checked at once; 0: two per core, at least 4 (each waits for its
  // reads, from a disk or an object store, while the others verify).
  int threads = 0;
};

struct CheckReport {
  std::vector<std::string> errors;    // damage: the repository is not sound
  std::vector<std::string> warnings;  // e.g. unreferenced packs left by an interrupted backup
  // The repairs that fix the errors, in the order to run them, each once:
  // "ferry repair index [--read-all-packs] [--forget-missing]", "ferry repair packs ID…",
  // "ferry repair snapshots --forget".
  std::vector<std::string> repairs;
  uint64_t packs_checked = 0;
  uint64_t blobs_checked = 0;
  uint64_t snapshots_checked = 0;
  uint64_t bytes_read = 0;
  bool ok() const { return errors.empty(); }
};

// `progress` is called with a short description of each phase.
Result<CheckReport> CheckRepository(Repository& repository, const CheckOptions& options,
                                    const std::function<void(const std::string&)>& progress);

}  // namespace ferry
