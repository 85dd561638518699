// Import jobs (docs/protocol.md, "Import jobs"): a machine or the admin
// creates, ships and cancels them; operators (datacenter staff, with tokens
// the admin issues here) move jobs and drives through their states.
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "seed/ingest_container.h"
#include "seed/storage_root_id.h"
#include "service/handlers.h"
#include "service/request_body.h"
#include "service/response.h"
#include "service/token.h"
#include "storage/backend_registry.h"
#include "util/plural.h"

namespace ferry {

namespace {

using nlohmann::json;

class ImportJobsHandler {
 public:
  explicit ImportJobsHandler(VaultState& state) : state_(state) {}

  void AddOperator(RequestContext& context);
  void Create(RequestContext& context);
  void List(RequestContext& context);
  void Show(RequestContext& context);
  // Changes by the job's owner (or the admin): shipping and cancelling.
  void Ship(RequestContext& context);
  void Cancel(RequestContext& context);
  // Changes by the datacenter (operator or admin): job and drive states.
  void SetState(RequestContext& context);
  void UpdateDrive(RequestContext& context);

 private:
  // Admins and operators see every job, a machine only the jobs it created.
  static bool MaySee(const TokenRecord& token, const ImportJob& job) {
    return !token.machine ||
           (job.vault == token.machine->vault && job.machine == token.machine->name);
  }
  // Applies the deadlines that have passed, saving the result.
  Status ApplyJobDeadlines(ImportJob& job);
  // REQUIRES: jobs_mutex_ held.
  Result<ImportJob> LoadJob(const TokenRecord& token, const std::string& name);
  json JobJson(const ImportJob& job) const;
  // For operators: where the job's container is (container_location), and
  // for a directory root the root and its ID (storage_root, storage_root_id).
  void AddContainerLocation(const ImportJob& job, json& answer) const;
  // Ship (with `shipping`) or cancel (without).
  void ShipOrCancel(RequestContext& context, const std::optional<ShippingInfo>& shipping);

  VaultState& state_;
  std::mutex jobs_mutex_;  // serializes read-modify-write of import jobs
};

Status ImportJobsHandler::ApplyJobDeadlines(ImportJob& job) {
  if (ApplyDeadlines(job, state_.clock().NowNanos())) return state_.store().SaveImportJob(job);
  return Status::Ok();
}

// The job that `name` (from a request path) means to `token`: for a machine,
// its own job of that name (jobs are scoped by vault and machine, so it can
// neither reach nor learn of another machine's); for the admin and operators,
// VAULT:MACHINE:NAME, or NAME alone when that is unambiguous. Deadlines are
// applied (and saved).
Result<ImportJob> ImportJobsHandler::LoadJob(const TokenRecord& token, const std::string& name) {
  MetadataStore& store = state_.store();
  auto not_there = [&] { return Status::NotFound("there is no import job " + name); };
  Result<ImportJob> job = not_there();
  if (token.machine) {
    std::string key = name.find(':') == std::string::npos
                          ? QualifiedJobName(token.machine->vault, token.machine->name, name)
                          : name;
    job = store.LoadImportJob(key);
    if (job.ok() && !MaySee(token, *job)) job = not_there();  // not yours: not there
  } else {
    job = store.LoadImportJob(name);
    if (job.status().IsNotFound() && name.find(':') == std::string::npos) {
      ASSIGN_OR_RETURN(std::vector<ImportJob> jobs, store.ListImportJobs());
      std::vector<ImportJob> named;
      for (ImportJob& candidate : jobs)
        if (candidate.name == name) named.push_back(std::move(candidate));
      if (named.size() == 1) job = std::move(named[0]);
      if (named.size() > 1) {
        std::string which;
        for (const ImportJob& candidate : named)
          which += (which.empty() ? "" : ", ") + candidate.qualified_name();
        return Status::AlreadyExists(std::to_string(named.size()) + " import jobs are named " +
                                     name + " (" + which + "); name one as VAULT:MACHINE:NAME");
      }
    }
  }
  if (!job.ok()) return job.status().IsNotFound() ? not_there() : job.status();
  RETURN_IF_ERROR(ApplyJobDeadlines(*job));
  return job;
}

json ImportJobsHandler::JobJson(const ImportJob& job) const {
  json j = json::parse(EncodeImportJob(job));
  j["id"] = job.qualified_name();  // what the admin and operators may call it
  j["ship_to"] = state_.options().shipping_address;
  j["warnings"] = DeadlineWarnings(job, state_.clock().NowNanos());
  return j;
}

void ImportJobsHandler::AddOperator(RequestContext& context) {
  std::string token = GenerateToken();
  Status status = state_.store().AddToken(HashToken(token), TokenKind::kOperator, std::nullopt,
                                          state_.clock().NowNanos());
  if (!status.ok()) return SendStatus(context.response, status);
  SendJson(context.response, 201, {{"token", token}});
}

void ImportJobsHandler::Create(RequestContext& context) {
  httplib::Response& res = context.response;
  const TokenRecord& token = context.Token();
  auto request = ParseCreateJobRequest(context.body);
  if (!request.ok()) return SendError(res, 400, "bad_request", request.status().message());
  ImportJob job;
  job.name = request->name;
  job.storage_account = request->storage_account;
  job.container = request->container;
  job.public_key = request->public_key;
  job.drives = std::move(request->drives);
  if (token.machine) {
    job.vault = token.machine->vault;
    job.machine = token.machine->name;
  }
  job.created_ns = state_.clock().NowNanos();
  job.events.push_back({job.created_ns, "job created with " +
                                            Plural(job.drives.size(), "drive", "drives") +
                                            " for " + job.storage_account + "/" + job.container});
  std::lock_guard lock(jobs_mutex_);
  // The name is unique within the machine's scope only: a taken name is
  // always one of the caller's own jobs, so the 409 tells it nothing new.
  Status status = state_.store().CreateImportJob(job);
  if (!status.ok()) return SendStatus(res, status);
  SendJson(res, 201, JobJson(job));
}

void ImportJobsHandler::List(RequestContext& context) {
  std::lock_guard lock(jobs_mutex_);
  auto jobs = state_.store().ListImportJobs();
  if (!jobs.ok()) return SendStatus(context.response, jobs.status());
  json list = json::array();
  for (ImportJob& job : *jobs) {
    if (!MaySee(context.Token(), job)) continue;
    Status status = ApplyJobDeadlines(job);
    if (!status.ok()) return SendStatus(context.response, status);
    list.push_back(JobJson(job));
  }
  SendJson(context.response, 200, list);
}

void ImportJobsHandler::AddContainerLocation(const ImportJob& job, json& answer) const {
  auto location = ContainerLocation(state_.StorageRoot(), job.storage_account, job.container);
  auto root = ParseStorageLocation(state_.StorageRoot());
  if (!location.ok() || !root.ok()) return;
  answer["container_location"] = *location;
  if (root->scheme != "local") return;
  auto id = EnsureStorageRootId(root->address);
  if (!id.ok()) {
    std::fprintf(stderr, "storage root: %s\n", id.status().ToString().c_str());
    return;
  }
  answer["storage_root"] = root->address;
  answer["storage_root_id"] = *id;
}

void ImportJobsHandler::Show(RequestContext& context) {
  const TokenRecord& token = context.Token();
  std::lock_guard lock(jobs_mutex_);
  auto job = LoadJob(token, context.Param("job"));
  if (!job.ok()) return SendStatus(context.response, job.status());
  json answer = JobJson(*job);
  // The datacenter ingests into the container the vault adopts from:
  // operators and the admin learn where it is (a location holds no
  // credential; machines never see it, as no answer to them names the
  // vault's paths). A directory root comes with its ID, which ingest checks
  // wherever the root is mounted (seed/storage_root_id.h).
  if (token.kind == TokenKind::kOperator || token.kind == TokenKind::kAdmin)
    AddContainerLocation(*job, answer);
  SendJson(context.response, 200, answer);
}

void ImportJobsHandler::Ship(RequestContext& context) {
  auto parsed = ParseShipJobRequest(context.body);
  if (!parsed.ok())
    return SendError(context.response, 400, "bad_request", parsed.status().message());
  ShipOrCancel(context, std::move(*parsed));
}

void ImportJobsHandler::Cancel(RequestContext& context) { ShipOrCancel(context, std::nullopt); }

void ImportJobsHandler::ShipOrCancel(RequestContext& context,
                                     const std::optional<ShippingInfo>& shipping) {
  httplib::Response& res = context.response;
  std::lock_guard lock(jobs_mutex_);
  auto job = LoadJob(context.Token(), context.Param("job"));
  if (!job.ok()) return SendStatus(res, job.status());
  int64_t now = state_.clock().NowNanos();
  Status status = shipping
                      ? ShipJob(*job, *shipping, now)
                      : TransitionJob(*job, JobState::kCancelled, now, "cancelled by its owner");
  if (!status.ok()) return SendError(res, 409, "conflict", status.message());
  status = state_.store().SaveImportJob(*job);
  if (!status.ok()) return SendStatus(res, status);  // e.g. a tracking number of another job
  SendJson(res, 200, JobJson(*job));
}

void ImportJobsHandler::SetState(RequestContext& context) {
  httplib::Response& res = context.response;
  auto request = ParseJobStateRequest(context.body);
  if (!request.ok()) return SendError(res, 400, "bad_request", request.status().message());
  std::lock_guard lock(jobs_mutex_);
  auto job = LoadJob(context.Token(), context.Param("job"));
  if (!job.ok()) return SendStatus(res, job.status());
  Status status = TransitionJob(*job, request->state, state_.clock().NowNanos(), request->message);
  if (!status.ok()) return SendError(res, 409, "conflict", status.message());
  status = state_.store().SaveImportJob(*job);
  if (!status.ok()) return SendStatus(res, status);
  SendJson(res, 200, JobJson(*job));
}

void ImportJobsHandler::UpdateDrive(RequestContext& context) {
  httplib::Response& res = context.response;
  auto update = ParseDriveUpdateRequest(context.body);
  if (!update.ok()) return SendError(res, 400, "bad_request", update.status().message());
  std::lock_guard lock(jobs_mutex_);
  auto job = LoadJob(context.Token(), context.Param("job"));
  if (!job.ok()) return SendStatus(res, job.status());
  DriveRecord* drive = job->FindDrive(context.Param("drive"));
  if (!drive)
    return SendError(res, 404, "not_found",
                     "job " + job->name + " has no drive " + context.Param("drive"));
  if (update->state) {
    Status status = TransitionDrive(*job, *drive, *update->state, state_.clock().NowNanos(),
                                    update->reason.value_or(""));
    if (!status.ok()) return SendError(res, 409, "conflict", status.message());
  }
  if (update->bytes_succeeded) drive->bytes_succeeded = *update->bytes_succeeded;
  if (update->percent_complete) drive->percent_complete = *update->percent_complete;
  if (update->reason) drive->reason = *update->reason;
  if (update->missing) drive->missing = std::move(*update->missing);
  if (update->corrupt) drive->corrupt = std::move(*update->corrupt);
  if (update->unexpected) drive->unexpected = std::move(*update->unexpected);
  Status status = state_.store().SaveImportJob(*job);
  if (!status.ok()) return SendStatus(res, status);
  SendJson(res, 200, JobJson(*job));
}

// Who may call which import route, with the reason a refusal gives.
Access NotOperator(const std::string& refusal) {
  return Access::Token([refusal](const TokenRecord& token) {
    return token.kind == TokenKind::kOperator ? Status::PermissionDenied(refusal) : Status::Ok();
  });
}

Access Datacenter(const std::string& refusal) {
  return Access::Token([refusal](const TokenRecord& token) {
    return token.kind == TokenKind::kOperator || token.kind == TokenKind::kAdmin
               ? Status::Ok()
               : Status::PermissionDenied(refusal);
  });
}

}  // namespace

void AddImportJobRoutes(Router& router, VaultState& state) {
  auto handler = std::make_shared<ImportJobsHandler>(state);
  // Operators (datacenter staff) get their own token from the admin.
  router.Add("POST", "/import/v1/operators", Access::Admin(),
             [handler](RequestContext& context) { handler->AddOperator(context); });
  router.Add("POST", "/import/v1/jobs", NotOperator("operators do not create import jobs"),
             [handler](RequestContext& context) { handler->Create(context); });
  router.Add("GET", "/import/v1/jobs", Access::AnyToken(),
             [handler](RequestContext& context) { handler->List(context); });
  router.Add("GET", "/import/v1/jobs/{job}", Access::AnyToken(),
             [handler](RequestContext& context) { handler->Show(context); });
  const std::string owner_only = "shipping and cancelling are for the job's owner";
  router.Add("POST", "/import/v1/jobs/{job}/ship", NotOperator(owner_only),
             [handler](RequestContext& context) { handler->Ship(context); });
  router.Add("POST", "/import/v1/jobs/{job}/cancel", NotOperator(owner_only),
             [handler](RequestContext& context) { handler->Cancel(context); });
  router.Add("POST", "/import/v1/jobs/{job}/state",
             Datacenter("only the datacenter moves a job's state"),
             [handler](RequestContext& context) { handler->SetState(context); });
  router.Add("POST", "/import/v1/jobs/{job}/drives/{drive}",
             Datacenter("only the datacenter reports on drives"),
             [handler](RequestContext& context) { handler->UpdateDrive(context); });
}

}  // namespace ferry
