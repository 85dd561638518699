// ferry tag: change the tags of snapshots after the fact. A snapshot object
// is named by the hash of its sealed bytes, so a change is a new object: the
// new snapshot is written, then the old one removed (as restic does). Under
// the exclusive lock; on a vault, removing needs the maintenance token, and
// ferry asks the vault before writing anything, so that a machine token
// leaves no duplicate behind.
#include <algorithm>

#include "cli/commands.h"
#include "cli/snapshot_filter_flags.h"

namespace ferry {

namespace {

struct TagFlags {
  std::vector<std::string> snapshots;
  SnapshotFilter filter;
  std::vector<std::string> add;
  std::vector<std::string> remove;
  std::vector<std::string> set;
  bool set_given = false;
  bool dry_run = false;
};

// "a,b" and repeated flags alike; empty parts dropped ("--set ''" clears).
std::vector<std::string> Tags(const std::vector<std::string>& values) {
  std::vector<std::string> tags;
  for (const std::string& value : values) {
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string tag = value.substr(start, comma - start);
      if (!tag.empty() && std::find(tags.begin(), tags.end(), tag) == tags.end())
        tags.push_back(tag);
      start = comma + 1;
    }
  }
  return tags;
}

std::vector<std::string> NewTags(const TagFlags& flags, std::vector<std::string> tags) {
  if (flags.set_given) tags = Tags(flags.set);
  for (const std::string& tag : Tags(flags.add))
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
  for (const std::string& tag : Tags(flags.remove))
    tags.erase(std::remove(tags.begin(), tags.end(), tag), tags.end());
  return tags;
}

// Whether this repository lets us delete snapshots: a vault refuses a
// machine token before it looks for the object, so removing a name no
// snapshot has answers without changing anything.
Status CheckMayRemoveSnapshots(const GlobalOptions& global, Repository& repository) {
  Status probe = repository.backend().Remove({ObjectKind::kSnapshot, Id().Hex()});
  if (probe.ok() || probe.IsNotFound()) return Status::Ok();
  return WithMaintenanceHint(
      global, probe.WithContext("changing tags writes a new snapshot and removes the old one, "
                                "which this repository does not allow; nothing was changed"));
}

int RunTag(const GlobalOptions& global, const TagFlags& flags) {
  if (flags.set_given && (!flags.add.empty() || !flags.remove.empty())) {
    ReportError(global, Status::InvalidArgument("give --set alone, or --add and --remove"));
    return kExitUsage;
  }
  if (!flags.set_given && flags.add.empty() && flags.remove.empty()) {
    ReportError(global,
                Status::InvalidArgument("say what to change: --add T, --remove T or --set T"));
    return kExitUsage;
  }
  if (flags.snapshots.empty() && flags.filter.empty()) {
    ReportError(global, Status::InvalidArgument(
                            "name the snapshots to tag (IDs, 'latest'), or choose them with "
                            "--host/--tag/--path"));
    return kExitUsage;
  }
  GlobalOptions uncached = global;  // like forget: act on what is stored
  uncached.no_cache = true;
  auto repository = OpenRepository(uncached, /*load_index=*/false);
  if (!repository.ok()) return ReportError(global, repository.status());
  auto lock = LockRepository(global, **repository, /*exclusive=*/true);
  if (!lock.ok()) return ReportError(global, lock.status());
  auto snapshots = SelectSnapshots(global, **repository, flags.snapshots, flags.filter);
  if (!snapshots.ok()) return ReportError(global, snapshots.status());
  if (!flags.dry_run) {
    Status allowed = CheckMayRemoveSnapshots(global, **repository);
    if (!allowed.ok()) return ReportError(global, allowed);
  }
  size_t changed = 0;
  for (const SnapshotEntry& entry : *snapshots) {
    Snapshot snapshot = entry.snapshot;
    snapshot.tags = NewTags(flags, snapshot.tags);
    if (snapshot.tags == entry.snapshot.tags) continue;
    std::string new_id = "(dry run)";
    if (!flags.dry_run) {
      auto saved = (*repository)->SaveSnapshot(snapshot);
      if (!saved.ok())
        return ReportError(global, saved.status().WithContext("writing the retagged snapshot " +
                                                              entry.id.Short()));
      Status removed = (*repository)->backend().Remove({ObjectKind::kSnapshot, entry.id.Hex()});
      if (!removed.ok() && !removed.IsNotFound()) {
        Warn(global, "snapshot " + entry.id.Short() + " is now also " + saved->Short() +
                         " with the new tags; remove the old one with 'ferry forget " +
                         entry.id.Short() + "'");
        return ReportError(global,
                           WithMaintenanceHint(
                               global, removed.WithContext("removing snapshot " + entry.id.Hex())));
      }
      new_id = saved->Hex();
    }
    ++changed;
    if (global.json) {
      PrintJson({{"message_type", "changed"},
                 {"old_id", entry.id.Hex()},
                 {"new_id", flags.dry_run ? nlohmann::json(nullptr) : nlohmann::json(new_id)},
                 {"tags", snapshot.tags}});
    } else {
      std::string tags;
      for (const std::string& tag : snapshot.tags) tags += (tags.empty() ? "" : ",") + tag;
      Say(global, (flags.dry_run ? "would retag " : "retagged ") + entry.id.Short() +
                      (flags.dry_run ? "" : " as " + new_id.substr(0, 8)) + ": tags [" + tags +
                      "]");
    }
  }
  if (global.json)
    PrintJson({{"message_type", "summary"}, {"changed", changed}, {"dry_run", flags.dry_run}});
  else
    Say(global,
        std::to_string(changed) + " snapshot(s) " + (flags.dry_run ? "would change" : "changed"));
  return kExitOk;
}

}  // namespace

void AddTagCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto flags = std::make_shared<TagFlags>();
  CLI::App* command = app.add_subcommand(
      "tag", "Add, remove or set the tags of snapshots (each becomes a new snapshot object)");
  command->add_option("snapshot", flags->snapshots, "Snapshot ID prefixes or 'latest'");
  // One value per flag (no extra args): a vector option would otherwise take the
  // snapshot IDs that follow it as more tags.
  command->add_option("--add", flags->add, "Add this tag ('a,b' for several; repeatable)")
      ->allow_extra_args(false);
  command->add_option("--remove", flags->remove, "Remove this tag (repeatable)")
      ->allow_extra_args(false);
  auto* set =
      command
          ->add_option("--set", flags->set, "Replace all tags by these ('' for none; repeatable)")
          ->allow_extra_args(false);
  AddSnapshotFilterOptions(*command, flags->filter);
  command->add_flag("--dry-run,-n", flags->dry_run, "Only say what would change");
  commands.push_back({command, [&global, flags, set]() -> int {
                        flags->set_given = set->count() > 0;
                        return RunTag(global, *flags);
                      }});
}

}  // namespace ferry
