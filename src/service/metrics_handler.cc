// GET /metrics: the vault's metrics in the Prometheus text format
// (docs/operations.md, "Metrics"). The counted series come from
// VaultMetrics; the rest is read from the MetadataStore at each scrape, so
// that every server of one database reports the same and nothing is lost in
// a restart.
//
// Who may scrape: the bearer token in DATA/metrics.token, which opens nothing
// else (Prometheus reads it with `authorization: credentials_file`), or the
// admin token. The series name vaults and machines, which are not for anyone
// who can reach the port.
#include <prometheus/text_serializer.h>

#include <map>
#include <sstream>

#include "service/handlers.h"
#include "service/response.h"
#include "service/token.h"

namespace ferry {

namespace {

constexpr double kNanosPerSecond = 1e9;

class MetricsHandler {
 public:
  MetricsHandler(VaultState& state, SeedAdoptions& adoptions)
      : state_(state), adoptions_(adoptions) {}

  bool Admits(const httplib::Request& request);
  void Scrape(RequestContext& context);

 private:
  // Fills `registry` with the series read from the store.
  Status Collect(prometheus::Registry& registry);

  VaultState& state_;
  SeedAdoptions& adoptions_;
};

bool MetricsHandler::Admits(const httplib::Request& request) {
  std::string header = request.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.rfind(prefix, 0) != 0) return false;
  std::string token = header.substr(prefix.size());
  if (state_.IsMetricsToken(token)) return true;
  if (!LooksLikeToken(token)) return false;
  auto record = state_.store().FindToken(HashToken(token));
  return record.ok() && record->kind == TokenKind::kAdmin;
}

Status MetricsHandler::Collect(prometheus::Registry& registry) {
  MetadataStore& store = state_.store();
  auto& vaults_gauge = prometheus::BuildGauge()
                           .Name("ferry_vaults")
                           .Help("Vaults on this service")
                           .Register(registry);
  auto& machines_gauge = prometheus::BuildGauge()
                             .Name("ferry_machines")
                             .Help("Machines registered, by vault")
                             .Register(registry);
  auto& points_gauge = prometheus::BuildGauge()
                           .Name("ferry_machine_recovery_points")
                           .Help("Snapshots (recovery points) the vault holds, by machine")
                           .Register(registry);
  auto& last_backup_gauge =
      prometheus::BuildGauge()
          .Name("ferry_machine_last_backup_timestamp_seconds")
          .Help(
              "When the machine's newest recovery point arrived (Unix time); absent before "
              "its first backup")
          .Register(registry);
  auto& registered_gauge = prometheus::BuildGauge()
                               .Name("ferry_machine_registered_timestamp_seconds")
                               .Help("When the machine was registered (Unix time)")
                               .Register(registry);
  auto& jobs_gauge = prometheus::BuildGauge()
                         .Name("ferry_import_jobs")
                         .Help("Import jobs, by state")
                         .Register(registry);
  auto& seeds_gauge = prometheus::BuildGauge()
                          .Name("ferry_seeds")
                          .Help("Offline seeds, by state")
                          .Register(registry);
  auto& seed_packs_gauge = prometheus::BuildGauge()
                               .Name("ferry_seed_packs")
                               .Help("Packs of a seed not yet cleaned up, by machine and job")
                               .Register(registry);
  auto& examined_gauge =
      prometheus::BuildGauge()
          .Name("ferry_seed_adoption_packs_examined")
          .Help("Packs a running adoption on this server has examined, by machine and job")
          .Register(registry);

  ASSIGN_OR_RETURN(std::vector<VaultRecord> vaults, store.ListVaults());
  vaults_gauge.Add({}).Set(static_cast<double>(vaults.size()));
  std::map<SeedState, uint64_t> seeds_by_state;
  std::map<int64_t, MachineRecord> machines_by_id;
  for (const VaultRecord& vault : vaults) {
    ASSIGN_OR_RETURN(std::vector<MachineRecord> machines, store.ListMachines(vault));
    machines_gauge.Add({{"vault", vault.name}}).Set(static_cast<double>(machines.size()));
    for (const MachineRecord& machine : machines) {
      machines_by_id[machine.id] = machine;
      prometheus::Labels labels = {{"vault", vault.name}, {"machine", machine.name}};
      ASSIGN_OR_RETURN(std::vector<RecoveryPoint> points, store.ListRecoveryPoints(machine.id));
      points_gauge.Add(labels).Set(static_cast<double>(points.size()));
      registered_gauge.Add(labels).Set(static_cast<double>(machine.created_ns) / kNanosPerSecond);
      int64_t newest = 0;
      for (const RecoveryPoint& point : points) newest = std::max(newest, point.received_ns);
      if (!points.empty())
        last_backup_gauge.Add(labels).Set(static_cast<double>(newest) / kNanosPerSecond);
      ASSIGN_OR_RETURN(std::vector<SeedRecord> seeds, store.ListSeeds(machine.id));
      for (const SeedRecord& seed : seeds) {
        ++seeds_by_state[seed.state];
        if (seed.state == SeedState::kCleanedUp) continue;
        prometheus::Labels seed_labels = labels;
        seed_labels["job"] = seed.job;
        seed_packs_gauge.Add(seed_labels).Set(static_cast<double>(seed.packs.size()));
      }
    }
  }
  for (SeedState seed_state :
       {SeedState::kAwaiting, SeedState::kAdopting, SeedState::kAdopted, SeedState::kCleanedUp})
    seeds_gauge.Add({{"state", SeedStateName(seed_state)}})
        .Set(static_cast<double>(seeds_by_state[seed_state]));
  for (const SeedAdoptions::Progress& running : adoptions_.Snapshot()) {
    auto machine = machines_by_id.find(running.machine_id);
    if (machine == machines_by_id.end()) continue;
    examined_gauge
        .Add({{"vault", machine->second.vault},
              {"machine", machine->second.name},
              {"job", running.job}})
        .Set(static_cast<double>(running.packs_examined));
  }

  ASSIGN_OR_RETURN(std::vector<ImportJob> jobs, store.ListImportJobs());
  std::map<JobState, uint64_t> jobs_by_state;
  for (const ImportJob& job : jobs) ++jobs_by_state[job.state];
  for (JobState job_state : {JobState::kCreating, JobState::kShipping, JobState::kReceived,
                             JobState::kTransferring, JobState::kPackaging, JobState::kCompleted,
                             JobState::kClosed, JobState::kCancelled, JobState::kExpired})
    jobs_gauge.Add({{"state", JobStateName(job_state)}})
        .Set(static_cast<double>(jobs_by_state[job_state]));
  return Status::Ok();
}

void MetricsHandler::Scrape(RequestContext& context) {
  prometheus::Registry stored;
  Status status = Collect(stored);
  if (!status.ok()) return SendStatus(context.response, status);
  std::vector<prometheus::MetricFamily> families = state_.metrics().registry().Collect();
  for (prometheus::MetricFamily& family : stored.Collect()) families.push_back(std::move(family));
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, families);
  context.response.status = 200;
  context.response.set_content(text.str(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

void AddMetricsRoutes(Router& router, VaultState& state, SeedAdoptions& adoptions) {
  auto handler = std::make_shared<MetricsHandler>(state, adoptions);
  router.Add("GET", "/metrics", Access::Bearer([handler](const httplib::Request& request) {
               return handler->Admits(request);
             }),
             [handler](RequestContext& context) { handler->Scrape(context); });
}

}  // namespace ferry
