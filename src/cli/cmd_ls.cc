// ferry ls: list the files of a snapshot, below an optional path.
#include <sys/stat.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/node_format.h"
#include "cli/snapshot_filter_flags.h"
#include "engine/archiver.h"
#include "repo/tree_walker.h"
#include "util/clock.h"

namespace ferry {

namespace {

struct LsFlags {
  std::string snapshot;
  SnapshotFilter filter;  // what "latest" considers
  std::string path;
  bool long_format = false;
};

// Lists what is at or below `below` ("" for everything). Returns how many
// directories could not be listed (each named in a warning).
Result<size_t> List(Repository& repository, const Id& root, const std::string& below,
                    const GlobalOptions& global, const LsFlags& flags) {
  size_t unreadable = 0;
  TreeWalkCallbacks callbacks;
  callbacks.node = [&](const std::string& path, const Node& node) {
    bool inside = below.empty() || below == "/" || path == below || path.rfind(below + "/", 0) == 0;
    bool above = !inside && below.rfind(path + "/", 0) == 0;
    if (!inside) return above;
    if (global.json) {
      nlohmann::json j = {{"path", path},
                          {"type", NodeTypeName(node.type)},
                          {"mode", node.mode},
                          {"uid", node.uid},
                          {"gid", node.gid},
                          {"size", node.size},
                          {"mtime", FormatTimeRfc3339(node.mtime_ns)}};
      if (node.type == NodeType::kSymlink) j["target"] = node.link_target;
      PrintJson(j);
    } else if (flags.long_format) {
      std::printf("%s\n", LongListing(path, node).c_str());
    } else {
      std::printf("%s\n", path.c_str());
    }
    return true;
  };
  callbacks.tree_error = [&](const std::string& path, const Id&, const Status& status) {
    ++unreadable;
    std::fflush(stdout);  // keep the warning next to the listing it interrupts
    Warn(global, (path.empty() ? "/" : path) + ": not listed: " + status.message());
  };
  RETURN_IF_ERROR(WalkTrees(repository, root, callbacks, &InterruptFlag()));
  return unreadable;
}

}  // namespace

void AddLsCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto flags = std::make_shared<LsFlags>();
  CLI::App* command = app.add_subcommand("ls", "List the files in a snapshot");
  command->add_option("snapshot", flags->snapshot, "Snapshot ID prefix or 'latest'")->required();
  AddSnapshotFilterOptions(*command, flags->filter);
  command->add_option("path", flags->path, "Only list this path and what is below it");
  command->add_flag("-l,--long", flags->long_format, "Show mode, owner, size and time");
  commands.push_back(
      {command, [&global, flags]() -> int {
         auto repository = OpenRepository(global);
         if (!repository.ok()) return ReportError(global, repository.status());
         auto entry = SelectSnapshot(global, **repository, flags->snapshot, flags->filter);
         if (!entry.ok()) return ReportError(global, entry.status());
         std::string below = flags->path.empty() ? "" : AbsolutePath(flags->path);
         auto unreadable = List(**repository, entry->snapshot.tree, below, global, *flags);
         if (!unreadable.ok()) return ReportError(global, unreadable.status());
         if (*unreadable == 0) return kExitOk;
         ReportError(global, Status::Corruption(
                                 "the listing is incomplete: " + std::to_string(*unreadable) +
                                 " director(ies) could not be read (named above)"));
         return kExitIncomplete;
       }});
}

}  // namespace ferry
