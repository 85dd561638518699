// ferry unlock: remove stale locks (or, with --remove-all, every lock) left by
// processes that will not release them: killed, on a machine that is gone, or
// objects that cannot be read at all.
#include "cli/commands.h"
#include "util/plural.h"

namespace ferry {

void AddUnlockCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto remove_all = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "unlock", "Remove stale locks (--remove-all: every lock; only when no ferry process runs)");
  command->add_flag("--remove-all", *remove_all,
                    "Remove every lock, live ones too (make sure no backup, restore, check or "
                    "prune is running)");
  commands.push_back({command, [&global, remove_all]() -> int {
                        auto repository = OpenRepository(global, /*load_index=*/false);
                        if (!repository.ok()) return ReportError(global, repository.status());
                        LockOptions options;
                        options.seen_dir = LockSeenDir(global);
                        auto report = RepositoryLock::RemoveLocks(**repository, *remove_all,
                                                                  Clock::System(), options);
                        if (!report.ok())
                          return ReportError(global, WithMaintenanceHint(global, report.status()));
                        for (const std::string& removed : report->removed) {
                          if (global.json)
                            PrintJson({{"message_type", "removed"}, {"lock", removed}});
                          else
                            Say(global, "removed " + removed);
                        }
                        for (const std::string& kept : report->kept) {
                          if (global.json)
                            PrintJson({{"message_type", "kept"}, {"lock", kept}});
                          else
                            Say(global, "kept " + kept);
                        }
                        if (global.json)
                          PrintJson({{"message_type", "summary"},
                                     {"removed", report->removed.size()},
                                     {"kept", report->kept.size()}});
                        else
                          Say(global, Plural(report->removed.size(), "lock", "locks") +
                                          " removed, " + std::to_string(report->kept.size()) +
                                          " kept");
                        return kExitOk;
                      }});
}

}  // namespace ferry
