// ferry: deduplicating, encrypted backups whose first full copy can travel on disks.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/help_formatter.h"

int main(int argc, char** argv) {
  using namespace ferry;
  // Pack and read buffers are tens of MiB: always map them afresh, so that
  // freeing one returns it to the system. glibc's adaptive threshold would
  // otherwise move them onto the heap, where freed memory stays resident.
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  // Named, so that usage lines say "ferry", not the path it was started by.
  CLI::App app{"ferry: deduplicating, encrypted backups whose first full copy can travel on disks",
               "ferry"};
  app.formatter(std::make_shared<HelpFormatter>());  // before the subcommands, which inherit it
  app.require_subcommand(1);
  app.fallthrough();  // global options are accepted after the verb too
  app.set_version_flag("--version", "ferry 0.1.0");
  GlobalOptions global;
  global.Register(app);
  CommandList commands;
  AddInitCommand(app, global, commands);
  AddBackupCommand(app, global, commands);
  AddSnapshotsCommand(app, global, commands);
  AddLsCommand(app, global, commands);
  AddRestoreCommand(app, global, commands);
  AddFindCommand(app, global, commands);
  AddDiffCommand(app, global, commands);
  AddDumpCommand(app, global, commands);
  AddStatsCommand(app, global, commands);
  AddCatCommand(app, global, commands);
  AddTagCommand(app, global, commands);
  AddCheckCommand(app, global, commands);
  AddForgetCommand(app, global, commands);
  AddPruneCommand(app, global, commands);
  AddRepairCommand(app, global, commands);
  AddUnlockCommand(app, global, commands);
  AddKeyCommand(app, global, commands);
  AddTrustCommand(app, global, commands);
  AddScheduleCommand(app, global, commands);
  AddServeCommand(app, global, commands);
  AddVaultCommand(app, global, commands);
  AddPolicyCommand(app, global, commands);
  AddMachineCommand(app, global, commands);
  AddJobCommand(app, global, commands);
  AddDiskPrepCommand(app, global, commands);
  AddDatacenterCommand(app, global, commands);
  AddSeedCommand(app, global, commands);
  AddCompletionCommand(app, global, commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
    std::cerr << "ferry: " << ParseErrorMessage(app, error) << std::endl;
    return kExitUsage;
  }
  InstallSignalHandlers();
  for (const Command& command : commands) {
    if (!command.app->parsed()) continue;
    // Errors travel as Status values; this only catches what slipped through
    // (e.g. a server's JSON of an unexpected shape), to fail with a message
    // instead of an abort.
    try {
      return command.run();
    } catch (const std::exception& error) {
      return ReportError(global, Status::Internal(std::string("unexpected: ") + error.what()));
    }
  }
  return kExitUsage;
}
