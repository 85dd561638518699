// ferry machine register: register a protected machine in a vault and write
// its agent credentials file.
#include <unistd.h>

#include "cli/admin_client.h"
#include "cli/agent_credentials.h"
#include "cli/commands.h"

namespace ferry {

void AddMachineCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  CLI::App* machine = app.add_subcommand("machine", "Register machines in a vault");
  machine->require_subcommand(1);

  struct Flags {
    AdminFlags admin;
    std::string vault;
    std::string name;
    std::string out = "agent.json";
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* reg =
      machine->add_subcommand("register", "Register a machine; writes its credentials file");
  reg->add_option("--vault", flags->vault, "Vault to register in")->required();
  reg->add_option("--name", flags->name, "Machine name")->required();
  reg->add_option("--out", flags->out, "Where to write the agent credentials (mode 0600)");
  AddAdminFlags(*reg, flags->admin);
  commands.push_back(
      {reg, [&global, flags]() -> int {
         if (::access(flags->out.c_str(), F_OK) == 0)
           return ReportError(
               global,
               Status::AlreadyExists(flags->out + " exists; refusing to overwrite credentials"));
         auto answer =
             AdminRequest(flags->admin, "POST", "/vault/v1/vaults/" + flags->vault + "/machines",
                          {{"name", flags->name}});
         if (!answer.ok()) return ReportError(global, answer.status());
         AgentCredentials credentials{flags->admin.server, flags->vault, flags->name,
                                      answer->value("token", ""), flags->admin.ca_file};
         Status status = SaveAgentCredentials(flags->out, credentials);
         if (!status.ok()) return ReportError(global, status);
         if (global.json)
           PrintJson({{"message_type", "registered"},
                      {"vault", flags->vault},
                      {"machine", flags->name},
                      {"credentials", flags->out}});
         else
           Say(global, "registered machine " + flags->name + " in vault " + flags->vault +
                           "; credentials written to " + flags->out + " (keep them private)");
         return kExitOk;
       }});

  auto maintenance = std::make_shared<Flags>();
  maintenance->out = "";
  CLI::App* token = machine->add_subcommand(
      "maintenance-token", "Issue a token that may delete the machine's data (for prune)");
  token->add_option("--vault", maintenance->vault, "Vault")->required();
  token->add_option("--name", maintenance->name, "Machine name")->required();
  token->add_option("--out", maintenance->out, "Write agent credentials with this token here")
      ->required();
  AddAdminFlags(*token, maintenance->admin);
  commands.push_back({token, [&global, maintenance]() -> int {
                        auto answer =
                            AdminRequest(maintenance->admin, "POST",
                                         "/vault/v1/vaults/" + maintenance->vault + "/machines/" +
                                             maintenance->name + "/maintenance-token");
                        if (!answer.ok()) return ReportError(global, answer.status());
                        AgentCredentials credentials{maintenance->admin.server, maintenance->vault,
                                                     maintenance->name, answer->value("token", ""),
                                                     maintenance->admin.ca_file};
                        Status status = SaveAgentCredentials(maintenance->out, credentials);
                        if (!status.ok()) return ReportError(global, status);
                        Say(global, "maintenance credentials for " + maintenance->name +
                                        " written to " + maintenance->out);
                        return kExitOk;
                      }});
}

}  // namespace ferry
