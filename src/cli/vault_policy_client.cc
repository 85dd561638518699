#include "cli/vault_policy_client.h"

#include "cli/seed_client.h"

namespace ferry {

Result<std::optional<VaultPolicy>> FetchVaultPolicy(const AgentCredentials& agent) {
  ASSIGN_OR_RETURN(nlohmann::json answer, AgentRequest(agent, "GET", "/vault/v1/policy"));
  if (!answer.is_object() || !answer.contains("policy"))
    return Status::Corruption("the vault's answer to GET /vault/v1/policy has no policy");
  const nlohmann::json& policy = answer["policy"];
  if (policy.is_null()) return std::optional<VaultPolicy>();
  // The same checks as the vault's: a policy that reached the agent is one
  // the vault would have accepted, whoever answered.
  auto parsed = ParseVaultPolicy(policy.dump());
  if (!parsed.ok()) return parsed.status().WithContext("the vault's policy");
  return std::optional<VaultPolicy>(std::move(*parsed));
}

Status ReportPrune(const AgentCredentials& agent, const PruneReport& report,
                   uint64_t snapshots_removed) {
  return AgentRequest(agent, "POST", "/vault/v1/prunes",
                      {{"bytes_freed", report.bytes_freed()},
                       {"packs_removed", report.packs_removed + report.packs_debris},
                       {"packs_repacked", report.packs_repacked},
                       {"bytes_repacked", report.bytes_repacked},
                       {"snapshots_removed", snapshots_removed}})
      .status();
}

}  // namespace ferry
