// ferry restore: recreate a snapshot, or parts of it, under a target directory.
#include "cli/commands.h"
#include "cli/progress_line.h"
#include "cli/snapshot_filter_flags.h"
#include "engine/restorer.h"

namespace ferry {

namespace {
struct RestoreFlags {
  std::string snapshot;
  SnapshotFilter filter;  // what "latest" considers
  std::string target;
  std::vector<std::string> includes;
  bool overwrite = false;
  int threads = 0;
};
}  // namespace

void AddRestoreCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto flags = std::make_shared<RestoreFlags>();
  CLI::App* command = app.add_subcommand("restore", "Restore a snapshot into a directory");
  command->add_option("snapshot", flags->snapshot, "Snapshot ID prefix or 'latest'")->required();
  AddSnapshotFilterOptions(*command, flags->filter);
  command->add_option("-t,--target", flags->target, "Directory to restore into")->required();
  command->add_option("-i,--include", flags->includes,
                      "Restore only this path of the snapshot (repeatable)");
  command->add_flag("--overwrite", flags->overwrite,
                    "Replace files that already exist in the target");
  command->add_option("--threads", flags->threads,
                      "Packs read and written at once (default: three per core)");
  commands.push_back(
      {command, [&global, flags]() -> int {
         auto repository = OpenRepository(global);
         if (!repository.ok()) return ReportError(global, repository.status());
         auto entry = SelectSnapshot(global, **repository, flags->snapshot, flags->filter);
         if (!entry.ok()) return ReportError(global, entry.status());
         auto lock = LockRepository(global, **repository, /*exclusive=*/false);
         if (!lock.ok()) return ReportError(global, lock.status());
         RestoreOptions options;
         options.target = flags->target;
         options.includes = flags->includes;
         options.overwrite = flags->overwrite;
         options.threads = flags->threads;
         options.cancel = &InterruptFlag();
         RestoreProgress progress;
         Result<RestoreResult> result = Status::Internal("restore did not run");
         {
           ProgressLine line(
               global,
               [&](double elapsed) {
                 return "[" + HumanDuration(elapsed) + "] " + std::to_string(progress.files_done) +
                        " / " + std::to_string(progress.files_total) + " files " +
                        HumanBytes(progress.bytes_done) + " / " + HumanBytes(progress.bytes_total) +
                        ", " + RateAndEta(progress.bytes_done, progress.bytes_total, elapsed, true);
               },
               [&](double) {
                 return nlohmann::json{{"files_done", progress.files_done.load()},
                                       {"total_files", progress.files_total.load()},
                                       {"bytes_done", progress.bytes_done.load()},
                                       {"total_bytes", progress.bytes_total.load()}};
               });
           result = RunRestore(**repository, entry->snapshot, options, progress,
                               [&](const std::string& message) { Warn(global, message); });
         }
         if (InterruptFlag())
           return ReportError(global, Status::Interrupted("restore interrupted"));
         if (!result.ok()) return ReportError(global, result.status());
         bool complete = result->failures.empty();
         if (global.json) {
           PrintJson({{"message_type", "summary"},
                      {"snapshot_id", entry->id.Hex()},
                      {"files", result->files},
                      {"directories", result->directories},
                      {"other", result->other},
                      {"bytes", result->bytes},
                      {"warnings", result->warnings},
                      {"incomplete", !complete},
                      {"failures", result->failures}});
         } else {
           Say(global, std::string(complete ? "restored" : "partly restored") + " snapshot " +
                           entry->id.Short() + " to " + flags->target + ": " +
                           std::to_string(result->files) + " files, " +
                           std::to_string(result->directories) + " directories, " +
                           HumanBytes(result->bytes));
         }
         if (!complete && !global.json) {  // JSON: the summary lists them
           // Each failure was named as it happened; repeat them where a user
           // reading the end of the output looks.
           std::string list;
           for (size_t i = 0; i < result->failures.size() && i < 10; ++i)
             list += "\n  " + result->failures[i];
           if (result->failures.size() > 10)
             list += "\n  ... and " + std::to_string(result->failures.size() - 10) + " more";
           ReportError(global, Status::Corruption("the restore is incomplete: " +
                                                  std::to_string(result->failures.size()) +
                                                  " entries could not be restored:" + list));
         }
         if (!complete) return kExitIncomplete;
         return result->warnings ? kExitFailure : kExitOk;
       }});
}

}  // namespace ferry
