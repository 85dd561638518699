// ferry init: create a new, empty repository with one password.
#include "cli/commands.h"
#include "storage/backend.h"

namespace ferry {

void AddInitCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  CLI::App* command = app.add_subcommand("init", "Create a new repository");
  commands.push_back(
      {command, [&global]() -> int {
         auto backend = OpenBackendFor(global);
         if (!backend.ok()) return ReportError(global, backend.status());
         if ((*backend)->Stat(ObjectName::Config()).ok())
           return ReportError(global, Status::AlreadyExists("a repository already exists at " +
                                                            (*backend)->Location()));
         auto password =
             ReadPassword(global, /*confirm=*/true, "Password for the new repository: ");
         if (!password.ok()) return ReportError(global, password.status());
         std::string location = (*backend)->Location();
         auto repository = Repository::Init(std::move(*backend), *password);
         if (!repository.ok()) return ReportError(global, repository.status());
         // Trust on first use starts here: this machine created it, so this is
         // the repository it expects at this location from now on (a re-init
         // after deleting one replaces the old pin, and says so).
         PinRepository(global, (*repository)->config().id);
         if (global.json) {
           PrintJson({{"message_type", "initialized"},
                      {"id", (*repository)->config().id.Hex()},
                      {"repository", location}});
         } else {
           Say(global,
               "created repository " + (*repository)->config().id.Short() + " at " + location);
           Say(global, "Keep the password safe: without it the data cannot be restored.");
         }
         return kExitOk;
       }});
}

}  // namespace ferry
