// ferry diff: what changed between two snapshots (engine/tree_diff.h), with
// restic's markers (+ added, - removed, M contents, T type, U metadata) and
// its summary of files, directories and blobs added and removed.
#include <cinttypes>
#include <cstdio>

#include "cli/commands.h"
#include "cli/snapshot_filter_flags.h"
#include "engine/tree_diff.h"

namespace ferry {

namespace {

struct DiffFlags {
  std::string first;
  std::string second;
  bool metadata = false;
};

nlohmann::json CountsJson(const DiffCounts& counts) {
  return {{"files", counts.files},           {"dirs", counts.dirs},
          {"others", counts.others},         {"data_blobs", counts.data_blobs},
          {"tree_blobs", counts.tree_blobs}, {"bytes", counts.bytes}};
}

int RunDiff(const GlobalOptions& global, const DiffFlags& flags) {
  auto repository = OpenRepository(global);
  if (!repository.ok()) return ReportError(global, repository.status());
  auto first = SelectSnapshot(global, **repository, flags.first, SnapshotFilter{});
  if (!first.ok()) return ReportError(global, first.status());
  auto second = SelectSnapshot(global, **repository, flags.second, SnapshotFilter{});
  if (!second.ok()) return ReportError(global, second.status());
  if (!global.json && !global.quiet)
    std::printf("comparing snapshot %s to %s:\n\n", first->id.Short().c_str(),
                second->id.Short().c_str());
  TreeDiffOptions options;
  options.metadata = flags.metadata;
  options.cancel = &InterruptFlag();
  auto stats = DiffTrees(
      **repository, first->snapshot.tree, second->snapshot.tree, options,
      [&](const TreeChange& change) {
        if (global.json)
          PrintJson(
              {{"message_type", "change"}, {"path", change.path}, {"modifier", change.modifier}});
        else if (!global.quiet)
          std::printf("%-5s%s\n", change.modifier.c_str(), change.path.c_str());
      });
  if (!stats.ok()) {
    std::fflush(stdout);
    return ReportError(global, stats.status().WithContext("the diff is incomplete"));
  }
  if (global.json) {
    PrintJson({{"message_type", "statistics"},
               {"source_snapshot", first->id.Hex()},
               {"target_snapshot", second->id.Hex()},
               {"changed_files", stats->changed_files},
               {"added", CountsJson(stats->added)},
               {"removed", CountsJson(stats->removed)}});
    return kExitOk;
  }
  if (global.quiet) return kExitOk;
  const DiffCounts& added = stats->added;
  const DiffCounts& removed = stats->removed;
  std::printf("\n");
  std::printf("Files:       %5" PRIu64 " new, %5" PRIu64 " removed, %5" PRIu64 " changed\n",
              added.files, removed.files, stats->changed_files);
  std::printf("Dirs:        %5" PRIu64 " new, %5" PRIu64 " removed\n", added.dirs, removed.dirs);
  std::printf("Others:      %5" PRIu64 " new, %5" PRIu64 " removed\n", added.others,
              removed.others);
  std::printf("Data Blobs:  %5" PRIu64 " new, %5" PRIu64 " removed\n", added.data_blobs,
              removed.data_blobs);
  std::printf("Tree Blobs:  %5" PRIu64 " new, %5" PRIu64 " removed\n", added.tree_blobs,
              removed.tree_blobs);
  std::printf("  Added:   %s\n", HumanBytes(added.bytes).c_str());
  std::printf("  Removed: %s\n", HumanBytes(removed.bytes).c_str());
  return kExitOk;
}

}  // namespace

void AddDiffCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto flags = std::make_shared<DiffFlags>();
  CLI::App* command =
      app.add_subcommand("diff", "Show what changed between two snapshots (+ - M T U)");
  command->add_option("snapshot1", flags->first, "The older snapshot (ID prefix or 'latest')")
      ->required();
  command->add_option("snapshot2", flags->second, "The newer snapshot (ID prefix or 'latest')")
      ->required();
  command->add_flag("--metadata", flags->metadata,
                    "Also list entries whose metadata alone changed (U)");
  commands.push_back({command, [&global, flags]() -> int { return RunDiff(global, *flags); }});
}

}  // namespace ferry
