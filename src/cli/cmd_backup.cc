// ferry backup: back up paths into a new snapshot.
#include <cstdio>

#include "cli/commands.h"
#include "cli/progress_line.h"
#include "engine/archiver.h"

namespace ferry {

namespace {

struct BackupFlags {
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  std::vector<std::string> excludes;
  std::vector<std::string> exclude_files;
  bool one_file_system = false;
  bool force = false;
  std::string host;
  std::string parent;
  int threads = 0;
};

int RunBackupCommand(GlobalOptions& global, BackupFlags& flags) {
  BackupOptions options;
  options.paths = flags.paths;
  options.tags = flags.tags;
  for (const std::string& pattern : flags.excludes) options.excludes.Add(pattern);
  for (const std::string& file : flags.exclude_files) {
    Status status = options.excludes.AddFromFile(file);
    if (!status.ok()) return ReportError(global, status);
  }
  options.one_file_system = flags.one_file_system;
  options.force_read = flags.force;
  options.hostname = flags.host;
  options.threads = flags.threads;
  options.cancel = &InterruptFlag();

  auto repository = OpenRepository(global);
  if (!repository.ok()) return ReportError(global, repository.status());
  if (!flags.parent.empty()) {
    auto parent = (*repository)->FindSnapshot(flags.parent);
    if (!parent.ok()) return ReportError(global, parent.status());
    options.parent = parent->id;
  }
  auto lock = RepositoryLock::Acquire(**repository, /*exclusive=*/false);
  if (!lock.ok()) return ReportError(global, lock.status());

  BackupProgress progress;
  Result<BackupResult> result = Status::Internal("backup did not run");
  {
    ProgressLine line(
        global,
        [&](double elapsed) {
          uint64_t total = progress.bytes_total, done = progress.bytes_done;
          bool known = progress.scan_finished;
          char percent[16] = "";
          if (known && total > 0)
            std::snprintf(
                percent, sizeof percent, "%5.1f%% ",
                100.0 * static_cast<double>(std::min(done, total)) / static_cast<double>(total));
          return "[" + HumanDuration(elapsed) + "] " + percent +
                 std::to_string(progress.files_done) + " files " + HumanBytes(done) +
                 (known ? " / " + HumanBytes(total) : "") + ", " +
                 RateAndEta(done, total, elapsed, known);
        },
        [&](double) {
          uint64_t total = progress.bytes_total, done = progress.bytes_done;
          return nlohmann::json{
              {"percent_done",
               total ? static_cast<double>(std::min(done, total)) / static_cast<double>(total)
                     : 0.0},
              {"total_files", progress.files_total.load()},
              {"files_done", progress.files_done.load()},
              {"total_bytes", total},
              {"bytes_done", done},
              {"bytes_read", progress.bytes_read.load()},
              {"scan_finished", progress.scan_finished.load()}};
        });
    result = RunBackup(**repository, options, progress,
                       [&](const std::string& message) { Warn(global, message); });
  }
  if (!result.ok()) return ReportError(global, result.status());
  const Snapshot& snapshot = result->snapshot;
  const SnapshotSummary& summary = snapshot.summary;
  if (global.json) {
    PrintJson({{"message_type", "summary"},
               {"snapshot_id", result->snapshot_id.Hex()},
               {"files_new", summary.files_new},
               {"files_changed", summary.files_changed},
               {"files_unmodified", summary.files_unmodified},
               {"dirs", summary.dirs},
               {"bytes_read", summary.bytes_read},
               {"bytes_total", summary.bytes_total},
               {"blobs_new", result->blobs_new},
               {"data_added", summary.data_added},
               {"packs_written", result->packs_written},
               {"bytes_sent", (*repository)->backend().stats().bytes_sent},
               {"warnings", summary.warnings},
               {"incomplete", snapshot.incomplete},
               {"duration_seconds", result->seconds}});
  } else {
    Say(global, "Files: " + std::to_string(summary.files_new) + " new, " +
                    std::to_string(summary.files_changed) + " changed, " +
                    std::to_string(summary.files_unmodified) + " unmodified");
    Say(global, "Data:  " + HumanBytes(summary.bytes_total) + " in the snapshot, " +
                    HumanBytes(summary.bytes_read) + " read, " + HumanBytes(summary.data_added) +
                    " added to the repository in " + std::to_string(result->packs_written) +
                    " packs");
    if (uint64_t sent = (*repository)->backend().stats().bytes_sent)
      Say(global,
          "Network: " + HumanBytes(sent) + " sent to " + (*repository)->backend().Location());
    Say(global,
        "snapshot " + result->snapshot_id.Short() + " saved in " + HumanDuration(result->seconds) +
            (snapshot.incomplete
                 ? " (INCOMPLETE: " + std::to_string(summary.warnings) + " files could not be read)"
                 : ""));
  }
  return snapshot.incomplete ? kExitIncomplete : kExitOk;
}

}  // namespace

void AddBackupCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto flags = std::make_shared<BackupFlags>();
  CLI::App* command =
      app.add_subcommand("backup", "Back up files and directories into a new snapshot");
  command->add_option("paths", flags->paths, "Files and directories to back up")->required();
  command->add_option("--tag", flags->tags, "Tag the snapshot (repeatable)");
  command->add_option("-e,--exclude", flags->excludes,
                      "Skip paths matching this glob (repeatable; no '/': any name, with '/': "
                      "the whole path)");
  command->add_option("--exclude-file", flags->exclude_files,
                      "Read exclude patterns from a file, one per line");
  command->add_flag("-x,--one-file-system", flags->one_file_system,
                    "Do not cross file-system boundaries");
  command->add_flag("--force", flags->force,
                    "Read every file, even those unchanged since the parent");
  command->add_option("--host", flags->host, "Host name to record (default: this host)");
  command->add_option("--parent", flags->parent,
                      "Snapshot to compare with (default: latest of this host and paths)");
  command->add_option("--threads", flags->threads, "File readers (default: one per core)");
  commands.push_back({command, [&global, flags] { return RunBackupCommand(global, *flags); }});
}

}  // namespace ferry
