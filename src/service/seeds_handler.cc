// Offline seeds (docs/protocol.md, "Seeds"): a machine registers the packs an
// offline backup wrote to staging, watches them arrive, has the vault adopt
// them from the container the datacenter filled, and cleans the container up.
#include <nlohmann/json.hpp>

#include "service/handlers.h"
#include "service/request_body.h"
#include "service/response.h"
#include "util/clock.h"

namespace ferry {

namespace {

using nlohmann::json;

class SeedsHandler {
 public:
  SeedsHandler(VaultState& state, SeedAdoptions& adoptions)
      : state_(state), adoptions_(adoptions) {}

  void Register(RequestContext& context);
  void List(RequestContext& context);
  void Show(RequestContext& context);
  // Starts (or resumes) copying the seed's packs from its container.
  void Adopt(RequestContext& context);
  // Deletes the container's copies once the vault holds every pack.
  void Cleanup(RequestContext& context);

 private:
  // REQUIRES: adoptions_.Lock() held.
  json SeedJson(int64_t machine_id, const SeedRecord& seed, Backend& repository, bool with_absent);
  // The calling machine's seed named in the path, its repository, and the
  // seeds' lock held; nullopt (response filled in) if any of them fails.
  struct SeedRequest {
    Backend* repository = nullptr;
    std::unique_lock<std::mutex> lock;
    SeedRecord seed;
  };
  std::optional<SeedRequest> OpenSeedRequest(RequestContext& context);

  VaultState& state_;
  SeedAdoptions& adoptions_;
};

json SeedsHandler::SeedJson(int64_t machine_id, const SeedRecord& seed, Backend& repository,
                            bool with_absent) {
  // "adopting" in the database but no thread at work: the server stopped
  // mid-adoption. Say so, so that the agent asks for it to resume.
  std::string state = SeedStateName(seed.state);
  std::optional<uint64_t> running = adoptions_.Running(machine_id, seed.job);
  if (seed.state == SeedState::kAdopting && !running) state = "interrupted";
  uint64_t bytes = 0, present = 0, present_bytes = 0;
  json absent = json::array();
  for (const SeedPack& pack : seed.packs) {
    bytes += pack.size;
    if (repository.Stat({ObjectKind::kData, pack.id.Hex()}).ok()) {
      ++present;
      present_bytes += pack.size;
    } else if (with_absent) {
      absent.push_back(pack.id.Hex());
    }
  }
  auto hex_list = [](const std::vector<Id>& ids) {
    json list = json::array();
    for (const Id& id : ids) list.push_back(id.Hex());
    return list;
  };
  json j = {{"job", seed.job},
            {"storage_account", seed.storage_account},
            {"container", seed.container},
            {"registered", FormatTimeRfc3339(seed.registered_ns)},
            {"since_ns", seed.since_ns},
            {"staging", seed.staging},
            {"state", state},
            {"packs", seed.packs.size()},
            {"bytes", bytes},
            {"packs_present", present},
            {"bytes_present", present_bytes},
            {"complete", present == seed.packs.size()},
            {"adopted", seed.adopted_ns ? json(FormatTimeRfc3339(seed.adopted_ns)) : json(nullptr)},
            {"packs_from_container", seed.packs_from_container},
            {"bytes_from_container", seed.bytes_from_container},
            {"missing", hex_list(seed.missing)},
            {"corrupt", hex_list(seed.corrupt)}};
  if (with_absent) j["absent"] = absent;
  if (running) j["packs_examined"] = *running;
  return j;
}

std::optional<SeedsHandler::SeedRequest> SeedsHandler::OpenSeedRequest(RequestContext& context) {
  SeedRequest request;
  const TokenRecord& token = context.Token();
  auto backend = state_.MachineBackend(*token.machine);
  if (!backend.ok()) {
    SendStatus(context.response, backend.status());
    return std::nullopt;
  }
  request.repository = *backend;
  request.lock = adoptions_.Lock();
  auto seed = state_.store().LoadSeed(token.machine->id, context.Param("job"));
  if (!seed.ok()) {
    SendStatus(context.response, seed.status());
    return std::nullopt;
  }
  request.seed = std::move(*seed);
  return request;
}

void SeedsHandler::Register(RequestContext& context) {
  httplib::Response& res = context.response;
  const TokenRecord& token = context.Token();
  const std::string& job = context.Param("job");
  if (!IsEntityName(job))
    return SendError(res, 400, "bad_name", "job names are 1-64 characters of A-Z a-z 0-9 . _ -");
  auto request = ParseSeedRegistrationRequest(context.body);
  if (!request.ok()) return SendError(res, 400, "bad_request", request.status().message());
  const std::string& account = request->storage_account;
  const std::string& container = request->container;
  auto backend = state_.MachineBackend(*token.machine);
  if (!backend.ok()) return SendStatus(res, backend.status());
  auto lock = adoptions_.Lock();
  auto seed = state_.store().LoadSeed(token.machine->id, job);
  if (!seed.ok() && !seed.status().IsNotFound()) return SendStatus(res, seed.status());
  if (!seed.ok()) {
    seed = SeedRecord{};
    seed->job = job;
    seed->storage_account = account;
    seed->container = container;
    seed->registered_ns = state_.clock().NowNanos();
  } else if (seed->storage_account != account || seed->container != container) {
    return SendError(res, 409, "conflict",
                     "seed " + job + " goes to " + seed->storage_account + "/" + seed->container +
                         ", not " + account + "/" + container);
  } else if (seed->state == SeedState::kCleanedUp) {
    return SendError(res, 409, "conflict", "seed " + job + " was cleaned up; use a new job");
  }
  int64_t since = request->since_ns;
  if (since > 0 && (seed->since_ns == 0 || since < seed->since_ns)) seed->since_ns = since;
  if (request->staging) seed->staging = *request->staging;
  size_t added = AddSeedPacks(*seed, request->packs);
  Status status = state_.store().SaveSeed(token.machine->id, *seed);
  if (!status.ok()) return SendStatus(res, status);
  json answer = SeedJson(token.machine->id, *seed, **backend, false);
  answer["added"] = added;
  SendJson(res, 200, answer);
}

void SeedsHandler::List(RequestContext& context) {
  const TokenRecord& token = context.Token();
  auto backend = state_.MachineBackend(*token.machine);
  if (!backend.ok()) return SendStatus(context.response, backend.status());
  auto lock = adoptions_.Lock();
  auto seeds = state_.store().ListSeeds(token.machine->id);
  if (!seeds.ok()) return SendStatus(context.response, seeds.status());
  json list = json::array();
  for (const SeedRecord& seed : *seeds)
    list.push_back(SeedJson(token.machine->id, seed, **backend, false));
  SendJson(context.response, 200, list);
}

void SeedsHandler::Show(RequestContext& context) {
  auto request = OpenSeedRequest(context);
  if (!request) return;
  SendJson(context.response, 200,
           SeedJson(context.Token().machine->id, request->seed, *request->repository, true));
}

void SeedsHandler::Adopt(RequestContext& context) {
  auto request = OpenSeedRequest(context);
  if (!request) return;
  const MachineRecord& machine = *context.Token().machine;
  SeedRecord& seed = request->seed;
  if (seed.state == SeedState::kCleanedUp)
    return SendError(context.response, 409, "conflict",
                     "seed " + seed.job + " was already cleaned up");
  if (!adoptions_.Running(machine.id, seed.job)) {
    seed.state = SeedState::kAdopting;
    Status status = state_.store().SaveSeed(machine.id, seed);
    if (!status.ok()) return SendStatus(context.response, status);
    adoptions_.Start(machine, seed.job);
  }
  SendJson(context.response, 202, {{"job", seed.job}, {"state", "adopting"}});
}

void SeedsHandler::Cleanup(RequestContext& context) {
  httplib::Response& res = context.response;
  auto request = OpenSeedRequest(context);
  if (!request) return;
  const MachineRecord& machine = *context.Token().machine;
  SeedRecord& seed = request->seed;
  if (adoptions_.Running(machine.id, seed.job))
    return SendError(res, 409, "conflict", "seed " + seed.job + " is being adopted right now");
  json report = SeedJson(machine.id, seed, *request->repository, true);
  if (!report["complete"].get<bool>())
    return SendError(res, 409, "not_adopted",
                     "the vault does not hold every pack of seed " + seed.job + " yet (" +
                         std::to_string(report["absent"].size()) + " of " +
                         std::to_string(seed.packs.size()) +
                         " missing); adopt it first: ferry seed adopt " + seed.job);
  auto container = state_.OpenContainer(seed);
  if (!container.ok()) return SendStatus(res, container.status());
  uint64_t removed = 0;
  for (const SeedPack& pack : seed.packs) {
    Status status = (*container)->Remove({ObjectKind::kData, pack.id.Hex()});
    if (status.ok())
      ++removed;
    else if (!status.IsNotFound())
      return SendStatus(res, state_.StorageFailure("remove", status));
  }
  seed.state = SeedState::kCleanedUp;
  Status status = state_.store().SaveSeed(machine.id, seed);
  if (!status.ok()) return SendStatus(res, status);
  SendJson(res, 200,
           {{"job", seed.job}, {"state", "cleaned-up"}, {"container_packs_removed", removed}});
}

}  // namespace

void AddSeedRoutes(Router& router, VaultState& state, SeedAdoptions& adoptions) {
  auto handler = std::make_shared<SeedsHandler>(state, adoptions);
  router.Add("POST", "/vault/v1/seeds/{job}", Access::Machine(),
             [handler](RequestContext& context) { handler->Register(context); });
  router.Add("GET", "/vault/v1/seeds", Access::Machine(),
             [handler](RequestContext& context) { handler->List(context); });
  router.Add("GET", "/vault/v1/seeds/{job}", Access::Machine(),
             [handler](RequestContext& context) { handler->Show(context); });
  router.Add("POST", "/vault/v1/seeds/{job}/adopt", Access::Machine(),
             [handler](RequestContext& context) { handler->Adopt(context); });
  router.Add("POST", "/vault/v1/seeds/{job}/cleanup", Access::Machine(),
             [handler](RequestContext& context) { handler->Cleanup(context); });
}

}  // namespace ferry
