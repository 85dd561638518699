// The agent's side of offline seeds (/vault/v1/seeds, docs/protocol.md):
// registering staged packs, finding the staging directories to read from
// while disks travel, and adopting a seed — the vault copies the packs from
// the storage container, then the agent repairs what never arrived and
// reports how (docs/seeding.md, "Adoption").
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/agent_credentials.h"
#include "cli/global_options.h"
#include "format/staging_info.h"
#include "seed/seed_repair.h"

namespace ferry {

// One JSON request to the vault as the machine.
Result<nlohmann::json> AgentRequest(const AgentCredentials& agent, const std::string& method,
                                    const std::string& path, const nlohmann::json& body = nullptr);

// Registers every pack in `staging_dir` with the vault as part of the seed.
// Returns how many packs the seed has.
Result<uint64_t> RegisterStagedPacks(const AgentCredentials& agent, const StagingInfo& info,
                                     const std::string& staging_dir, int64_t since_ns);

// Staging directories of this machine's seeds that the vault does not yet
// hold completely and that exist on this machine (reads fall back to them).
std::vector<std::string> PendingStagingDirs(const AgentCredentials& agent);

// Seeds the vault does not hold completely yet, as (job, since_ns): a
// snapshot taken since then may need the seed's packs, so it is awaiting it.
std::vector<std::pair<std::string, int64_t>> AwaitedSeeds(const AgentCredentials& agent);

struct AdoptionOutcome {
  nlohmann::json seed;  // the vault's record after adoption and repair
  std::vector<PackRepair> repairs;
  bool complete = false;  // the vault holds every pack of the seed
};

// Asks the vault to adopt `job`'s seed, waits for it, then repairs the packs
// it lacks from `staging_dir` (default: where the seed was staged) or the
// source files, into the repository's backend (whose writes go to the vault
// even with staging directories in front for reads).
Result<AdoptionOutcome> AdoptSeed(const GlobalOptions& global, const AgentCredentials& agent,
                                  Repository& repository, const std::string& job,
                                  const std::string& staging_dir);

// Prints what adoption did: packs from the container, from staging, rebuilt
// from the source, and every pack that could not be recovered.
void ReportAdoption(const GlobalOptions& global, const std::string& job,
                    const AdoptionOutcome& outcome);

// At the start of a backup: adopts every seed whose import job is done at the
// datacenter, and says which seeds are still travelling. Errors of one seed
// are warnings; the backup goes on.
void AdoptReadySeeds(const GlobalOptions& global, const AgentCredentials& agent,
                     Repository& repository);

}  // namespace ferry
