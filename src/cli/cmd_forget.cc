// ferry forget: remove snapshots by a retention policy (repo/retention_policy.h)
// or by ID. Only snapshot objects go: the data they alone used stays until
// prune. Takes the exclusive lock; on a vault, needs the maintenance token.
// --vault-policy takes the rules (and whether to prune) from the policy the
// admin set for the machine's vault (`ferry policy`, docs/cli.md).
#include <algorithm>

#include "cli/cmd_prune.h"
#include "cli/commands.h"
#include "cli/retention_flags.h"
#include "cli/vault_policy_client.h"
#include "repo/history_guard.h"
#include "repo/retention_policy.h"
#include "util/clock.h"
#include "util/plural.h"

namespace ferry {

namespace {

struct ForgetOptions {
  std::vector<std::string> ids;
  RetentionRules rules;
  bool vault_policy = false;  // the rules are the vault's (--agent), not the flags
  std::vector<std::string> hosts, tags, paths;  // which snapshots the policy applies to
  std::string group_by = "host,paths";
  bool dry_run = false;
  bool prune = false;  // then prune, under the same lock
  PruneFlags prune_flags;
};

bool Selected(const ForgetOptions& options, const Snapshot& snapshot) {
  auto any_of = [](const std::vector<std::string>& wanted, const std::vector<std::string>& have) {
    if (wanted.empty()) return true;
    for (const std::string& w : wanted)
      if (std::find(have.begin(), have.end(), w) != have.end()) return true;
    return false;
  };
  return any_of(options.hosts, {snapshot.hostname}) && any_of(options.tags, snapshot.tags) &&
         any_of(options.paths, snapshot.paths);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

int RemoveSnapshots(const GlobalOptions& global, Repository& repository,
                    const std::vector<Id>& ids) {
  size_t removed = 0;
  if (Status recorded = RecordRemovalsAhead(repository.backend(), ObjectKind::kSnapshot, ids);
      !recorded.ok())
    return ReportError(global, recorded);
  for (const Id& id : ids) {
    Status status = repository.backend().Remove({ObjectKind::kSnapshot, id.Hex()});
    if (!status.ok() && !status.IsNotFound()) {
      Warn(global, std::to_string(removed) + " of " + Plural(ids.size(), "snapshot", "snapshots") +
                       " removed before the error");
      return ReportError(
          global, WithMaintenanceHint(global, status.WithContext("removing snapshot " + id.Hex())));
    }
    ++removed;
  }
  return kExitOk;
}

// Removes the snapshots (unless a dry run), then prunes if asked to.
int Finish(const GlobalOptions& global, Repository& repository, const ForgetOptions& options,
           const std::vector<Id>& remove) {
  if (options.dry_run) {
    if (options.prune) Say(global, "prune would run next (see 'ferry prune --dry-run')");
    return kExitOk;
  }
  int removed = RemoveSnapshots(global, repository, remove);
  if (removed != kExitOk || !options.prune) return removed;
  return RunPrune(global, repository, options.prune_flags, /*dry_run=*/false, remove.size());
}

// --vault-policy: replaces the (empty) rules by the vault's policy, and asks
// for a prune if the policy says so. A vault without a policy leaves the rules
// empty, which the caller takes as "nothing to do" (a scheduled run must not
// fail because the admin has not set one yet).
int UseVaultPolicy(const GlobalOptions& global, ForgetOptions& options) {
  if (global.agent_file.empty()) {
    ReportError(global, Status::InvalidArgument(
                            "--vault-policy applies a vault's policy: give --agent with the "
                            "machine's maintenance credentials"));
    return kExitUsage;
  }
  if (!options.ids.empty() || !DescribeRetentionRules(options.rules).empty()) {
    ReportError(global,
                Status::InvalidArgument("--vault-policy takes the rules from the vault: give "
                                        "neither snapshot IDs nor --keep-* with it"));
    return kExitUsage;
  }
  auto agent = LoadAgentCredentials(global.agent_file);
  if (!agent.ok()) return ReportError(global, agent.status());
  auto policy = FetchVaultPolicy(*agent);
  if (!policy.ok()) return ReportError(global, policy.status());
  if (!*policy) {
    if (global.json)
      PrintJson({{"message_type", "vault_policy"}, {"vault", agent->vault}, {"policy", nullptr}});
    else
      Say(global, "vault " + agent->vault + " has no backup policy: nothing to forget");
    return kExitOk;
  }
  options.rules = (*policy)->rules;
  options.prune = options.prune || (*policy)->prune;
  if (global.json)
    PrintJson({{"message_type", "vault_policy"},
               {"vault", agent->vault},
               {"policy", DescribeRetentionRules(options.rules)},
               {"prune", options.prune}});
  else
    Say(global, "vault " + agent->vault + "'s policy: " + DescribeRetentionRules(options.rules) +
                    (options.prune ? ", then prune" : ""));
  return kExitOk;
}

}  // namespace

void AddForgetCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto options = std::make_shared<ForgetOptions>();
  CLI::App* command = app.add_subcommand(
      "forget", "Remove snapshots by a retention policy or by ID (prune frees their data)");
  command->add_option("snapshot", options->ids, "Snapshot IDs (or unique prefixes) to forget");
  AddRetentionOptions(*command, options->rules);
  command->add_flag("--vault-policy", options->vault_policy,
                    "Apply the backup policy the admin set for this machine's vault (with "
                    "--agent and the maintenance token; prunes too if the policy says so)");
  command->add_option("--host", options->hosts, "Only consider snapshots of this host");
  command->add_option("--tag", options->tags, "Only consider snapshots with this tag");
  command->add_option("--path", options->paths, "Only consider snapshots of this path");
  command->add_option("--group-by", options->group_by,
                      "Apply the policy per group of snapshots alike in host,paths,tags "
                      "(default host,paths; '' for one group)");
  command->add_flag("--dry-run,-n", options->dry_run, "Only say what would be removed");
  command->add_flag("--prune", options->prune,
                    "Then remove the data no remaining snapshot uses (ferry prune)");
  AddPruneOptions(*command, options->prune_flags);
  commands.push_back(
      {command, [&global, options]() -> int {
         if (options->vault_policy) {
           int usable = UseVaultPolicy(global, *options);
           if (usable != kExitOk) return usable;
           // No policy on the vault: said so, nothing to do.
           if (DescribeRetentionRules(options->rules).empty()) return kExitOk;
         }
         auto policy = CompileRetentionRules(options->rules, RuleNames::kFlags);
         if (!policy.ok()) return ReportError(global, policy.status());
         auto group_by = ParseGroupBy(options->group_by);
         if (!group_by.ok()) return ReportError(global, group_by.status());
         if (options->ids.empty() && policy->empty()) {
           ReportError(global,
                       Status::InvalidArgument(
                           "no policy and no snapshot given, so nothing is forgotten: say "
                           "what to keep (--keep-last N, --keep-daily N, --keep-within 30d, …) "
                           "or name the snapshots to forget"));
           return kExitUsage;
         }
         if (!options->ids.empty() && !policy->empty()) {
           ReportError(global, Status::InvalidArgument(
                                   "give either snapshot IDs or a policy (--keep-*), not both"));
           return kExitUsage;
         }
         GlobalOptions uncached = global;  // forget must see what is stored, like check
         uncached.no_cache = true;
         auto repository = OpenRepository(uncached, /*load_index=*/false);
         if (!repository.ok()) return ReportError(global, repository.status());
         auto lock = LockRepository(global, **repository, /*exclusive=*/true);
         if (!lock.ok()) return ReportError(global, lock.status());

         if (!options->ids.empty()) {
           std::vector<Id> ids;
           for (const std::string& selector : options->ids) {
             auto found = SelectSnapshot(global, **repository, selector);
             if (!found.ok()) return ReportError(global, found.status());
             ids.push_back(found->id);
           }
           for (const Id& id : ids) {
             if (global.json)
               PrintJson(
                   {{"message_type", "remove"}, {"id", id.Hex()}, {"dry_run", options->dry_run}});
             else
               Say(global, std::string(options->dry_run ? "would remove" : "removed") +
                               " snapshot " + id.Short());
           }
           return Finish(global, **repository, *options, ids);
         }

         auto snapshots = (*repository)->ListSnapshots();
         if (!snapshots.ok()) return ReportError(global, snapshots.status());
         // A snapshot that cannot be read is not counted, and not removed: repair
         // snapshots does that. Its absence can only make the policy keep more.
         WarnDamaged(global, **repository, ObjectKind::kSnapshot);
         std::vector<SnapshotEntry> considered;
         for (const SnapshotEntry& entry : *snapshots)
           if (Selected(*options, entry.snapshot)) considered.push_back(entry);
         std::vector<RetentionGroup> groups =
             ApplyRetentionPolicy(considered, *policy, *group_by, Clock::System().NowNanos());
         std::vector<Id> remove;
         nlohmann::json json_groups = nlohmann::json::array();
         for (const RetentionGroup& group : groups) {
           size_t kept = 0;
           nlohmann::json decisions = nlohmann::json::array();
           for (const RetentionDecision& decision : group.decisions) {
             if (decision.keep) ++kept;
             if (!decision.keep) remove.push_back(decision.snapshot.id);
             decisions.push_back({{"id", decision.snapshot.id.Hex()},
                                  {"time", FormatTimeRfc3339(decision.snapshot.snapshot.time_ns)},
                                  {"keep", decision.keep},
                                  {"reasons", decision.reasons}});
           }
           if (global.json) {
             json_groups.push_back({{"host", group.host},
                                    {"paths", group.paths},
                                    {"tags", group.tags},
                                    {"snapshots", decisions}});
             continue;
           }
           std::string heading;
           if (!group.host.empty()) heading += "host " + group.host;
           if (!group.paths.empty())
             heading += (heading.empty() ? "" : ", ") + ("paths " + Join(group.paths));
           if (!group.tags.empty())
             heading += (heading.empty() ? "" : ", ") + ("tags " + Join(group.tags));
           Say(global, (heading.empty() ? std::string("all snapshots") : heading) + ": keep " +
                           std::to_string(kept) + ", " +
                           (options->dry_run ? "would remove " : "remove ") +
                           std::to_string(group.decisions.size() - kept));
           for (const RetentionDecision& decision : group.decisions)
             Say(global, std::string(decision.keep ? "  keep    " : "  remove  ") +
                             decision.snapshot.id.Short() + "  " +
                             FormatTimeLocal(decision.snapshot.snapshot.time_ns) +
                             (decision.keep ? "  " + Join(decision.reasons) : ""));
         }
         if (global.json)
           PrintJson({{"message_type", "summary"},
                      {"dry_run", options->dry_run},
                      {"groups", json_groups},
                      {"removed", options->dry_run ? 0 : remove.size()}});
         return Finish(global, **repository, *options, remove);
       }});
}

}  // namespace ferry
