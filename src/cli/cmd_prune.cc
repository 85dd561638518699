// ferry prune: removes the packs no snapshot needs and repacks mostly unused
// ones (repo/prune.h). Takes the exclusive lock; on a vault, needs the
// machine's maintenance token. `ferry forget … --prune` runs it after forget.
#include "cli/cmd_prune.h"

#include <mutex>

#include "cli/commands.h"
#include "cli/progress_line.h"
#include "cli/vault_policy_client.h"
#include "repo/prune.h"
#include "util/plural.h"

namespace ferry {

namespace {

std::vector<std::string> Hex(const std::vector<Id>& ids) {
  std::vector<std::string> hex;
  for (const Id& id : ids) hex.push_back(id.Hex());
  return hex;
}

std::string Packs(size_t count, uint64_t bytes) {
  return Plural(count, "pack", "packs") + " (" + HumanBytes(bytes) + ")";
}

void PrintReport(const GlobalOptions& global, const PruneReport& report, bool dry_run) {
  if (global.json) {
    PrintJson({{"message_type", "summary"},
               {"dry_run", dry_run},
               {"snapshots", report.snapshots},
               {"blobs_used", report.blobs_used},
               {"bytes_used", report.bytes_used},
               {"bytes_unused", report.bytes_unused},
               {"packs_held", report.packs_held},
               {"bytes_held", report.bytes_held},
               {"packs_removed", report.packs_removed},
               {"bytes_removed", report.bytes_removed},
               {"packs_repacked", report.packs_repacked},
               {"bytes_repacked", report.bytes_repacked},
               {"packs_written", report.packs_written},
               {"bytes_repack_written", report.bytes_repack_written},
               {"packs_debris", report.packs_debris},
               {"bytes_debris", report.bytes_debris},
               {"packs_awaiting_seed", report.packs_awaiting_seed},
               {"bytes_unused_after", report.bytes_unused_after},
               {"bytes_freed", report.bytes_freed()},
               {"new_indexes", Hex(report.new_indexes)},
               {"removed_indexes", Hex(report.removed_indexes)}});
    return;
  }
  const std::string will = dry_run ? "would " : "";
  Say(global, Plural(report.snapshots, "snapshot uses ", "snapshots use ") +
                  Plural(report.blobs_used, "blob", "blobs") + " (" +
                  HumanBytes(report.bytes_used) + "); " + HumanBytes(report.bytes_unused) +
                  " unused in " + Packs(report.packs_held, report.bytes_held));
  if (report.packs_awaiting_seed)
    Say(global, "kept " + Plural(report.packs_awaiting_seed, "pack", "packs") +
                    " an offline seed is still bringing (listed, not stored yet)");
  if (report.nothing_to_do()) {
    Say(global, "nothing to prune");
    return;
  }
  if (report.packs_removed)
    Say(global,
        will + "remove " + Packs(report.packs_removed, report.bytes_removed) + " no snapshot uses");
  if (report.packs_repacked)
    Say(global, will + "repack " + Packs(report.packs_repacked, report.bytes_repacked) +
                    " mostly unused into " +
                    Packs(report.packs_written, report.bytes_repack_written));
  if (report.packs_debris)
    Say(global, will + "remove " + Packs(report.packs_debris, report.bytes_debris) +
                    " no index lists (left by interrupted backups)");
  Say(global, (dry_run ? "would free " : "freed ") + HumanBytes(report.bytes_freed()) + "; " +
                  HumanBytes(report.bytes_unused_after) + " unused stays");
}

}  // namespace

Status ParseMaxUnused(const std::string& text, PruneOptions& options) {
  if (text == "unlimited") {
    options.max_unused_percent = 100;
    return Status::Ok();
  }
  if (!text.empty() && text.back() == '%') {
    std::string number = text.substr(0, text.size() - 1);
    char* end = nullptr;
    double percent = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !(percent >= 0) || percent > 100)
      return Status::InvalidArgument("--max-unused '" + text +
                                     "': a percentage is 0% to 100% (e.g. 5%)");
    options.max_unused_percent = percent;
    return Status::Ok();
  }
  auto bytes = ParseByteSize(text);
  if (!bytes.ok())
    return Status::InvalidArgument("--max-unused '" + text +
                                   "' is neither a percentage (5%), a size (500M) nor "
                                   "'unlimited'");
  options.max_unused_bytes = *bytes;
  return Status::Ok();
}

void AddPruneOptions(CLI::App& command, PruneFlags& flags) {
  command
      .add_option("--max-unused", flags.max_unused,
                  "Unused space tolerated in packs that stay: a percentage of the repository "
                  "after prune (default 5%), a size (500M) or 'unlimited'")
      ->default_str("5%");
  command.add_option("--max-repack-size", flags.max_repack_size,
                     "Rewrite at most this much used data (e.g. 2G)");
}

int RunPrune(const GlobalOptions& global, Repository& repository, const PruneFlags& flags,
             bool dry_run, uint64_t snapshots_forgotten) {
  PruneOptions options;
  options.dry_run = dry_run;
  if (Status parsed = ParseMaxUnused(flags.max_unused, options); !parsed.ok()) {
    ReportError(global, parsed);
    return kExitUsage;
  }
  if (!flags.max_repack_size.empty()) {
    auto bytes = ParseByteSize(flags.max_repack_size);
    if (!bytes.ok()) {
      ReportError(global, bytes.status().WithContext("--max-repack-size"));
      return kExitUsage;
    }
    options.max_repack_bytes = *bytes;
  }
  std::mutex mutex;
  std::string step = "starting";
  Result<PruneReport> report = Status::Internal("not run");
  {
    ProgressLine line(
        global,
        [&](double) {
          std::lock_guard lock(mutex);
          return "prune: " + step;
        },
        [&](double elapsed) {
          std::lock_guard lock(mutex);
          return nlohmann::json{
              {"message_type", "status"}, {"step", step}, {"seconds_elapsed", elapsed}};
        });
    report = Prune(repository, options, [&](const std::string& now) {
      std::lock_guard lock(mutex);
      step = now;
    });
  }
  if (!report.ok()) return ReportError(global, WithMaintenanceHint(global, report.status()));
  PrintReport(global, *report, dry_run);
  if (!dry_run && !global.agent_file.empty()) {
    // `vault show` lists it. The prune itself is done whatever happens here.
    auto agent = LoadAgentCredentials(global.agent_file);
    Status reported =
        agent.ok() ? ReportPrune(*agent, *report, snapshots_forgotten) : agent.status();
    if (!reported.ok())
      Warn(global, "the prune is done, but the vault was not told: " + reported.message());
  }
  return kExitOk;
}

void AddPruneCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto flags = std::make_shared<PruneFlags>();
  auto dry_run = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "prune", "Remove the data no snapshot uses (after forget) and repack mostly unused packs");
  AddPruneOptions(*command, *flags);
  command->add_flag("--dry-run,-n", *dry_run, "Only say what would be removed and repacked");
  commands.push_back({command, [&global, flags, dry_run]() -> int {
                        auto repository = OpenRepository(global, /*load_index=*/false);
                        if (!repository.ok()) return ReportError(global, repository.status());
                        auto lock = LockRepository(global, **repository, /*exclusive=*/true);
                        if (!lock.ok()) return ReportError(global, lock.status());
                        return RunPrune(global, **repository, *flags, *dry_run);
                      }});
}

}  // namespace ferry
