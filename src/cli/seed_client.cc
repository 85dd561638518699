#include "cli/seed_client.h"

#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "cli/admin_client.h"
#include "seed/staging.h"
#include "util/plural.h"

namespace ferry {

namespace {

// Packs per registration request: keeps request bodies well under a MiB.
constexpr size_t kPacksPerRequest = 5000;

bool IsDirectory(const std::string& path) {
  struct stat st;
  return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

const char* SourceName(RepairSource source) {
  switch (source) {
    case RepairSource::kStaging:
      return "staging";
    case RepairSource::kSource:
      return "source";
    case RepairSource::kUnrecoverable:
      return "unrecoverable";
  }
  return "?";
}

// Import-job states after which the datacenter has copied everything it got.
bool IngestFinished(const std::string& job_state) {
  return job_state == "Packaging" || job_state == "Completed" || job_state == "Closed";
}

}  // namespace

Result<nlohmann::json> AgentRequest(const AgentCredentials& agent, const std::string& method,
                                    const std::string& path, const nlohmann::json& body) {
  AdminFlags flags;
  flags.server = agent.server;
  flags.ca_file = agent.ca_file;
  return AdminRequestWithToken(flags, agent.token, method, path, body);
}

Result<uint64_t> RegisterStagedPacks(const AgentCredentials& agent, const StagingInfo& info,
                                     const std::string& staging_dir, int64_t since_ns) {
  ASSIGN_OR_RETURN(std::vector<StagedPack> packs, ListStagedPacks(staging_dir));
  uint64_t total = 0;
  for (size_t start = 0; start == 0 || start < packs.size(); start += kPacksPerRequest) {
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = start; i < std::min(packs.size(), start + kPacksPerRequest); ++i)
      list.push_back({{"id", packs[i].id.Hex()}, {"size", packs[i].size}});
    ASSIGN_OR_RETURN(nlohmann::json answer,
                     AgentRequest(agent, "POST", "/vault/v1/seeds/" + info.job,
                                  {{"storage_account", info.storage_account},
                                   {"container", info.container},
                                   {"staging", staging_dir},
                                   {"since_ns", since_ns},
                                   {"packs", list}}));
    total = answer.value("packs", uint64_t{0});
    if (packs.empty()) break;
  }
  return total;
}

std::vector<std::string> PendingStagingDirs(const AgentCredentials& agent) {
  std::vector<std::string> dirs;
  auto seeds = AgentRequest(agent, "GET", "/vault/v1/seeds");
  if (!seeds.ok() || !seeds->is_array()) return dirs;  // an older vault: no seeds
  for (const auto& seed : *seeds) {
    std::string staging = seed.value("staging", "");
    if (!seed.value("complete", true) && IsDirectory(staging)) dirs.push_back(staging);
  }
  return dirs;
}

std::vector<std::pair<std::string, int64_t>> AwaitedSeeds(const AgentCredentials& agent) {
  std::vector<std::pair<std::string, int64_t>> awaited;
  auto seeds = AgentRequest(agent, "GET", "/vault/v1/seeds");
  if (!seeds.ok() || !seeds->is_array()) return awaited;
  for (const auto& seed : *seeds)
    if (!seed.value("complete", true))
      awaited.emplace_back(seed.value("job", ""), seed.value("since_ns", int64_t{0}));
  return awaited;
}

namespace {
Result<AdoptionOutcome> AdoptSeedUnchecked(const GlobalOptions& global,
                                           const AgentCredentials& agent, Repository& repository,
                                           const std::string& job, const std::string& staging_dir) {
  const std::string path = "/vault/v1/seeds/" + job;
  RETURN_IF_ERROR(AgentRequest(agent, "POST", path + "/adopt").status());
  nlohmann::json seed;
  for (;;) {
    ASSIGN_OR_RETURN(seed, AgentRequest(agent, "GET", path));
    std::string state = seed.value("state", "");
    // The vault restarted mid-adoption: ask again; it resumes where it stopped.
    if (state == "interrupted")
      RETURN_IF_ERROR(AgentRequest(agent, "POST", path + "/adopt").status());
    else if (state != "adopting")
      break;
    if (InterruptFlag()) return Status::Interrupted("interrupted while the vault adopts " + job);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  AdoptionOutcome outcome;
  std::vector<Id> absent;
  for (const auto& id : seed.value("absent", nlohmann::json::array())) {
    auto parsed = id.is_string() ? Id::FromHex(id.get<std::string>())
                                 : Result<Id>(Status::Corruption("not a string"));
    if (!parsed.ok())
      return Status::Corruption(agent.server + " listed a pack ID that is not one: " + id.dump());
    absent.push_back(*parsed);
  }
  if (!absent.empty()) {
    std::string staging = staging_dir.empty() ? seed.value("staging", "") : staging_dir;
    Say(global, "seed " + job + ": " + Plural(absent.size(), "pack", "packs") +
                    " did not arrive; repairing " + (absent.size() == 1 ? "it" : "them") +
                    " from " +
                    (IsDirectory(staging) ? "staging " + staging + " or " : std::string()) +
                    "the source files");
    ASSIGN_OR_RETURN(outcome.repairs,
                     RepairMissingPacks(repository, repository.backend(), absent, staging, {}));
    ASSIGN_OR_RETURN(seed, AgentRequest(agent, "GET", path));
  }
  outcome.seed = seed;
  outcome.complete = seed.value("complete", false);
  return outcome;
}
}  // namespace

Result<AdoptionOutcome> AdoptSeed(const GlobalOptions& global, const AgentCredentials& agent,
                                  Repository& repository, const std::string& job,
                                  const std::string& staging_dir) {
  // The vault's answers are outside bytes: a field of the wrong type is an
  // error about the vault, not a crash.
  try {
    return AdoptSeedUnchecked(global, agent, repository, job, staging_dir);
  } catch (const nlohmann::json::exception& error) {
    return Status::Corruption(agent.server +
                              " answered with a seed document of the wrong shape: " + error.what());
  }
}

void ReportAdoption(const GlobalOptions& global, const std::string& job,
                    const AdoptionOutcome& outcome) {
  const nlohmann::json& seed = outcome.seed;
  // Nothing at all in the container: the disks went somewhere else, and the
  // whole seed now crosses the network. Worth more than a count.
  uint64_t packs = seed.value("packs", uint64_t{0});
  if (packs > 0 && seed.value("missing", nlohmann::json::array()).size() == packs &&
      seed.value("packs_from_container", uint64_t{0}) == 0)
    Warn(global,
         "seed " + job + ": none of its " + Plural(packs, "pack", "packs") + " was in " +
             seed.value("storage_account", "") + "/" + seed.value("container", "") +
             ", the container the vault adopts from, although the import job finished: the "
             "disks were ingested elsewhere (`ferry datacenter ingest` names where it copied "
             "them, the vault's log where it looked: its --storage-root, default DATA/storage); "
             "the packs are sent over the network instead");
  uint64_t staged = 0, rebuilt = 0, staged_bytes = 0, rebuilt_bytes = 0;
  std::vector<const PackRepair*> lost;
  for (const PackRepair& repair : outcome.repairs) {
    if (repair.source == RepairSource::kStaging) ++staged, staged_bytes += repair.bytes;
    if (repair.source == RepairSource::kSource) ++rebuilt, rebuilt_bytes += repair.bytes;
    if (repair.source == RepairSource::kUnrecoverable) lost.push_back(&repair);
  }
  if (global.json) {
    nlohmann::json repairs = nlohmann::json::array();
    for (const PackRepair& repair : outcome.repairs)
      repairs.push_back({{"pack", repair.pack.Hex()},
                         {"source", SourceName(repair.source)},
                         {"bytes", repair.bytes},
                         {"detail", repair.detail}});
    PrintJson({{"message_type", "seed_adoption"},
               {"job", job},
               {"complete", outcome.complete},
               {"packs", seed.value("packs", 0)},
               {"packs_from_container", seed.value("packs_from_container", 0)},
               {"bytes_from_container", seed.value("bytes_from_container", 0)},
               {"missing_in_container", seed.value("missing", nlohmann::json::array())},
               {"corrupt_in_container", seed.value("corrupt", nlohmann::json::array())},
               {"repairs", repairs}});
    return;
  }
  Say(global, "seed " + job + ": " +
                  Plural(seed.value("packs_from_container", uint64_t{0}), "pack", "packs") + " (" +
                  HumanBytes(seed.value("bytes_from_container", uint64_t{0})) + ") adopted from " +
                  seed.value("storage_account", "") + "/" + seed.value("container", ""));
  if (auto missing = seed.value("missing", nlohmann::json::array()); !missing.empty())
    Say(global, "  " + Plural(missing.size(), "pack was", "packs were") + " not in the container");
  if (auto corrupt = seed.value("corrupt", nlohmann::json::array()); !corrupt.empty())
    Say(global, "  " + Plural(corrupt.size(), "pack", "packs") + " in the container " +
                    (corrupt.size() == 1 ? "was" : "were") + " damaged");
  if (staged)
    Say(global, "  " + Plural(staged, "pack", "packs") + " (" + HumanBytes(staged_bytes) +
                    ") re-sent from staging");
  if (rebuilt)
    Say(global, "  " + Plural(rebuilt, "pack", "packs") + " (" + HumanBytes(rebuilt_bytes) +
                    ") rebuilt from the source files");
  for (const PackRepair* repair : lost)
    Warn(global, "seed " + job + ": pack " + repair->pack.Hex() +
                     " could not be recovered: " + repair->detail);
  Say(global, outcome.complete
                  ? "seed " + job + ": the vault now holds every pack"
                  : "seed " + job + ": INCOMPLETE: " + Plural(lost.size(), "pack is", "packs are") +
                        " lost; `ferry check` names the affected files");
}

void AdoptReadySeeds(const GlobalOptions& global, const AgentCredentials& agent,
                     Repository& repository) {
  auto seeds = AgentRequest(agent, "GET", "/vault/v1/seeds");
  if (!seeds.ok() || !seeds->is_array()) return;
  for (const auto& seed : *seeds) {
    std::string name = seed.value("job", "");
    if (seed.value("complete", true) || seed.value("state", "") == "cleaned-up") continue;
    auto job = AgentRequest(agent, "GET", "/import/v1/jobs/" + name);
    std::string state = job.ok() ? job->value("state", "") : "not created yet";
    if (!IngestFinished(state)) {
      uint64_t travelling =
          seed.value("packs", uint64_t{0}) - seed.value("packs_present", uint64_t{0});
      if (global.json)
        PrintJson({{"message_type", "seed_travelling"},
                   {"job", name},
                   {"job_state", state},
                   {"packs_on_disks", travelling}});
      else
        Say(global, "seed " + name + ": " + Plural(travelling, "pack travels", "packs travel") +
                        " on disks (import job: " + state +
                        "); only new data goes over the network");
      continue;
    }
    auto outcome = AdoptSeed(global, agent, repository, name, "");
    if (!outcome.ok()) {
      Warn(global, "seed " + name + ": adoption failed: " + outcome.status().message());
      continue;
    }
    ReportAdoption(global, name, *outcome);
  }
}

}  // namespace ferry
