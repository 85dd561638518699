// ferry snapshots: list the snapshots in the repository, optionally only some
// (--host/--tag/--path, --latest N per host and paths) and grouped
// (--group-by host,paths,tags), as restic's `snapshots` does.
#include <cstdio>

#include "cli/commands.h"
#include "cli/seed_client.h"
#include "cli/snapshot_filter_flags.h"
#include "util/clock.h"

namespace ferry {

namespace {

struct SnapshotsFlags {
  SnapshotFilter filter;
  size_t latest = 0;
  std::string group_by;
  bool compact = false;
};

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

int RunSnapshots(const GlobalOptions& global, const SnapshotsFlags& flags) {
  GroupBy group_by{false, false, false};
  if (!flags.group_by.empty()) {
    auto parsed = ParseGroupBy(flags.group_by);
    if (!parsed.ok()) {
      ReportError(global, parsed.status());
      return kExitUsage;
    }
    group_by = *parsed;
  }
  bool grouped = !flags.group_by.empty();
  // Listing snapshots needs no index.
  auto repository = OpenRepository(global, /*load_index=*/false);
  if (!repository.ok()) return ReportError(global, repository.status());
  auto all = (*repository)->ListSnapshots();
  if (!all.ok()) return ReportError(global, all.status());
  // A snapshot that cannot be read is left out of the list, which is
  // then partial: exit 3, so that scripts notice.
  size_t damaged = WarnDamaged(global, **repository, ObjectKind::kSnapshot,
                               /*json_to_stderr=*/true);
  int exit_code = damaged ? kExitIncomplete : kExitOk;
  std::vector<SnapshotEntry> snapshots = FilterSnapshots(*all, flags.filter);
  if (flags.latest > 0) snapshots = LatestSnapshots(snapshots, flags.latest);
  std::vector<SnapshotGroup> groups = GroupSnapshots(snapshots, group_by);

  std::vector<std::pair<std::string, int64_t>> awaited;
  if (!global.agent_file.empty()) {
    auto agent = LoadAgentCredentials(global.agent_file);
    if (agent.ok()) awaited = AwaitedSeeds(*agent);
  }
  // The seed whose packs a snapshot may still need from the disks in transit.
  auto awaiting = [&](const Snapshot& s) -> std::string {
    for (const auto& [job, since] : awaited)
      if (s.time_ns >= since) return job;
    return "";
  };
  if (global.json) {
    auto list_json = [&](const std::vector<SnapshotEntry>& entries) {
      nlohmann::json list = nlohmann::json::array();
      for (const SnapshotEntry& entry : entries) {
        const Snapshot& s = entry.snapshot;
        nlohmann::json j = {{"id", entry.id.Hex()},
                            {"short_id", entry.id.Short()},
                            {"time", FormatTimeRfc3339(s.time_ns)},
                            {"hostname", s.hostname},
                            {"username", s.username},
                            {"paths", s.paths},
                            {"tags", s.tags},
                            {"tree", s.tree.Hex()},
                            {"incomplete", s.incomplete},
                            {"bytes_total", s.summary.bytes_total}};
        j["parent"] = s.parent ? nlohmann::json(s.parent->Hex()) : nlohmann::json(nullptr);
        std::string seed = awaiting(s);
        j["awaiting_seed"] = seed.empty() ? nlohmann::json(nullptr) : nlohmann::json(seed);
        list.push_back(std::move(j));
      }
      return list;
    };
    if (!grouped) {
      PrintJson(list_json(snapshots));
      return exit_code;
    }
    nlohmann::json out = nlohmann::json::array();
    for (const SnapshotGroup& group : groups) {
      nlohmann::json key = nlohmann::json::object();
      key["hostname"] = group_by.host ? nlohmann::json(group.host) : nlohmann::json("");
      key["paths"] = group_by.paths ? nlohmann::json(group.paths) : nlohmann::json(nullptr);
      key["tags"] = group_by.tags ? nlohmann::json(group.tags) : nlohmann::json(nullptr);
      out.push_back({{"group_key", key}, {"snapshots", list_json(group.entries)}});
    }
    PrintJson(out);
    return exit_code;
  }
  if (global.quiet) return exit_code;
  for (size_t g = 0; g < groups.size(); ++g) {
    const SnapshotGroup& group = groups[g];
    if (grouped) {
      std::vector<std::string> heading;
      if (group_by.host) heading.push_back("host [" + group.host + "]");
      if (group_by.paths) heading.push_back("paths [" + Join(group.paths, ", ") + "]");
      if (group_by.tags) heading.push_back("tags [" + Join(group.tags, ", ") + "]");
      std::printf("%ssnapshots for (%s):\n", g ? "\n" : "", Join(heading, ", ").c_str());
    }
    if (flags.compact) {
      std::printf("%-8s  %-19s  %-16s  %s\n", "ID", "Time", "Host", "Tags");
      std::printf("%s\n", std::string(60, '-').c_str());
    } else {
      std::printf("%-8s  %-19s  %-16s  %-12s  %10s  %s\n", "ID", "Time", "Host", "Tags", "Size",
                  "Paths");
      std::printf("%s\n", std::string(90, '-').c_str());
    }
    for (const SnapshotEntry& entry : group.entries) {
      const Snapshot& s = entry.snapshot;
      if (flags.compact) {
        std::printf("%-8s  %-19s  %-16s  %s\n", entry.id.Short().c_str(),
                    FormatTimeLocal(s.time_ns).c_str(), s.hostname.c_str(),
                    Join(s.tags, ",").c_str());
        continue;
      }
      std::string paths = Join(s.paths, ", ");
      if (s.incomplete) paths += "  (incomplete)";
      if (std::string seed = awaiting(s); !seed.empty()) paths += "  (awaiting seed " + seed + ")";
      std::printf("%-8s  %-19s  %-16s  %-12s  %10s  %s\n", entry.id.Short().c_str(),
                  FormatTimeLocal(s.time_ns).c_str(), s.hostname.c_str(), Join(s.tags, ",").c_str(),
                  HumanBytes(s.summary.bytes_total).c_str(), paths.c_str());
    }
  }
  if (groups.empty() && !grouped) {
    std::printf("%-8s  %-19s  %-16s  %-12s  %10s  %s\n", "ID", "Time", "Host", "Tags", "Size",
                "Paths");
    std::printf("%s\n", std::string(90, '-').c_str());
  }
  std::printf("%zu snapshot%s", snapshots.size(), snapshots.size() == 1 ? "" : "s");
  if (snapshots.size() != all->size()) std::printf(" of %zu", all->size());
  if (damaged) std::printf(" (%zu more could not be read, see the warnings)", damaged);
  std::printf("\n");
  return exit_code;
}

}  // namespace

void AddSnapshotsCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto flags = std::make_shared<SnapshotsFlags>();
  CLI::App* command = app.add_subcommand("snapshots", "List snapshots");
  AddSnapshotFilterOptions(*command, flags->filter);
  command->add_option("--latest", flags->latest,
                      "Only the N newest snapshots of each host and set of paths");
  command->add_option("--group-by", flags->group_by,
                      "Group the list by host, paths, tags or a combination ('host,paths')");
  command->add_flag("-c,--compact", flags->compact, "Only ID, time, host and tags");
  commands.push_back({command, [&global, flags]() -> int { return RunSnapshots(global, *flags); }});
}

}  // namespace ferry
