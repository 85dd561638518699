// ferry check: verify the repository's structure and, with --read-data, every byte.
#include "cli/commands.h"
#include "repo/checker.h"
#include "util/plural.h"

namespace ferry {

void AddCheckCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto options = std::make_shared<CheckOptions>();
  CLI::App* command = app.add_subcommand("check", "Check the repository for damage");
  command->add_flag("--read-data", options->read_data,
                    "Also read and verify every byte of every pack");
  commands.push_back(
      {command, [&global, options]() -> int {
         // Without loading the index: check reads each index object itself and
         // reports a damaged one instead of failing on it.
         // Check reads what the vault holds, never the local metadata cache.
         GlobalOptions uncached = global;
         uncached.no_cache = true;
         auto repository = OpenRepository(uncached, /*load_index=*/false);
         if (!repository.ok()) return ReportError(global, repository.status());
         auto lock = LockRepository(global, **repository, /*exclusive=*/false);
         if (!lock.ok()) return ReportError(global, lock.status());
         auto report = CheckRepository(**repository, *options,
                                       [&](const std::string& phase) { Say(global, phase); });
         if (!report.ok()) return ReportError(global, report.status());
         for (const std::string& warning : report->warnings) Warn(global, warning);
         for (const std::string& error : report->errors) {
           if (global.json)
             PrintJson({{"message_type", "damage"}, {"message", error}});
           else
             std::fprintf(stderr, "error: %s\n", error.c_str());
         }
         for (const std::string& repair : report->repairs) {
           if (global.json)
             PrintJson({{"message_type", "repair"}, {"command", repair}});
           else
             std::fprintf(stderr, "to repair: %s\n", repair.c_str());
         }
         if (global.json) {
           PrintJson({{"message_type", "summary"},
                      {"ok", report->ok()},
                      {"errors", report->errors.size()},
                      {"warnings", report->warnings.size()},
                      {"repairs", report->repairs},
                      {"packs_checked", report->packs_checked},
                      {"blobs_checked", report->blobs_checked},
                      {"snapshots_checked", report->snapshots_checked},
                      {"bytes_read", report->bytes_read}});
         } else if (report->ok()) {
           Say(global,
               "no errors were found (" + Plural(report->packs_checked, "pack", "packs") + ", " +
                   Plural(report->snapshots_checked, "snapshot", "snapshots") +
                   (options->read_data ? ", " + HumanBytes(report->bytes_read) + " read" : "") +
                   ")");
         } else {
           std::fprintf(stderr, "ferry: the repository is damaged: %s\n",
                        Plural(report->errors.size(), "error", "errors").c_str());
         }
         return report->ok() ? kExitOk : kExitFailure;
       }});
}

}  // namespace ferry
