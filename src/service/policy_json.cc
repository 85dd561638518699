#include "service/policy_json.h"

#include "util/clock.h"

namespace ferry {

Result<nlohmann::json> PolicyJson(MetadataStore& store, const VaultRecord& vault) {
  auto record = store.FindVaultPolicy(vault.id);
  if (record.status().IsNotFound()) return nlohmann::json(nullptr);
  if (!record.ok()) return record.status();
  nlohmann::json policy =
      nlohmann::json::parse(record->document, nullptr, /*allow_exceptions=*/false);
  if (!policy.is_object())
    return Status::Corruption("the stored policy of vault " + vault.name + " is not JSON");
  policy["updated"] = FormatTimeRfc3339(record->updated_ns);
  return policy;
}

}  // namespace ferry
