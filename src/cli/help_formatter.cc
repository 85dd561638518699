#include "cli/help_formatter.h"

#include <sstream>

#include "util/closest_name.h"

namespace ferry {

namespace {

const CLI::App* Root(const CLI::App* app) {
  while (app->get_parent() != nullptr) app = app->get_parent();
  return app;
}

// The root's options as a subcommand accepts them: all but --help and --version.
std::vector<const CLI::Option*> GlobalOptionsOf(const CLI::App* root) {
  return root->get_options([root](const CLI::Option* option) {
    return option->nonpositional() && option != root->get_help_ptr() &&
           option != root->get_help_all_ptr() && option != root->get_version_ptr();
  });
}

// The deepest subcommand the command line selected ("ferry job ship" → ship).
const CLI::App* Selected(const CLI::App& root) {
  const CLI::App* app = &root;
  for (;;) {
    std::vector<const CLI::App*> parsed =
        app->get_subcommands([](const CLI::App* sub) { return sub->parsed(); });
    if (parsed.empty()) return app;
    app = parsed.front();
  }
}

std::string CommandName(const CLI::App* app) {
  std::string name;
  for (; app != nullptr; app = app->get_parent())
    name = app->get_name() + (name.empty() ? "" : " " + name);
  return name;
}

// Every long and short name ("--target", "-t") an option of `app` (or, for a
// subcommand, of the root) answers to.
std::vector<std::string> KnownOptionNames(const CLI::App* app) {
  std::vector<std::string> names;
  auto add = [&names](const CLI::Option* option) {
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
    for (const std::string& name : option->get_snames()) names.push_back("-" + name);
  };
  for (const CLI::Option* option :
       app->get_options([](const CLI::Option* option) { return option->nonpositional(); }))
    add(option);
  if (app->get_parent() != nullptr)
    for (const CLI::Option* option : GlobalOptionsOf(Root(app))) add(option);
  return names;
}

}  // namespace

std::string HelpFormatter::make_help(const CLI::App* app, std::string name,
                                     CLI::AppFormatMode mode) const {
  if (mode == CLI::AppFormatMode::Sub || app->get_parent() == nullptr)
    return CLI::Formatter::make_help(app, name, mode);
  std::stringstream out;
  out << make_description(app);
  out << make_usage(app, name);
  out << make_positionals(app);
  out << make_groups(app, mode);
  std::vector<const CLI::Option*> global = GlobalOptionsOf(Root(app));
  if (!global.empty()) out << make_group("Global options", false, global);
  out << make_subcommands(app, mode);
  out << '\n' << make_footer(app);
  return out.str();
}

std::string ParseErrorMessage(const CLI::App& root, const CLI::ParseError& error) {
  const CLI::App* selected = Selected(root);
  // Arguments no option took, wherever they fell through to.
  for (const std::string& argument : root.remaining(/*recurse=*/true)) {
    if (argument.size() < 2 || argument[0] != '-' || argument == "--") continue;
    std::string option = argument.substr(0, argument.find('='));
    std::string message = "unknown option " + option + " for '" + CommandName(selected) + "'";
    if (auto closest = ClosestName(option, KnownOptionNames(selected)))
      message += " (did you mean " + *closest + "?)";
    return message + "; see '" + CommandName(selected) + " --help'";
  }
  return error.what();
}

}  // namespace ferry
