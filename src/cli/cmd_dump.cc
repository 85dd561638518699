// ferry dump: one file of a snapshot to stdout, byte for byte, or a
// directory as a tar archive (engine/snapshot_dump.h). stdout is the data, so
// messages and errors go to stderr, also with --json.
#include <unistd.h>

#include "cli/commands.h"
#include "cli/snapshot_filter_flags.h"
#include "engine/archiver.h"
#include "engine/snapshot_dump.h"
#include "repo/tree_lookup.h"

namespace ferry {

namespace {

struct DumpFlags {
  std::string snapshot;
  std::string path;
  SnapshotFilter filter;
};

int RunDump(const GlobalOptions& options, const DumpFlags& flags) {
  GlobalOptions global = options;
  global.json = false;  // stdout carries the data: no JSON lines in it
  auto repository = OpenRepository(global);
  if (!repository.ok()) return ReportError(global, repository.status());
  auto entry = SelectSnapshot(global, **repository, flags.snapshot, flags.filter);
  if (!entry.ok()) return ReportError(global, entry.status());
  std::string path = AbsolutePath(flags.path);
  auto node = LookupPath(**repository, entry->snapshot.tree, path);
  if (!node.ok()) return ReportError(global, node.status());
  Status status;
  if (node->type == NodeType::kFile) {
    node->name = path;
    status = DumpFile(**repository, *node, STDOUT_FILENO, &InterruptFlag());
  } else if (node->type == NodeType::kDirectory) {
    status = DumpTar(**repository, path, *node, STDOUT_FILENO, &InterruptFlag());
  } else {
    status = Status::InvalidArgument(path + " is a " + NodeTypeName(node->type) +
                                     ", not a file or directory: nothing to dump");
    return ReportError(global, status);
  }
  if (!status.ok()) return ReportError(global, status.WithContext("the output is incomplete"));
  return kExitOk;
}

}  // namespace

void AddDumpCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto flags = std::make_shared<DumpFlags>();
  CLI::App* command = app.add_subcommand(
      "dump", "Write a file of a snapshot to stdout, or a directory as a tar archive");
  command->add_option("snapshot", flags->snapshot, "Snapshot ID prefix or 'latest'")->required();
  command->add_option("path", flags->path, "The file or directory in the snapshot ('/' for all)")
      ->required();
  AddSnapshotFilterOptions(*command, flags->filter);
  commands.push_back({command, [&global, flags]() -> int { return RunDump(global, *flags); }});
}

}  // namespace ferry
