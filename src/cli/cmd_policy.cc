// ferry policy set|show|remove: a vault's backup policy, set by the admin and
// stored by the vault (docs/protocol.md, "Policy"). The machines apply it
// with `ferry --agent MAINT.json forget --vault-policy`, which a schedule can
// run after each backup (`ferry schedule set … --apply-vault-policy`).
#include <cstdio>

#include "cli/admin_client.h"
#include "cli/commands.h"
#include "cli/local_time.h"
#include "cli/retention_flags.h"
#include "service/request_body.h"

namespace ferry {

namespace {

struct PolicyFlags {
  AdminFlags admin;
  std::string vault;
  RetentionRules rules;
  bool prune = true;
};

std::string PolicyPath(const std::string& vault) { return "/vault/v1/vaults/" + vault + "/policy"; }

// The vault's answer {"vault", "policy": {...} | null} for people.
void PrintPolicy(const GlobalOptions& global, const nlohmann::json& answer) {
  if (global.json) {
    PrintJson(answer);
    return;
  }
  std::string vault = answer.value("vault", "");
  const nlohmann::json& policy = answer["policy"];
  if (policy.is_null()) {
    Say(global, "vault " + vault + " has no backup policy");
    return;
  }
  // Read back through the vault's own parser, so that what is shown is what
  // the machines will apply.
  auto parsed = ParseVaultPolicy(policy.dump());
  if (!parsed.ok()) {
    Warn(global, "the vault's policy cannot be read: " + parsed.status().message());
    return;
  }
  std::printf("vault %s: keep %s\n", vault.c_str(), DescribeRetentionRules(parsed->rules).c_str());
  std::printf("  then prune: %s\n", parsed->prune ? "yes" : "no");
  std::printf("  set: %s\n", LocalTime(policy.value("updated", nlohmann::json())).c_str());
}

}  // namespace

void AddPolicyCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  CLI::App* policy =
      app.add_subcommand("policy", "A vault's backup policy, which its machines apply");
  policy->require_subcommand(1);

  auto set_flags = std::make_shared<PolicyFlags>();
  CLI::App* set = policy->add_subcommand(
      "set", "Set (or replace) the vault's policy: which snapshots its machines keep");
  set->add_option("vault", set_flags->vault, "Vault name")->required();
  AddRetentionOptions(*set, set_flags->rules);
  set->add_flag("--prune,!--no-prune", set_flags->prune,
                "Whether the machines prune after forgetting (default: prune)");
  AddAdminFlags(*set, set_flags->admin);
  commands.push_back(
      {set, [&global, set_flags]() -> int {
         // The vault checks again; checking here names the flag, not the field.
         auto checked = CompileRetentionRules(set_flags->rules, RuleNames::kFlags);
         if (!checked.ok()) return ReportError(global, checked.status());
         if (checked->empty()) {
           ReportError(global, Status::InvalidArgument("the policy keeps nothing: say what to keep "
                                                       "(--keep-last N, --keep-daily N, …)"));
           return kExitUsage;
         }
         VaultPolicy body{set_flags->rules, set_flags->prune};
         auto answer = AdminRequest(set_flags->admin, "PUT", PolicyPath(set_flags->vault),
                                    nlohmann::json::parse(EncodeVaultPolicy(body)));
         if (!answer.ok()) return ReportError(global, answer.status());
         PrintPolicy(global, *answer);
         return kExitOk;
       }});

  auto show_flags = std::make_shared<PolicyFlags>();
  CLI::App* show = policy->add_subcommand("show", "Show the vault's policy");
  show->add_option("vault", show_flags->vault, "Vault name")->required();
  AddAdminFlags(*show, show_flags->admin);
  commands.push_back({show, [&global, show_flags]() -> int {
                        auto answer =
                            AdminRequest(show_flags->admin, "GET", PolicyPath(show_flags->vault));
                        if (!answer.ok()) return ReportError(global, answer.status());
                        PrintPolicy(global, *answer);
                        return kExitOk;
                      }});

  auto remove_flags = std::make_shared<PolicyFlags>();
  CLI::App* remove = policy->add_subcommand(
      "remove", "Remove the vault's policy: its machines keep every snapshot again");
  remove->add_option("vault", remove_flags->vault, "Vault name")->required();
  AddAdminFlags(*remove, remove_flags->admin);
  commands.push_back({remove, [&global, remove_flags]() -> int {
                        auto answer = AdminRequest(remove_flags->admin, "DELETE",
                                                   PolicyPath(remove_flags->vault));
                        if (!answer.ok()) return ReportError(global, answer.status());
                        if (global.json)
                          PrintJson(*answer);
                        else
                          Say(global, "removed the backup policy of vault " + remove_flags->vault);
                        return kExitOk;
                      }});
}

}  // namespace ferry
