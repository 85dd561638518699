#include "cli/snapshot_filter_flags.h"

#include <algorithm>

namespace ferry {

// One value per flag: a repeatable option would otherwise also take the
// positional arguments after it ("--host h latest").
void AddSnapshotFilterOptions(CLI::App& command, SnapshotFilter& filter) {
  command
      .add_option("--host", filter.hosts, "Only snapshots of this host (repeatable: any of them)")
      ->allow_extra_args(false);
  command
      .add_option("--tag", filter.tags,
                  "Only snapshots with these tags: 'a,b' needs both (repeatable: any of them)")
      ->allow_extra_args(false);
  command
      .add_option("--path", filter.paths, "Only snapshots of this path (repeatable: all of them)")
      ->allow_extra_args(false);
}

Result<SnapshotEntry> SelectSnapshot(const GlobalOptions& options, Repository& repository,
                                     const std::string& selector, const SnapshotFilter& filter) {
  auto snapshots = repository.ListSnapshots();
  WarnDamaged(options, repository, ObjectKind::kSnapshot);
  if (!snapshots.ok()) return snapshots.status();
  return SelectSnapshotFrom(*snapshots, selector, filter);
}

Result<std::vector<SnapshotEntry>> SelectSnapshots(const GlobalOptions& options,
                                                   Repository& repository,
                                                   const std::vector<std::string>& selectors,
                                                   const SnapshotFilter& filter) {
  auto snapshots = repository.ListSnapshots();
  WarnDamaged(options, repository, ObjectKind::kSnapshot);
  if (!snapshots.ok()) return snapshots.status();
  if (selectors.empty()) return FilterSnapshots(*snapshots, filter);
  std::vector<SnapshotEntry> chosen;
  for (const std::string& selector : selectors) {
    ASSIGN_OR_RETURN(SnapshotEntry entry, SelectSnapshotFrom(*snapshots, selector, filter));
    bool seen = std::any_of(chosen.begin(), chosen.end(),
                            [&](const SnapshotEntry& e) { return e.id == entry.id; });
    if (!seen) chosen.push_back(std::move(entry));
  }
  return chosen;
}

}  // namespace ferry
