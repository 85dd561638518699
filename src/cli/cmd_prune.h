// What `ferry prune` and `ferry forget --prune` share: the prune options and
// the run under a lock the caller already holds.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/global_options.h"
#include "repo/prune.h"

namespace ferry {

struct PruneFlags {
  std::string max_unused = "5%";
  std::string max_repack_size;
};

void AddPruneOptions(CLI::App& command, PruneFlags& flags);
// "5%", "500M" or "unlimited" into `options`.
Status ParseMaxUnused(const std::string& text, PruneOptions& options);
// REQUIRES: the exclusive lock on `repository` is held.
// On a vault (--agent), a prune that ran is reported to the vault with the
// agent's token, with `snapshots_forgotten` (by the forget before it); a
// report the vault refuses is a warning, not a failed prune.
int RunPrune(const GlobalOptions& global, Repository& repository, const PruneFlags& flags,
             bool dry_run, uint64_t snapshots_forgotten = 0);

}  // namespace ferry
