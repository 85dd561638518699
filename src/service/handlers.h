// The vault's handlers, one file per resource, each adding its routes to the
// router (docs/protocol.md lists them). Handlers find the caller's token in
// the request's context, already checked against the route's Access.
#pragma once

#include "service/router.h"
#include "service/seed_adoption.h"
#include "service/vault_state.h"

namespace ferry {

// GET /healthz, GET /vault/v1/version.
void AddHealthRoutes(Router& router, VaultState& state);
// GET /metrics.
void AddMetricsRoutes(Router& router, VaultState& state, SeedAdoptions& adoptions);
// /vault/v1/vaults…: vaults, machines, their tokens and the vault report.
void AddVaultRoutes(Router& router, VaultState& state);
// /vault/v1/repository/KIND/NAME: a machine's objects.
void AddObjectRoutes(Router& router, VaultState& state);
// /vault/v1/vaults/V/policy, /vault/v1/policy, /vault/v1/prunes.
void AddPolicyRoutes(Router& router, VaultState& state);
// /import/v1/…: operators and import jobs.
void AddImportJobRoutes(Router& router, VaultState& state);
// /vault/v1/seeds…: offline seeds and their adoption.
void AddSeedRoutes(Router& router, VaultState& state, SeedAdoptions& adoptions);

}  // namespace ferry
