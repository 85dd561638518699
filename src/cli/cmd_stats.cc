// ferry stats: how big snapshots are, in restic's modes
// (engine/snapshot_stats.h): what a restore writes, the logical size after
// deduplicating files, or what the blobs take in the repository.
#include <cinttypes>
#include <cstdio>

#include "cli/commands.h"
#include "cli/snapshot_filter_flags.h"
#include "engine/snapshot_stats.h"

namespace ferry {

namespace {

struct StatsFlags {
  std::vector<std::string> snapshots;
  SnapshotFilter filter;
  std::string mode = "restore-size";
};

int RunStats(const GlobalOptions& global, const StatsFlags& flags) {
  auto mode = ParseStatsMode(flags.mode);
  if (!mode.ok()) {
    ReportError(global, mode.status());
    return kExitUsage;
  }
  auto repository = OpenRepository(global);
  if (!repository.ok()) return ReportError(global, repository.status());
  auto snapshots = SelectSnapshots(global, **repository, flags.snapshots, flags.filter);
  if (!snapshots.ok()) return ReportError(global, snapshots.status());
  StatsCollector collector(**repository, *mode);
  for (const SnapshotEntry& entry : *snapshots) {
    Status added = collector.Add(entry.snapshot.tree, &InterruptFlag());
    if (!added.ok()) return ReportError(global, added.WithContext("snapshot " + entry.id.Short()));
  }
  auto stats = collector.Finish();
  if (!stats.ok()) return ReportError(global, stats.status());
  if (global.json) {
    nlohmann::json j = {{"mode", StatsModeName(*mode)},
                        {"snapshots_count", stats->snapshots},
                        {"total_size", stats->total_size},
                        {"total_file_count", stats->total_file_count}};
    if (*mode == StatsMode::kRawData) {
      j["total_blob_count"] = stats->total_blob_count;
      j["total_uncompressed_size"] = stats->total_uncompressed_size;
      j["compression_ratio"] = stats->compression_ratio;
    }
    PrintJson(j);
    return kExitOk;
  }
  if (global.quiet) return kExitOk;
  std::printf("Stats in %s mode:\n", StatsModeName(*mode));
  std::printf("     Snapshots processed:  %" PRIu64 "\n", stats->snapshots);
  if (*mode == StatsMode::kRawData) {
    std::printf("        Total Blob Count:  %" PRIu64 "\n", stats->total_blob_count);
    std::printf(" Total Uncompressed Size:  %s\n",
                HumanBytes(stats->total_uncompressed_size).c_str());
    std::printf("              Total Size:  %s\n", HumanBytes(stats->total_size).c_str());
    std::printf("       Compression Ratio:  %.2fx\n", stats->compression_ratio);
  } else {
    std::printf("        Total File Count:  %" PRIu64 "\n", stats->total_file_count);
    std::printf("              Total Size:  %s\n", HumanBytes(stats->total_size).c_str());
  }
  return kExitOk;
}

}  // namespace

void AddStatsCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto flags = std::make_shared<StatsFlags>();
  CLI::App* command = app.add_subcommand("stats", "Show how big snapshots are");
  command->add_option("snapshot", flags->snapshots,
                      "Snapshots to count (ID prefix or 'latest'; default: all those the "
                      "--host/--tag/--path flags let through)");
  command
      ->add_option("--mode", flags->mode,
                   "restore-size (what a restore writes), files-by-contents (distinct file "
                   "contents) or raw-data (the blobs as stored, compression ratio)")
      ->check(CLI::IsMember({"restore-size", "files-by-contents", "raw-data"}));
  AddSnapshotFilterOptions(*command, flags->filter);
  commands.push_back({command, [&global, flags]() -> int { return RunStats(global, *flags); }});
}

}  // namespace ferry
