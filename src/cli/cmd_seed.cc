// ferry seed status|adopt|cleanup: the machine's offline seeds in its vault
// (docs/seeding.md). Adoption normally happens at the next backup once the
// import job is done; `seed adopt` runs it at once.
#include <dirent.h>
#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/local_time.h"
#include "cli/seed_client.h"
#include "seed/staging.h"
#include "util/file_util.h"
#include "util/plural.h"

namespace ferry {

namespace {

struct SeedFlags {
  std::string job;
};

Result<AgentCredentials> Agent(const GlobalOptions& global) {
  if (global.agent_file.empty())
    return Status::InvalidArgument(
        "seeds live in a vault: give --agent FILE (ferry machine register)");
  return LoadAgentCredentials(global.agent_file);
}

void PrintSeed(const nlohmann::json& seed, const std::string& job_state) {
  uint64_t packs = seed.value("packs", uint64_t{0}),
           present = seed.value("packs_present", uint64_t{0});
  std::printf("seed %s: %s%s (import job: %s)\n", seed.value("job", "").c_str(),
              seed.value("state", "").c_str(), seed.value("complete", false) ? ", complete" : "",
              job_state.c_str());
  std::printf("  to %s/%s, staged in %s\n", seed.value("storage_account", "").c_str(),
              seed.value("container", "").c_str(), seed.value("staging", "").c_str());
  std::printf("  %s (%s); the vault holds %llu (%s)\n", Plural(packs, "pack", "packs").c_str(),
              HumanBytes(seed.value("bytes", uint64_t{0})).c_str(),
              static_cast<unsigned long long>(present),
              HumanBytes(seed.value("bytes_present", uint64_t{0})).c_str());
  if (!seed["adopted"].is_null())
    std::printf("  adopted %s: %s from the container, %zu not there, %zu damaged there\n",
                LocalTime(seed["adopted"]).c_str(),
                Plural(seed.value("packs_from_container", uint64_t{0}), "pack", "packs").c_str(),
                seed["missing"].size(), seed["corrupt"].size());
}

int RunStatus(const GlobalOptions& global, const SeedFlags& flags) {
  auto agent = Agent(global);
  if (!agent.ok()) return ReportError(global, agent.status());
  auto seeds = flags.job.empty() ? AgentRequest(*agent, "GET", "/vault/v1/seeds")
                                 : AgentRequest(*agent, "GET", "/vault/v1/seeds/" + flags.job);
  if (!seeds.ok()) return ReportError(global, seeds.status());
  nlohmann::json list = seeds->is_array() ? *seeds : nlohmann::json::array({*seeds});
  for (auto& seed : list) {
    auto job = AgentRequest(*agent, "GET", "/import/v1/jobs/" + seed.value("job", ""));
    seed["job_state"] = job.ok() ? job->value("state", "") : "not created yet";
    if (global.json)
      PrintJson(seed);
    else if (!global.quiet)
      PrintSeed(seed, seed["job_state"]);
  }
  if (list.empty()) Say(global, "this machine has no offline seeds");
  return kExitOk;
}

int RunAdopt(const GlobalOptions& global, const SeedFlags& flags) {
  auto agent = Agent(global);
  if (!agent.ok()) return ReportError(global, agent.status());
  auto repository = OpenRepository(global);
  if (!repository.ok()) return ReportError(global, repository.status());
  auto outcome = AdoptSeed(global, *agent, **repository, flags.job, global.staging);
  if (!outcome.ok()) return ReportError(global, outcome.status());
  ReportAdoption(global, flags.job, *outcome);
  return outcome->complete ? kExitOk : kExitIncomplete;
}

// Deletes what an offline backup and diskprep put into `dir`, and nothing else.
Status RemoveStaging(const std::string& dir, const std::string& job) {
  auto info = ReadStagingInfo(dir);
  if (!info.ok()) return info.status();
  if (info->job != job)
    return Status::InvalidArgument("staging " + dir + " belongs to job " + info->job + ", not " +
                                   job + "; left alone");
  ASSIGN_OR_RETURN(std::vector<StagedPack> packs, ListStagedPacks(dir));
  for (const StagedPack& pack : packs) {
    std::string hex = pack.id.Hex();
    std::string path = dir + "/data/" + hex.substr(0, 2) + "/" + hex;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("remove " + path, errno);
  }
  for (int i = 0; i < 256; ++i) {
    char sub[8];
    std::snprintf(sub, sizeof sub, "%02x", i);
    ::rmdir((dir + "/data/" + sub).c_str());  // only if empty: foreign files stay
  }
  ::rmdir((dir + "/data").c_str());
  ::unlink((dir + "/diskprep.journal").c_str());
  if (::unlink((dir + "/" + kStagingInfoFile).c_str()) != 0)
    return ErrnoStatus("remove " + dir + "/" + kStagingInfoFile, errno);
  ::rmdir(dir.c_str());
  return Status::Ok();
}

int RunCleanup(const GlobalOptions& global, const SeedFlags& flags) {
  auto agent = Agent(global);
  if (!agent.ok()) return ReportError(global, agent.status());
  auto seed = AgentRequest(*agent, "GET", "/vault/v1/seeds/" + flags.job);
  if (!seed.ok()) return ReportError(global, seed.status());
  // The vault refuses unless it holds every pack of the seed: only then may
  // the other copies go.
  auto done = AgentRequest(*agent, "POST", "/vault/v1/seeds/" + flags.job + "/cleanup");
  if (!done.ok()) return ReportError(global, done.status());
  std::string staging = global.staging.empty() ? seed->value("staging", "") : global.staging;
  Status removed = RemoveStaging(staging, flags.job);
  bool staging_gone = removed.IsNotFound();
  if (!removed.ok() && !staging_gone) return ReportError(global, removed);
  if (global.json) {
    PrintJson({{"message_type", "seed_cleanup"},
               {"job", flags.job},
               {"container_packs_removed", done->value("container_packs_removed", 0)},
               {"staging", staging},
               {"staging_removed", !staging_gone}});
  } else {
    Say(global, "seed " + flags.job + ": the vault holds every pack; removed " +
                    std::to_string(done->value("container_packs_removed", 0)) +
                    " packs from the container");
    Say(global,
        staging_gone ? "staging " + staging + " was already gone" : "removed staging " + staging);
  }
  return kExitOk;
}

}  // namespace

void AddSeedCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  CLI::App* seed = app.add_subcommand("seed", "Offline seeds: status, adoption, cleanup");
  seed->require_subcommand(1);
  auto flags = std::make_shared<SeedFlags>();
  CLI::App* status = seed->add_subcommand("status", "Show this machine's seeds and their state");
  status->add_option("job", flags->job, "One seed (its import job's name)");
  commands.push_back({status, [&global, flags] { return RunStatus(global, *flags); }});
  CLI::App* adopt = seed->add_subcommand(
      "adopt", "Let the vault take the seed from the container now; repair what did not arrive");
  adopt->add_option("job", flags->job, "The seed's import job")->required();
  commands.push_back({adopt, [&global, flags] { return RunAdopt(global, *flags); }});
  CLI::App* cleanup = seed->add_subcommand(
      "cleanup", "Delete the staging data and the container copy (once the vault has it all)");
  cleanup->add_option("job", flags->job, "The seed's import job")->required();
  commands.push_back({cleanup, [&global, flags] { return RunCleanup(global, *flags); }});
}

}  // namespace ferry
