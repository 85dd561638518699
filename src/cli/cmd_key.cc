// ferry key add|list|remove: manage the passwords that open the repository.
#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "util/clock.h"

namespace ferry {

void AddKeyCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  CLI::App* key = app.add_subcommand("key", "Manage the repository's passwords");
  key->require_subcommand(1);

  auto new_password_file = std::make_shared<std::string>();
  CLI::App* add = key->add_subcommand("add", "Add a password");
  add->add_option("--new-password-file", *new_password_file,
                  "File whose first line is the new password (default: ask)");
  commands.push_back(
      {add, [&global, new_password_file]() -> int {
         auto repository = OpenRepository(global);
         if (!repository.ok()) return ReportError(global, repository.status());
         GlobalOptions source;
         source.password_file = *new_password_file;
         Result<std::string> password = Status::Internal("unset");
         if (new_password_file->empty()) {
           // Not FERRY_PASSWORD: that is the password the repository was opened with.
           if (!isatty(0))
             return ReportError(
                 global, Status::InvalidArgument("give the new password with --new-password-file"));
           password = ReadPassword(source, true, "New password: ");
         } else {
           password = ReadPassword(source, false);
         }
         if (!password.ok()) return ReportError(global, password.status());
         auto id = (*repository)->AddKey(*password);
         if (!id.ok()) return ReportError(global, id.status());
         if (global.json)
           PrintJson({{"message_type", "key_added"}, {"id", id->Hex()}});
         else
           Say(global, "added key " + id->Short());
         return kExitOk;
       }});

  CLI::App* list = key->add_subcommand("list", "List the keys");
  commands.push_back({list, [&global]() -> int {
                        auto repository = OpenRepository(global);
                        if (!repository.ok()) return ReportError(global, repository.status());
                        auto keys = (*repository)->ListKeys();
                        if (!keys.ok()) return ReportError(global, keys.status());
                        if (global.json) {
                          nlohmann::json out = nlohmann::json::array();
                          for (const KeyInfo& k : *keys) {
                            if (!k.problem.ok()) {
                              out.push_back({{"id", k.id.Hex()},
                                             {"current", false},
                                             {"damaged", true},
                                             {"problem", k.problem.message()}});
                              continue;
                            }
                            out.push_back({{"id", k.id.Hex()},
                                           {"current", k.current},
                                           {"damaged", false},
                                           {"version", k.key_file.version},
                                           {"username", k.key_file.username},
                                           {"hostname", k.key_file.hostname},
                                           {"created", FormatTimeRfc3339(k.key_file.created_ns)}});
                          }
                          PrintJson(out);
                          return kExitOk;
                        }
                        std::printf(" %-8s  %-12s  %-16s  %s\n", "ID", "User", "Host", "Created");
                        for (const KeyInfo& k : *keys) {
                          // A damaged key file has no trustworthy fields: only its
                          // name, and why it cannot be used (it names the file in full).
                          if (!k.problem.ok()) {
                            std::printf(" %-8s  %s\n", k.id.Short().c_str(),
                                        ("DAMAGED: " + k.problem.message()).c_str());
                            continue;
                          }
                          std::printf("%s%-8s  %-12s  %-16s  %s\n", k.current ? "*" : " ",
                                      k.id.Short().c_str(), k.key_file.username.c_str(),
                                      k.key_file.hostname.c_str(),
                                      FormatTimeLocal(k.key_file.created_ns).c_str());
                        }
                        return kExitOk;
                      }});

  auto remove_id = std::make_shared<std::string>();
  CLI::App* remove = key->add_subcommand(
      "remove", "Remove a key (damaged ones too; not the one in use, nor the last intact one)");
  remove->add_option("id", *remove_id, "Key ID or unique prefix")->required();
  commands.push_back({remove, [&global, remove_id]() -> int {
                        auto repository = OpenRepository(global);
                        if (!repository.ok()) return ReportError(global, repository.status());
                        // Deleting takes the exclusive lock (docs/cli.md, "ferry unlock"):
                        // two removals side by side could each leave the other's key the
                        // last one and then remove it.
                        auto lock = LockRepository(global, **repository, /*exclusive=*/true);
                        if (!lock.ok()) return ReportError(global, lock.status());
                        Status status = (*repository)->RemoveKey(*remove_id);
                        if (!status.ok()) return ReportError(global, status);
                        Say(global, "removed key " + *remove_id);
                        return kExitOk;
                      }});
}

}  // namespace ferry
