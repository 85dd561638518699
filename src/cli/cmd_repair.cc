// ferry repair index|packs|snapshots: remove or rebuild what `check` found
// damaged, in that order (repo/repair.h). Each takes the exclusive lock; on a
// vault, deleting needs the machine's maintenance token.
#include "cli/commands.h"
#include "repo/repair.h"
#include "util/plural.h"

namespace ferry {

namespace {

// Opens the repository uncached (a repair must see what is stored, like
// check) under the exclusive lock.
struct Opened {
  std::unique_ptr<Repository> repository;
  std::unique_ptr<RepositoryLock> lock;
};

Result<Opened> OpenForRepair(const GlobalOptions& global, bool load_index) {
  GlobalOptions uncached = global;
  uncached.no_cache = true;
  Opened opened;
  ASSIGN_OR_RETURN(opened.repository, OpenRepository(uncached, load_index));
  ASSIGN_OR_RETURN(opened.lock, LockRepository(global, *opened.repository, /*exclusive=*/true));
  return opened;
}

int Fail(const GlobalOptions& global, const Status& status) {
  return ReportError(global, WithMaintenanceHint(global, status));
}

void Item(const GlobalOptions& global, const char* type, nlohmann::json fields,
          const std::string& line) {
  if (global.json) {
    fields["message_type"] = type;
    PrintJson(fields);
  } else {
    Say(global, line);
  }
}

std::vector<std::string> Hex(const std::vector<Id>& ids) {
  std::vector<std::string> hex;
  for (const Id& id : ids) hex.push_back(id.Hex());
  return hex;
}

void ReportIndex(const GlobalOptions& global, const RepairIndexReport& report, bool dry_run) {
  for (const std::string& pack : report.damaged_packs)
    Warn(global, "pack " + pack + "; 'ferry repair packs " + pack.substr(0, 64) +
                     "' salvages its readable blobs");
  for (const Id& pack : report.missing_packs)
    Warn(global, "pack " + pack.Hex() + " is listed but not stored; " +
                     (report.missing_forgotten
                          ? std::string("its entries are dropped")
                          : std::string("its entries are kept (an offline seed's packs are "
                                        "missing until ingest); --forget-missing drops them")));
  if (global.json) {
    PrintJson({{"message_type", "summary"},
               {"dry_run", dry_run},
               {"packs_indexed", report.packs_indexed},
               {"packs_added", report.packs_added},
               {"headers_read", report.headers_read},
               {"new_indexes", Hex(report.new_indexes)},
               {"removed_indexes", Hex(report.removed_indexes)},
               {"damaged_packs", report.damaged_packs.size()},
               {"missing_packs", Hex(report.missing_packs)}});
    return;
  }
  Say(global,
      std::string(dry_run ? "would index " : "indexed ") +
          Plural(report.packs_indexed, "pack", "packs") + " (" +
          std::to_string(report.packs_added) + " not indexed before, " +
          Plural(report.headers_read, "header", "headers") + " read)" +
          (dry_run
               ? ""
               : "; wrote " + Plural(report.new_indexes.size(), "index object", "index objects") +
                     ", removed " + std::to_string(report.removed_indexes.size())));
}

void AddRepairIndex(CLI::App& repair, GlobalOptions& global, CommandList& commands) {
  auto options = std::make_shared<RepairIndexOptions>();
  CLI::App* command = repair.add_subcommand("index", "Rebuild the index from the packs' headers");
  command->add_flag("--read-all-packs", options->read_all_packs,
                    "Read every pack's header, also of packs an index lists");
  command->add_flag("--forget-missing", options->forget_missing,
                    "Drop the entries of packs that are listed but not stored (never for an "
                    "offline seed whose disks are still travelling)");
  command->add_flag("--dry-run,-n", options->dry_run, "Only say what would be done");
  commands.push_back({command, [&global, options]() -> int {
                        auto opened = OpenForRepair(global, /*load_index=*/false);
                        if (!opened.ok()) return Fail(global, opened.status());
                        auto report = RepairIndex(*opened->repository, *options,
                                                  [&](const std::string& p) { Say(global, p); });
                        if (!report.ok()) return Fail(global, report.status());
                        ReportIndex(global, *report, options->dry_run);
                        return kExitOk;
                      }});
}

void AddRepairPacks(CLI::App& repair, GlobalOptions& global, CommandList& commands) {
  auto ids = std::make_shared<std::vector<std::string>>();
  auto dry_run = std::make_shared<bool>(false);
  CLI::App* command = repair.add_subcommand(
      "packs", "Salvage the readable blobs of damaged packs and remove the packs");
  command->add_option("pack", *ids, "Pack IDs, as 'ferry check' names them")->required();
  command->add_flag("--dry-run,-n", *dry_run, "Only say what would be done");
  commands.push_back(
      {command, [&global, ids, dry_run]() -> int {
         std::vector<Id> packs;
         for (const std::string& hex : *ids) {
           auto id = Id::FromHex(hex);
           if (!id.ok())
             return ReportError(
                 global, Status::InvalidArgument("'" + hex + "' is not a pack ID (64 hex digits)"));
           packs.push_back(*id);
         }
         auto opened = OpenForRepair(global, /*load_index=*/false);
         if (!opened.ok()) return Fail(global, opened.status());
         auto report = RepairPacks(*opened->repository, packs, *dry_run,
                                   [&](const std::string& p) { Say(global, p); });
         if (!report.ok()) return Fail(global, report.status());
         size_t lost = 0;
         for (const RepairedPack& pack : report->packs) {
           for (const std::string& blob : pack.lost) Warn(global, "lost " + blob);
           lost += pack.blobs_lost;
           Item(global, "pack",
                {{"id", pack.id.Hex()},
                 {"blobs_salvaged", pack.blobs_salvaged},
                 {"blobs_lost", pack.blobs_lost}},
                std::string(*dry_run ? "would repair" : "repaired") + " pack " + pack.id.Hex() +
                    ": " + Plural(pack.blobs_salvaged, "blob", "blobs") + " salvaged, " +
                    std::to_string(pack.blobs_lost) + " lost");
         }
         if (global.json)
           PrintJson({{"message_type", "summary"},
                      {"dry_run", *dry_run},
                      {"new_packs", Hex(report->new_packs)},
                      {"blobs_lost", lost},
                      {"removed_indexes", Hex(report->index.removed_indexes)}});
         else if (lost)
           Say(global,
               "blobs were lost: 'ferry repair snapshots --forget' rewrites the "
               "snapshots that used them");
         return kExitOk;
       }});
}

void AddRepairSnapshots(CLI::App& repair, GlobalOptions& global, CommandList& commands) {
  auto options = std::make_shared<RepairSnapshotsOptions>();
  CLI::App* command = repair.add_subcommand(
      "snapshots",
      "Rewrite snapshots without their missing data; remove snapshots that cannot be read");
  command->add_flag("--forget", options->forget, "Remove each original that was rewritten");
  command->add_flag("--dry-run,-n", options->dry_run, "Only say what would be done");
  commands.push_back(
      {command, [&global, options]() -> int {
         auto opened = OpenForRepair(global, /*load_index=*/true);
         if (!opened.ok()) return Fail(global, opened.status());
         WarnDamaged(global, *opened->repository, ObjectKind::kIndex);
         auto report = RepairSnapshots(*opened->repository, *options,
                                       [&](const std::string& p) { Say(global, p); });
         if (!report.ok()) return Fail(global, report.status());
         for (const DamagedObject& damaged : report->removed_damaged)
           Item(global, "removed_damaged", {{"id", damaged.id.Hex()}, {"problem", damaged.problem}},
                std::string(options->dry_run ? "would remove" : "removed") + " damaged snapshot " +
                    damaged.id.Hex() + " (" + damaged.problem + ")");
         for (const RewrittenSnapshot& snapshot : report->rewritten) {
           for (const std::string& change : snapshot.changes)
             Say(global, "  " + snapshot.original.Hex().substr(0, 8) + " " + change);
           Item(global, "rewritten",
                {{"original", snapshot.original.Hex()},
                 {"repaired", options->dry_run ? "" : snapshot.repaired.Hex()},
                 {"changes", snapshot.changes},
                 {"original_removed", snapshot.original_removed}},
                std::string(options->dry_run ? "would rewrite" : "rewrote") + " snapshot " +
                    snapshot.original.Hex().substr(0, 8) +
                    (options->dry_run ? "" : " as " + snapshot.repaired.Hex().substr(0, 8)) +
                    (snapshot.original_removed ? " and removed the original" : ""));
         }
         if (global.json)
           PrintJson({{"message_type", "summary"},
                      {"dry_run", options->dry_run},
                      {"intact", report->snapshots_intact},
                      {"rewritten", report->rewritten.size()},
                      {"removed_damaged", report->removed_damaged.size()}});
         else
           Say(global, Plural(report->snapshots_intact, "snapshot", "snapshots") + " intact, " +
                           (options->dry_run ? "would rewrite " : "rewrote ") +
                           std::to_string(report->rewritten.size()) + ", " +
                           (options->dry_run ? "would remove " : "removed ") +
                           std::to_string(report->removed_damaged.size()) + " damaged" +
                           (!options->forget && !report->rewritten.empty()
                                ? "; the originals remain (--forget removes them)"
                                : ""));
         return kExitOk;
       }});
}

}  // namespace

void AddRepairCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  CLI::App* repair = app.add_subcommand(
      "repair", "Repair what 'ferry check' found damaged: index, packs, then snapshots");
  repair->require_subcommand(1);
  AddRepairIndex(*repair, global, commands);
  AddRepairPacks(*repair, global, commands);
  AddRepairSnapshots(*repair, global, commands);
}

}  // namespace ferry
