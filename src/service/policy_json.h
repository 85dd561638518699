// A vault's backup policy as the vault's answers show it (docs/protocol.md,
// "Policy"): the stored document with its "updated" time, or null when the
// vault has none. Shared by the policy routes and the vault report.
#pragma once

#include <nlohmann/json.hpp>

#include "service/metadata_store.h"
#include "util/status.h"

namespace ferry {

Result<nlohmann::json> PolicyJson(MetadataStore& store, const VaultRecord& vault);

}  // namespace ferry
