// Backup policies (the admin sets a vault's; a machine reads its own vault's)
// and prune reports (the maintenance token's). docs/protocol.md, "Policy".
#include <nlohmann/json.hpp>

#include "service/handlers.h"
#include "service/policy_json.h"
#include "service/request_body.h"
#include "service/response.h"
#include "util/clock.h"

namespace ferry {

namespace {

using nlohmann::json;

class PoliciesHandler {
 public:
  explicit PoliciesHandler(VaultState& state) : state_(state) {}

  void Set(RequestContext& context);
  void Get(RequestContext& context);
  void Remove(RequestContext& context);
  void GetOwn(RequestContext& context);
  void ReportPrune(RequestContext& context);

 private:
  // Answers {"vault", "policy"} for `vault`.
  void SendPolicy(RequestContext& context, const VaultRecord& vault);

  VaultState& state_;
};

void PoliciesHandler::SendPolicy(RequestContext& context, const VaultRecord& vault) {
  auto answer = PolicyJson(state_.store(), vault);
  if (!answer.ok()) return SendStatus(context.response, answer.status());
  SendJson(context.response, 200, {{"vault", vault.name}, {"policy", *answer}});
}

void PoliciesHandler::Set(RequestContext& context) {
  httplib::Response& res = context.response;
  auto vault = state_.store().FindVault(context.Param("vault"));
  if (!vault.ok()) return SendStatus(res, vault.status());
  auto policy = ParseVaultPolicy(context.body);
  if (!policy.ok()) return SendError(res, 400, "bad_request", policy.status().message());
  // Stored as re-encoded from the checked policy, never the body as sent.
  Status status = state_.store().SetVaultPolicy(
      vault->id, {EncodeVaultPolicy(*policy), state_.clock().NowNanos()});
  if (!status.ok()) return SendStatus(res, status);
  SendPolicy(context, *vault);
}

void PoliciesHandler::Get(RequestContext& context) {
  auto vault = state_.store().FindVault(context.Param("vault"));
  if (!vault.ok()) return SendStatus(context.response, vault.status());
  SendPolicy(context, *vault);
}

void PoliciesHandler::Remove(RequestContext& context) {
  httplib::Response& res = context.response;
  auto vault = state_.store().FindVault(context.Param("vault"));
  if (!vault.ok()) return SendStatus(res, vault.status());
  Status status = state_.store().RemoveVaultPolicy(vault->id);
  if (status.IsNotFound())
    return SendError(res, 404, "not_found", "vault " + vault->name + " has no backup policy");
  if (!status.ok()) return SendStatus(res, status);
  SendJson(res, 200, {{"vault", vault->name}, {"policy", nullptr}});
}

void PoliciesHandler::GetOwn(RequestContext& context) {
  auto vault = state_.store().FindVault(context.Token().machine->vault);
  if (!vault.ok()) return SendStatus(context.response, vault.status());
  SendPolicy(context, *vault);
}

void PoliciesHandler::ReportPrune(RequestContext& context) {
  httplib::Response& res = context.response;
  const TokenRecord& token = context.Token();
  auto report = ParsePruneReportRequest(context.body);
  if (!report.ok()) return SendError(res, 400, "bad_request", report.status().message());
  PruneRecord prune{state_.clock().NowNanos(), report->bytes_freed,    report->packs_removed,
                    report->packs_repacked,    report->bytes_repacked, report->snapshots_removed};
  Status status = state_.store().AddPrune(token.machine->id, prune);
  if (!status.ok()) return SendStatus(res, status);
  SendJson(res, 201,
           {{"vault", token.machine->vault},
            {"machine", token.machine->name},
            {"time", FormatTimeRfc3339(prune.time_ns)},
            {"bytes_freed", prune.bytes_freed}});
}

// Only the maintenance token reports prunes: it is the token that can
// delete, so a report from anyone else would be a claim about deletions its
// sender could not have made.
Status RequireMaintenanceToken(const TokenRecord& token) {
  RETURN_IF_ERROR(RequireMachineToken(token));
  if (token.kind != TokenKind::kMaintenance)
    return Status::PermissionDenied(
        "reporting a prune needs the machine's maintenance token (ferry machine "
        "maintenance-token); the machine token is append-only");
  return Status::Ok();
}

}  // namespace

void AddPolicyRoutes(Router& router, VaultState& state) {
  auto handler = std::make_shared<PoliciesHandler>(state);
  const std::string vault_policy = "/vault/v1/vaults/{vault}/policy";
  router.Add("PUT", vault_policy, Access::Admin(),
             [handler](RequestContext& context) { handler->Set(context); });
  router.Add("GET", vault_policy, Access::Admin(),
             [handler](RequestContext& context) { handler->Get(context); });
  router.Add("DELETE", vault_policy, Access::Admin(),
             [handler](RequestContext& context) { handler->Remove(context); });
  // A machine (either of its tokens) reads its own vault's policy.
  router.Add("GET", "/vault/v1/policy", Access::Machine(),
             [handler](RequestContext& context) { handler->GetOwn(context); });
  router.Add("POST", "/vault/v1/prunes", Access::Token(RequireMaintenanceToken),
             [handler](RequestContext& context) { handler->ReportPrune(context); });
}

}  // namespace ferry
