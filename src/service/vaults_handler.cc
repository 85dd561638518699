// Vaults and machines (the admin's): create and list vaults, the vault
// report, register machines and issue their maintenance tokens.
// docs/protocol.md, "Administration".
#include <nlohmann/json.hpp>

#include "service/handlers.h"
#include "service/policy_json.h"
#include "service/request_body.h"
#include "service/response.h"
#include "service/token.h"
#include "util/clock.h"

namespace ferry {

namespace {

using nlohmann::json;

class VaultsHandler {
 public:
  explicit VaultsHandler(VaultState& state) : state_(state) {}

  void List(RequestContext& context);
  void Create(RequestContext& context);
  void Report(RequestContext& context);
  void RegisterMachine(RequestContext& context);
  void MaintenanceToken(RequestContext& context);

 private:
  VaultState& state_;
};

void VaultsHandler::List(RequestContext& context) {
  auto vaults = state_.store().ListVaults();
  if (!vaults.ok()) return SendStatus(context.response, vaults.status());
  json list = json::array();
  for (const VaultRecord& vault : *vaults)
    list.push_back({{"name", vault.name}, {"created", FormatTimeRfc3339(vault.created_ns)}});
  SendJson(context.response, 200, list);
}

void VaultsHandler::Create(RequestContext& context) {
  httplib::Response& res = context.response;
  auto name_request = ParseNameRequest(context.body, "VAULT");
  if (!name_request.ok()) return SendError(res, 400, "bad_json", name_request.status().message());
  const std::string& name = *name_request;
  if (!IsEntityName(name))
    return SendError(res, 400, "bad_name", "vault names are 1-64 characters of A-Z a-z 0-9 . _ -");
  auto vault = state_.store().CreateVault(name, state_.clock().NowNanos());
  if (!vault.ok()) return SendStatus(res, vault.status());
  SendJson(res, 201, {{"name", vault->name}, {"created", FormatTimeRfc3339(vault->created_ns)}});
}

void VaultsHandler::Report(RequestContext& context) {
  httplib::Response& res = context.response;
  MetadataStore& store = state_.store();
  auto vault = store.FindVault(context.Param("vault"));
  if (!vault.ok()) return SendStatus(res, vault.status());
  auto machines = store.ListMachines(*vault);
  if (!machines.ok()) return SendStatus(res, machines.status());
  json list = json::array();
  for (const MachineRecord& machine : *machines) {
    auto points = store.ListRecoveryPoints(machine.id);
    auto backend = state_.MachineBackend(machine);
    if (!points.ok() || !backend.ok())
      return SendStatus(res, points.ok() ? backend.status() : points.status());
    uint64_t bytes = 0, objects = 0;
    for (ObjectKind kind : {ObjectKind::kConfig, ObjectKind::kKey, ObjectKind::kData,
                            ObjectKind::kIndex, ObjectKind::kSnapshot, ObjectKind::kLock}) {
      Status status = (*backend)->List(kind, [&](const std::string&, uint64_t size) {
        bytes += size;
        ++objects;
        return Status::Ok();
      });
      if (!status.ok()) return SendStatus(res, state_.StorageFailure("list", status));
    }
    json entry = {{"name", machine.name},
                  {"registered", FormatTimeRfc3339(machine.created_ns)},
                  {"recovery_points", points->size()},
                  {"stored_bytes", bytes},
                  {"objects", objects}};
    entry["last_backup"] =
        points->empty() ? json(nullptr) : json(FormatTimeRfc3339(points->back().received_ns));
    auto prune = store.LastPrune(machine.id);
    if (!prune.ok()) return SendStatus(res, prune.status());
    entry["last_prune"] = nullptr;
    if (*prune)
      entry["last_prune"] = {{"time", FormatTimeRfc3339((*prune)->time_ns)},
                             {"bytes_freed", (*prune)->bytes_freed},
                             {"packs_removed", (*prune)->packs_removed},
                             {"packs_repacked", (*prune)->packs_repacked},
                             {"bytes_repacked", (*prune)->bytes_repacked},
                             {"snapshots_removed", (*prune)->snapshots_removed}};
    list.push_back(std::move(entry));
  }
  auto policy = PolicyJson(store, *vault);
  if (!policy.ok()) return SendStatus(res, policy.status());
  SendJson(res, 200,
           {{"name", vault->name},
            {"created", FormatTimeRfc3339(vault->created_ns)},
            {"policy", *policy},
            {"machines", list}});
}

void VaultsHandler::RegisterMachine(RequestContext& context) {
  httplib::Response& res = context.response;
  MetadataStore& store = state_.store();
  auto vault = store.FindVault(context.Param("vault"));
  if (!vault.ok()) return SendStatus(res, vault.status());
  auto name_request = ParseNameRequest(context.body, "MACHINE");
  if (!name_request.ok()) return SendError(res, 400, "bad_json", name_request.status().message());
  const std::string& name = *name_request;
  if (!IsEntityName(name))
    return SendError(res, 400, "bad_name",
                     "machine names are 1-64 characters of A-Z a-z 0-9 . _ -");
  auto machine = store.CreateMachine(*vault, name, state_.clock().NowNanos());
  if (!machine.ok()) return SendStatus(res, machine.status());
  auto backend = state_.MachineBackend(*machine);
  if (!backend.ok()) return SendStatus(res, backend.status());
  std::string token = GenerateToken();
  Status status =
      store.AddToken(HashToken(token), TokenKind::kMachine, machine->id, state_.clock().NowNanos());
  if (!status.ok()) return SendStatus(res, status);
  SendJson(res, 201, {{"vault", vault->name}, {"machine", machine->name}, {"token", token}});
}

void VaultsHandler::MaintenanceToken(RequestContext& context) {
  httplib::Response& res = context.response;
  MetadataStore& store = state_.store();
  auto vault = store.FindVault(context.Param("vault"));
  if (!vault.ok()) return SendStatus(res, vault.status());
  auto machine = store.FindMachine(*vault, context.Param("machine"));
  if (!machine.ok()) return SendStatus(res, machine.status());
  std::string token = GenerateToken();
  Status status = store.AddToken(HashToken(token), TokenKind::kMaintenance, machine->id,
                                 state_.clock().NowNanos());
  if (!status.ok()) return SendStatus(res, status);
  SendJson(res, 201, {{"vault", vault->name}, {"machine", machine->name}, {"token", token}});
}

}  // namespace

void AddVaultRoutes(Router& router, VaultState& state) {
  auto handler = std::make_shared<VaultsHandler>(state);
  router.Add("GET", "/vault/v1/vaults", Access::Admin(),
             [handler](RequestContext& context) { handler->List(context); });
  router.Add("POST", "/vault/v1/vaults", Access::Admin(),
             [handler](RequestContext& context) { handler->Create(context); });
  router.Add("GET", "/vault/v1/vaults/{vault}", Access::Admin(),
             [handler](RequestContext& context) { handler->Report(context); });
  router.Add("POST", "/vault/v1/vaults/{vault}/machines", Access::Admin(),
             [handler](RequestContext& context) { handler->RegisterMachine(context); });
  router.Add("POST", "/vault/v1/vaults/{vault}/machines/{machine}/maintenance-token",
             Access::Admin(),
             [handler](RequestContext& context) { handler->MaintenanceToken(context); });
}

}  // namespace ferry
