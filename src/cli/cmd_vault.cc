// ferry vault create|show: manage vaults on a vault server (admin token).
#include <cstdio>

#include "cli/admin_client.h"
#include "cli/commands.h"
#include "cli/local_time.h"
#include "util/plural.h"

namespace ferry {

void AddVaultCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  CLI::App* vault = app.add_subcommand("vault", "Manage vaults on a vault server");
  vault->require_subcommand(1);

  struct Flags {
    AdminFlags admin;
    std::string name;
  };
  auto create_flags = std::make_shared<Flags>();
  CLI::App* create = vault->add_subcommand("create", "Create a vault");
  create->add_option("name", create_flags->name, "Vault name")->required();
  AddAdminFlags(*create, create_flags->admin);
  commands.push_back({create, [&global, create_flags]() -> int {
                        auto answer = AdminRequest(create_flags->admin, "POST", "/vault/v1/vaults",
                                                   {{"name", create_flags->name}});
                        if (!answer.ok()) return ReportError(global, answer.status());
                        if (global.json)
                          PrintJson(*answer);
                        else
                          Say(global, "created vault " + create_flags->name + " on " +
                                          create_flags->admin.server);
                        return kExitOk;
                      }});

  auto show_flags = std::make_shared<Flags>();
  CLI::App* show =
      vault->add_subcommand("show", "Show a vault's machines, recovery points and prunes");
  show->add_option("name", show_flags->name, "Vault name")->required();
  AddAdminFlags(*show, show_flags->admin);
  commands.push_back(
      {show, [&global, show_flags]() -> int {
         auto answer =
             AdminRequest(show_flags->admin, "GET", "/vault/v1/vaults/" + show_flags->name);
         if (!answer.ok()) return ReportError(global, answer.status());
         if (global.json) {
           PrintJson(*answer);
           return kExitOk;
         }
         std::printf("vault %s (created %s)\n", show_flags->name.c_str(),
                     LocalTime(answer->value("created", nlohmann::json())).c_str());
         std::printf("%-24s %16s %-19s %12s  %s\n", "Machine", "Recovery points", "Last backup",
                     "Stored", "Last prune");
         for (const auto& machine : (*answer)["machines"]) {
           std::string last = LocalTime(machine.value("last_backup", nlohmann::json()), "never");
           // Older vaults send no last_prune: shown as never.
           std::string prune = "never";
           if (machine.contains("last_prune") && machine["last_prune"].is_object()) {
             const auto& record = machine["last_prune"];
             prune = LocalTime(record.value("time", nlohmann::json())) + ", freed " +
                     HumanBytes(record.value("bytes_freed", 0ull)) + " (" +
                     Plural(record.value("packs_removed", 0ull), "pack", "packs") + " removed)";
           }
           std::printf("%-24s %16llu %-19s %12s  %s\n", machine.value("name", "").c_str(),
                       static_cast<unsigned long long>(machine.value("recovery_points", 0ull)),
                       last.c_str(), HumanBytes(machine.value("stored_bytes", 0ull)).c_str(),
                       prune.c_str());
         }
         if (answer->contains("policy") && (*answer)["policy"].is_object())
           std::printf("backup policy: set %s (ferry policy show %s)\n",
                       LocalTime((*answer)["policy"].value("updated", nlohmann::json())).c_str(),
                       show_flags->name.c_str());
         return kExitOk;
       }});
}

}  // namespace ferry
