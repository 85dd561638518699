// ferry ls: list the files of a snapshot, below an optional path.
#include <sys/stat.h>

#include <cstdio>

#include "cli/commands.h"
#include "engine/archiver.h"
#include "util/clock.h"

namespace ferry {

namespace {

std::string ModeString(const Node& node) {
  char type = '-';
  switch (node.type) {
    case NodeType::kDirectory:
      type = 'd';
      break;
    case NodeType::kSymlink:
      type = 'l';
      break;
    case NodeType::kFifo:
      type = 'p';
      break;
    case NodeType::kCharDevice:
      type = 'c';
      break;
    case NodeType::kBlockDevice:
      type = 'b';
      break;
    case NodeType::kSocket:
      type = 's';
      break;
    default:
      break;
  }
  std::string out(1, type);
  const char* letters = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) out += (node.mode & (0400 >> i)) ? letters[i] : '-';
  if (node.mode & S_ISUID) out[3] = (node.mode & 0100) ? 's' : 'S';
  if (node.mode & S_ISGID) out[6] = (node.mode & 0010) ? 's' : 'S';
  if (node.mode & S_ISVTX) out[9] = (node.mode & 0001) ? 't' : 'T';
  return out;
}

struct LsFlags {
  std::string snapshot;
  std::string path;
  bool long_format = false;
};

Status List(Repository& repository, const Id& tree_id, const std::string& prefix,
            const std::string& below, const GlobalOptions& global, const LsFlags& flags) {
  ASSIGN_OR_RETURN(Tree tree, repository.LoadTree(tree_id));
  for (const Node& node : tree.nodes) {
    std::string path = prefix + "/" + node.name;
    bool inside = below.empty() || below == "/" || path == below || path.rfind(below + "/", 0) == 0;
    bool above = !inside && below.rfind(path + "/", 0) == 0;
    if (!inside && !above) continue;
    if (inside) {
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
        std::printf("%s %8s %8s %12llu %s %s%s\n", ModeString(node).c_str(),
                    node.user.empty() ? std::to_string(node.uid).c_str() : node.user.c_str(),
                    node.group.empty() ? std::to_string(node.gid).c_str() : node.group.c_str(),
                    static_cast<unsigned long long>(node.size),
                    FormatTimeLocal(node.mtime_ns).c_str(), path.c_str(),
                    node.type == NodeType::kSymlink ? (" -> " + node.link_target).c_str() : "");
      } else {
        std::printf("%s\n", path.c_str());
      }
    }
    if (node.type == NodeType::kDirectory)
      RETURN_IF_ERROR(List(repository, node.subtree, path, below, global, flags));
  }
  return Status::Ok();
}

}  // namespace

void AddLsCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto flags = std::make_shared<LsFlags>();
  CLI::App* command = app.add_subcommand("ls", "List the files in a snapshot");
  command->add_option("snapshot", flags->snapshot, "Snapshot ID prefix or 'latest'")->required();
  command->add_option("path", flags->path, "Only list this path and what is below it");
  command->add_flag("-l,--long", flags->long_format, "Show mode, owner, size and time");
  commands.push_back({command, [&global, flags]() -> int {
                        auto repository = OpenRepository(global);
                        if (!repository.ok()) return ReportError(global, repository.status());
                        auto entry = (*repository)->FindSnapshot(flags->snapshot);
                        WarnDamaged(global, **repository, ObjectKind::kSnapshot);
                        if (!entry.ok()) return ReportError(global, entry.status());
                        std::string below = flags->path.empty() ? "" : AbsolutePath(flags->path);
                        Status status =
                            List(**repository, entry->snapshot.tree, "", below, global, *flags);
                        if (!status.ok()) return ReportError(global, status);
                        return kExitOk;
                      }});
}

}  // namespace ferry
