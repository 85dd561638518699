// ferry backup: back up paths into a new snapshot.
#include <cstdio>

#include "cli/agent_credentials.h"
#include "cli/commands.h"
#include "cli/progress_line.h"
#include "cli/seed_client.h"
#include "engine/archiver.h"
#include "seed/staging.h"
#include "storage/local_backend.h"
#include "util/clock.h"
#include "util/plural.h"

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
  std::string time;  // the snapshot's time, local: "2026-11-28 05:29:03"
  int threads = 0;
  // Offline seeding (docs/seeding.md): data packs to --staging, the rest to the vault.
  bool offline = false;
  std::string job;
  std::string storage_account;
  std::string container;
};

// What an offline backup needs besides a normal one: the staging directory
// prepared and big enough, data packs sent there, and the packs registered
// with the vault before the snapshot is written.
struct OfflineSeed {
  AgentCredentials agent;
  StagingInfo info;
  std::string dir;
  std::unique_ptr<LocalBackend> staging;
};

Result<OfflineSeed> PrepareOfflineBackup(GlobalOptions& global, const BackupFlags& flags,
                                         Repository& repository, BackupOptions& options) {
  if (global.agent_file.empty())
    return Status::InvalidArgument(
        "--offline sends index and snapshots to a vault: give --agent FILE (from ferry machine "
        "register)");
  if (global.staging.empty())
    return Status::InvalidArgument(
        "--offline needs --staging DIR: where the data packs are written for ferry diskprep");
  OfflineSeed seed;
  seed.dir = AbsolutePath(global.staging);
  ASSIGN_OR_RETURN(seed.agent, LoadAgentCredentials(global.agent_file));
  StagingInfo& info = seed.info;
  if (auto existing = ReadStagingInfo(seed.dir); existing.ok()) info = *existing;
  if (!flags.job.empty()) info.job = flags.job;
  if (!flags.storage_account.empty()) info.storage_account = flags.storage_account;
  if (!flags.container.empty()) info.container = flags.container;
  if (info.job.empty() || info.storage_account.empty() || info.container.empty())
    return Status::InvalidArgument(
        "--offline needs --job NAME, --storage-account ACCOUNT and --container CONTAINER (the "
        "import job the disks will travel under, and where the datacenter puts them)");
  info.repository = repository.config().id.Hex();
  info.server = seed.agent.server;
  info.vault = seed.agent.vault;
  info.machine = seed.agent.machine;
  RETURN_IF_ERROR(PrepareStaging(seed.dir, info));

  std::vector<std::string> paths;
  for (const std::string& path : options.paths) paths.push_back(AbsolutePath(path));
  ASSIGN_OR_RETURN(SeedSizeEstimate estimate,
                   EstimateSeedSize(paths, options.excludes, options.one_file_system,
                                    repository.config().compression_level));
  ASSIGN_OR_RETURN(std::vector<StagedPack> staged, ListStagedPacks(seed.dir));
  uint64_t already = 0;
  for (const StagedPack& pack : staged) already += pack.size;
  RETURN_IF_ERROR(CheckStagingSpace(seed.dir, estimate, already));
  Say(global, "Offline seed " + info.job + ": about " + HumanBytes(estimate.estimated_bytes) +
                  " of packs for " + HumanBytes(estimate.file_bytes) + " in " +
                  Plural(estimate.files, "file goes", "files go") + " to staging " + seed.dir);

  // The staging directory must never end up inside its own backup.
  options.excludes.Add(seed.dir);
  seed.staging = std::make_unique<LocalBackend>(seed.dir);
  repository.SetDataPackDestination(seed.staging.get());
  return seed;
}

int RunBackupCommand(GlobalOptions& global, BackupFlags& flags) {
  BackupOptions options;
  options.paths = flags.paths;
  options.tags = flags.tags;
  if (!flags.time.empty()) {
    int64_t time_ns = 0;
    if (!ParseTimeLocal(flags.time, &time_ns) && !ParseTimeRfc3339(flags.time, &time_ns)) {
      ReportError(global,
                  Status::InvalidArgument("--time '" + flags.time +
                                          "' is not a time of this machine's zone: write it as "
                                          "'2026-11-28 05:29:03' (local) or 2026-11-28T04:29:03Z"));
      return kExitUsage;
    }
    options.time_ns = time_ns;
  }
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
  auto lock = LockRepository(global, **repository, /*exclusive=*/false);
  if (!lock.ok()) return ReportError(global, lock.status());
  Result<OfflineSeed> offline = Status::NotFound("not an offline backup");
  if (flags.offline) {
    offline = PrepareOfflineBackup(global, flags, **repository, options);
    if (!offline.ok()) return ReportError(global, offline.status());
    int64_t since = Clock::System().NowNanos();
    options.before_snapshot = [&, since] {
      auto packs = RegisterStagedPacks(offline->agent, offline->info, offline->dir, since);
      return packs.status().WithContext("registering the staged packs with the vault");
    };
  } else if (!global.agent_file.empty()) {
    // The seed's disks may have been ingested since the last backup.
    auto agent = LoadAgentCredentials(global.agent_file);
    if (!agent.ok()) return ReportError(global, agent.status());
    AdoptReadySeeds(global, *agent, **repository);
  }

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
                 Plural(progress.files_done, "file ", "files ") + HumanBytes(done) +
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
  // A damaged snapshot only costs the choice of parent (the backup reads more).
  WarnDamaged(global, **repository, ObjectKind::kSnapshot);
  if (!result.ok()) return ReportError(global, result.status());
  const Snapshot& snapshot = result->snapshot;
  const SnapshotSummary& summary = snapshot.summary;
  uint64_t staged_packs = 0, staged_bytes = 0;
  if (flags.offline) {
    auto staged = ListStagedPacks(offline->dir);
    if (!staged.ok()) return ReportError(global, staged.status());
    staged_packs = staged->size();
    for (const StagedPack& pack : *staged) staged_bytes += pack.size;
  }
  if (global.json) {
    PrintJson({{"message_type", "summary"},
               {"offline_job", flags.offline ? offline->info.job : ""},
               {"staged_packs", staged_packs},
               {"staged_bytes", staged_bytes},
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
                    " added to the repository in " +
                    Plural(result->packs_written, "pack", "packs"));
    if (flags.offline)
      Say(global, "Staging: " + offline->dir + " holds " + Plural(staged_packs, "pack", "packs") +
                      " (" + HumanBytes(staged_bytes) + ") for import job " + offline->info.job +
                      "; next: ferry diskprep --staging " + offline->dir);
    if (uint64_t sent = (*repository)->backend().stats().bytes_sent)
      Say(global,
          "Network: " + HumanBytes(sent) + " sent to " + (*repository)->backend().Location());
    Say(global,
        "snapshot " + result->snapshot_id.Short() + " saved in " + HumanDuration(result->seconds) +
            (snapshot.incomplete ? " (INCOMPLETE: " + Plural(summary.warnings, "file", "files") +
                                       " could not be read)"
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
  command->add_option("--time", flags->time,
                      "The snapshot's time instead of now, 'YYYY-MM-DD HH:MM:SS' in local time "
                      "(as restic's --time), for importing or testing a history");
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
  command->add_flag("--offline", flags->offline,
                    "Offline seed: write the data packs to --staging for ferry diskprep; only "
                    "trees, index and snapshot go to the vault (needs --agent)");
  command->add_option("--job", flags->job, "Import job the seed's disks travel under (--offline)");
  command->add_option("--storage-account", flags->storage_account,
                      "Storage account the datacenter copies the disks into (--offline)");
  command->add_option("--container", flags->container,
                      "Container in that storage account (--offline)");
  commands.push_back({command, [&global, flags] { return RunBackupCommand(global, *flags); }});
}

}  // namespace ferry
