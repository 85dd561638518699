// ferry find: which snapshots hold paths matching a pattern (restic's
// pattern rules, engine/path_pattern.h), newest snapshots last.
#include <algorithm>
#include <cstdio>

#include "cli/commands.h"
#include "cli/node_format.h"
#include "cli/snapshot_filter_flags.h"
#include "engine/path_pattern.h"
#include "repo/tree_walker.h"
#include "util/clock.h"

namespace ferry {

namespace {

struct FindFlags {
  std::vector<std::string> patterns;
  std::vector<std::string> snapshots;
  SnapshotFilter filter;
  size_t newest = 0;
  bool ignore_case = false;
  bool long_format = false;
};

int RunFind(const GlobalOptions& global, const FindFlags& flags) {
  std::vector<PathPattern> patterns;
  for (const std::string& text : flags.patterns) patterns.emplace_back(text, flags.ignore_case);
  auto repository = OpenRepository(global);
  if (!repository.ok()) return ReportError(global, repository.status());
  auto snapshots = SelectSnapshots(global, **repository, flags.snapshots, flags.filter);
  if (!snapshots.ok()) return ReportError(global, snapshots.status());
  std::stable_sort(snapshots->begin(), snapshots->end(),
                   [](const SnapshotEntry& a, const SnapshotEntry& b) {
                     return a.snapshot.time_ns < b.snapshot.time_ns;
                   });
  if (flags.newest > 0 && snapshots->size() > flags.newest)
    snapshots->erase(snapshots->begin(), snapshots->end() - static_cast<ptrdiff_t>(flags.newest));

  size_t unreadable = 0;
  uint64_t total_hits = 0;
  nlohmann::json results = nlohmann::json::array();
  for (const SnapshotEntry& entry : *snapshots) {
    nlohmann::json matches = nlohmann::json::array();
    uint64_t hits = 0;
    TreeWalkCallbacks callbacks;
    callbacks.node = [&](const std::string& path, const Node& node) {
      bool match = false, may_match_below = false;
      for (const PathPattern& pattern : patterns) {
        match = match || pattern.Matches(path);
        may_match_below = may_match_below || pattern.ChildMayMatch(path);
      }
      if (match) {
        if (hits++ == 0 && !global.json)
          std::printf("Found matching entries in snapshot %s from %s\n", entry.id.Short().c_str(),
                      FormatTimeLocal(entry.snapshot.time_ns).c_str());
        if (global.json)
          matches.push_back(NodeJson(path, node));
        else if (flags.long_format)
          std::printf("%s\n", LongListing(path, node).c_str());
        else
          std::printf("%s\n", path.c_str());
      }
      return match || may_match_below;
    };
    callbacks.tree_error = [&](const std::string& path, const Id&, const Status& status) {
      ++unreadable;
      std::fflush(stdout);
      Warn(global, "snapshot " + entry.id.Short() + ": " + (path.empty() ? "/" : path) +
                       ": not searched: " + status.message());
    };
    Status walked = WalkTrees(**repository, entry.snapshot.tree, callbacks, &InterruptFlag());
    if (!walked.ok()) return ReportError(global, walked);
    total_hits += hits;
    if (hits && global.json)
      results.push_back({{"snapshot", entry.id.Hex()}, {"hits", hits}, {"matches", matches}});
  }
  if (global.json) PrintJson(results);
  if (total_hits == 0 && !global.json && !global.quiet)
    std::fprintf(stderr, "no matches in %zu snapshot(s)\n", snapshots->size());
  if (unreadable == 0) return kExitOk;
  ReportError(global, Status::Corruption("the search is incomplete: " + std::to_string(unreadable) +
                                         " director(ies) could not be read (named above)"));
  return kExitIncomplete;
}

}  // namespace

void AddFindCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto flags = std::make_shared<FindFlags>();
  CLI::App* command = app.add_subcommand(
      "find", "Find files and directories whose path matches a pattern, in every snapshot");
  command
      ->add_option("pattern", flags->patterns,
                   "Glob per path component ('*.conf', '/etc/**/*.conf', 'etc/ssh'); several "
                   "patterns: any of them")
      ->required();
  command
      ->add_option("-s,--snapshot", flags->snapshots,
                   "Only search this snapshot (ID prefix or 'latest'; repeatable)")
      ->allow_extra_args(false);
  command->add_option("--newest", flags->newest, "Only search the N newest of those snapshots");
  AddSnapshotFilterOptions(*command, flags->filter);
  command->add_flag("-i,--ignore-case", flags->ignore_case, "Ignore case in patterns and paths");
  command->add_flag("-l,--long", flags->long_format, "Show mode, owner, size and time");
  commands.push_back({command, [&global, flags]() -> int { return RunFind(global, *flags); }});
}

}  // namespace ferry
