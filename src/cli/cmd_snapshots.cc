// ferry snapshots: list the snapshots in the repository.
#include <cstdio>

#include "cli/commands.h"
#include "cli/seed_client.h"
#include "util/clock.h"

namespace ferry {

namespace {
std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}
}  // namespace

void AddSnapshotsCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  CLI::App* command = app.add_subcommand("snapshots", "List snapshots");
  commands.push_back(
      {command, [&global]() -> int {
         // Listing snapshots needs no index.
         auto repository = OpenRepository(global, /*load_index=*/false);
         if (!repository.ok()) return ReportError(global, repository.status());
         auto snapshots = (*repository)->ListSnapshots();
         if (!snapshots.ok()) return ReportError(global, snapshots.status());
         // A snapshot that cannot be read is left out of the list, which is
         // then partial: exit 3, so that scripts notice.
         size_t damaged = WarnDamaged(global, **repository, ObjectKind::kSnapshot,
                                      /*json_to_stderr=*/true);
         int exit_code = damaged ? kExitIncomplete : kExitOk;
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
           nlohmann::json list = nlohmann::json::array();
           for (const SnapshotEntry& entry : *snapshots) {
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
           PrintJson(list);
           return exit_code;
         }
         if (global.quiet) return exit_code;
         std::printf("%-8s  %-19s  %-16s  %-12s  %10s  %s\n", "ID", "Time", "Host", "Tags", "Size",
                     "Paths");
         std::printf("%s\n", std::string(90, '-').c_str());
         for (const SnapshotEntry& entry : *snapshots) {
           const Snapshot& s = entry.snapshot;
           std::string paths = Join(s.paths, ", ");
           if (s.incomplete) paths += "  (incomplete)";
           if (std::string seed = awaiting(s); !seed.empty())
             paths += "  (awaiting seed " + seed + ")";
           std::printf("%-8s  %-19s  %-16s  %-12s  %10s  %s\n", entry.id.Short().c_str(),
                       FormatTimeLocal(s.time_ns).c_str(), s.hostname.c_str(),
                       Join(s.tags, ",").c_str(), HumanBytes(s.summary.bytes_total).c_str(),
                       paths.c_str());
         }
         std::printf("%zu snapshot%s", snapshots->size(), snapshots->size() == 1 ? "" : "s");
         if (damaged) std::printf(" (%zu more could not be read, see the warnings)", damaged);
         std::printf("\n");
         return exit_code;
       }});
}

}  // namespace ferry
