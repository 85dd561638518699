// The agent's side of a vault's backup policy (docs/protocol.md, "Policy"):
// reading the policy the admin set for the machine's vault, and reporting
// back what a prune freed.
#pragma once

#include <optional>

#include "cli/agent_credentials.h"
#include "repo/prune.h"
#include "service/request_body.h"

namespace ferry {

// The policy of the agent's vault; nullopt when the admin has set none.
// Either of the machine's tokens may read it.
Result<std::optional<VaultPolicy>> FetchVaultPolicy(const AgentCredentials& agent);

// Tells the vault what a prune did (POST /vault/v1/prunes). Needs the
// maintenance token: the vault refuses a machine token (403).
Status ReportPrune(const AgentCredentials& agent, const PruneReport& report,
                   uint64_t snapshots_removed);

}  // namespace ferry
