// ferry vault create|show: manage vaults on a vault server (admin token).
#include <cstdio>

#include "cli/admin_client.h"
#include "cli/commands.h"

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
  CLI::App* show = vault->add_subcommand("show", "Show a vault's machines and recovery points");
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
                     answer->value("created", "").c_str());
         std::printf("%-24s %16s %-32s %12s\n", "Machine", "Recovery points", "Last backup",
                     "Stored");
         for (const auto& machine : (*answer)["machines"]) {
           std::string last = machine["last_backup"].is_string()
                                  ? machine["last_backup"].get<std::string>()
                                  : "never";
           std::printf("%-24s %16llu %-32s %12s\n", machine.value("name", "").c_str(),
                       static_cast<unsigned long long>(machine.value("recovery_points", 0ull)),
                       last.c_str(), HumanBytes(machine.value("stored_bytes", 0ull)).c_str());
         }
         return kExitOk;
       }});
}

}  // namespace ferry
