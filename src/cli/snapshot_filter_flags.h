// The --host/--tag/--path flags that choose snapshots (repo/snapshot_filter.h),
// shared by the commands that take them, and the selection of snapshots
// named on the command line ("latest" honouring the flags, or ID prefixes).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/global_options.h"
#include "repo/snapshot_filter.h"

namespace ferry {

void AddSnapshotFilterOptions(CLI::App& command, SnapshotFilter& filter);

// The snapshot `selector` names ("latest": the newest the filter lets
// through), after warning about damaged snapshots.
Result<SnapshotEntry> SelectSnapshot(const GlobalOptions& options, Repository& repository,
                                     const std::string& selector, const SnapshotFilter& filter);

// The snapshots `selectors` name, in that order (each once); with none, every
// snapshot the filter lets through, oldest first.
Result<std::vector<SnapshotEntry>> SelectSnapshots(const GlobalOptions& options,
                                                   Repository& repository,
                                                   const std::vector<std::string>& selectors,
                                                   const SnapshotFilter& filter);

}  // namespace ferry
