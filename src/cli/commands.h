// One function per ferry verb (cmd_<verb>.cc), each adding its subcommand to
// the CLI11 app and a runner that returns the process exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

#include "cli/global_options.h"

namespace ferry {

struct Command {
  CLI::App* app;
  std::function<int()> run;
};
using CommandList = std::vector<Command>;

void AddInitCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddBackupCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddSnapshotsCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddLsCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddRestoreCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddCheckCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddForgetCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddPruneCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddRepairCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddUnlockCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddKeyCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddScheduleCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddServeCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddPolicyCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddVaultCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddMachineCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddJobCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddDiskPrepCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddDatacenterCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddSeedCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddTrustCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddCatCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddFindCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddDiffCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddDumpCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddStatsCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddTagCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);
void AddCompletionCommand(CLI::App& app, GlobalOptions& global, CommandList& commands);

}  // namespace ferry
