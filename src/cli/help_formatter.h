// How ferry prints --help and command-line mistakes.
//
// Global options (--repo, --agent, --json, --password-file, ...) belong to
// the root command but are accepted after any verb (fallthrough), so every
// subcommand's help lists them too, under "Global options". An option nobody
// knows is named, with the closest known one as a suggestion, before any
// other complaint (CLI11 would otherwise report a required option that the
// typo was meant to be).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace ferry {

// Lists the root command's options in every subcommand's help. Install on the
// root app before subcommands are added (they inherit the formatter).
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override;
};

// The message for a failed parse, to print on stderr: for an unknown option
// "unknown option --taget for 'ferry restore' (did you mean --target?)",
// else CLI11's own message. `root` is the app that was parsed.
std::string ParseErrorMessage(const CLI::App& root, const CLI::ParseError& error);

}  // namespace ferry
