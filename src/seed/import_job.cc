#include "seed/import_job.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "util/clock.h"

namespace ferry {

namespace {

constexpr const char* kJobStates[] = {"Creating",     "Shipping",  "Received",
                                      "Transferring", "Packaging", "Completed",
                                      "Closed",       "Cancelled", "Expired"};
constexpr const char* kDriveStates[] = {"Specified",     "Received",          "Transferring",
                                        "Completed",     "CompletedMoreInfo", "Failed",
                                        "NeverReceived", "ShippedBack"};

bool Allowed(JobState from, JobState to) {
  using S = JobState;
  switch (from) {
    case S::kCreating:
      return to == S::kShipping || to == S::kCancelled || to == S::kExpired;
    case S::kShipping:
      return to == S::kReceived || to == S::kCancelled;
    case S::kReceived:
      return to == S::kTransferring;
    case S::kTransferring:
      return to == S::kPackaging;
    case S::kPackaging:
      return to == S::kCompleted || to == S::kClosed;
    default:
      return false;  // Completed, Closed, Cancelled, Expired are final
  }
}

bool Allowed(DriveState from, DriveState to) {
  using D = DriveState;
  switch (from) {
    case D::kSpecified:
      return to == D::kReceived || to == D::kNeverReceived;
    case D::kNeverReceived:
      return to == D::kReceived;  // late arrival
    case D::kReceived:
      return to == D::kTransferring || to == D::kFailed;
    case D::kTransferring:
      return to == D::kCompleted || to == D::kCompletedMoreInfo || to == D::kFailed;
    case D::kCompleted:
    case D::kCompletedMoreInfo:
    case D::kFailed:
      return to == D::kShippedBack;
    default:
      return false;
  }
}

void AddEvent(ImportJob& job, int64_t now_ns, std::string message) {
  job.events.push_back({now_ns, std::move(message)});
}

}  // namespace

const char* JobStateName(JobState state) { return kJobStates[static_cast<int>(state)]; }
const char* DriveStateName(DriveState state) { return kDriveStates[static_cast<int>(state)]; }

Result<JobState> ParseJobState(const std::string& name) {
  auto it = std::find(std::begin(kJobStates), std::end(kJobStates), name);
  if (it == std::end(kJobStates))
    return Status::InvalidArgument("unknown job state '" + name + "'");
  return static_cast<JobState>(it - std::begin(kJobStates));
}

Result<DriveState> ParseDriveState(const std::string& name) {
  auto it = std::find(std::begin(kDriveStates), std::end(kDriveStates), name);
  if (it == std::end(kDriveStates))
    return Status::InvalidArgument("unknown drive state '" + name + "'");
  return static_cast<DriveState>(it - std::begin(kDriveStates));
}

DriveRecord* ImportJob::FindDrive(const std::string& drive_id) {
  for (DriveRecord& drive : drives)
    if (drive.drive_id == drive_id) return &drive;
  return nullptr;
}

Status CheckJobTransition(JobState from, JobState to) {
  if (Allowed(from, to)) return Status::Ok();
  return Status::InvalidArgument(std::string("a job cannot go from ") + JobStateName(from) +
                                 " to " + JobStateName(to));
}

Status CheckDriveTransition(DriveState from, DriveState to) {
  if (Allowed(from, to)) return Status::Ok();
  return Status::InvalidArgument(std::string("a drive cannot go from ") + DriveStateName(from) +
                                 " to " + DriveStateName(to));
}

Status TransitionJob(ImportJob& job, JobState to, int64_t now_ns, const std::string& why) {
  RETURN_IF_ERROR(CheckJobTransition(job.state, to).WithContext("job " + job.name));
  AddEvent(job, now_ns,
           std::string("job ") + JobStateName(job.state) + " → " + JobStateName(to) +
               (why.empty() ? "" : ": " + why));
  job.state = to;
  return Status::Ok();
}

Status TransitionDrive(ImportJob& job, DriveRecord& drive, DriveState to, int64_t now_ns,
                       const std::string& why) {
  RETURN_IF_ERROR(CheckDriveTransition(drive.state, to).WithContext("drive " + drive.drive_id));
  AddEvent(job, now_ns,
           "drive " + drive.drive_id + " " + DriveStateName(drive.state) + " → " +
               DriveStateName(to) + (why.empty() ? "" : ": " + why));
  drive.state = to;
  return Status::Ok();
}

std::string QualifiedJobName(const std::string& vault, const std::string& machine,
                             const std::string& name) {
  if (vault.empty() && machine.empty()) return name;
  return vault + ":" + machine + ":" + name;
}

std::string NormalizeTrackingNumber(std::string_view tracking_number) {
  std::string normalized;
  for (char c : tracking_number) {
    if (c == ' ' || c == '\t') continue;
    normalized += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return normalized;
}

Status ShipJob(ImportJob& job, const ShippingInfo& shipping, int64_t now_ns) {
  ApplyDeadlines(job, now_ns);
  if (job.state == JobState::kExpired)
    return Status::InvalidArgument("job " + job.name + " expired on " +
                                   FormatTimeRfc3339(job.created_ns + kTrackingDeadline) +
                                   " without a tracking number; create a new job");
  if (job.state != JobState::kCreating && job.state != JobState::kShipping)
    return Status::InvalidArgument(std::string("job ") + job.name + " is " +
                                   JobStateName(job.state) +
                                   "; shipping information can only be given before the "
                                   "datacenter receives the drives");
  if (shipping.carrier.empty() || shipping.tracking_number.empty())
    return Status::InvalidArgument("shipping needs a carrier and a tracking number");
  bool correction = job.shipping.has_value();
  job.shipping = shipping;
  if (job.state == JobState::kCreating) {
    job.shipped_ns = now_ns;
    RETURN_IF_ERROR(TransitionJob(job, JobState::kShipping, now_ns,
                                  shipping.carrier + " tracking " + shipping.tracking_number));
  } else if (correction) {
    AddEvent(job, now_ns,
             "shipping information corrected: " + shipping.carrier + " tracking " +
                 shipping.tracking_number);
  }
  return Status::Ok();
}

bool ApplyDeadlines(ImportJob& job, int64_t now_ns) {
  bool changed = false;
  if (job.state == JobState::kCreating && !job.shipping &&
      now_ns >= job.created_ns + kTrackingDeadline) {
    TransitionJob(job, JobState::kExpired, now_ns, "no tracking number within 14 days")
        .IgnoreError();  // Creating → Expired is always legal
    changed = true;
  }
  if (job.state == JobState::kShipping && now_ns >= job.shipped_ns + kArrivalDeadline) {
    for (DriveRecord& drive : job.drives) {
      if (drive.state != DriveState::kSpecified) continue;
      TransitionDrive(job, drive, DriveState::kNeverReceived, now_ns,
                      "not received 14 days after shipping")
          .IgnoreError();  // Specified → NeverReceived is always legal
      changed = true;
    }
  }
  return changed;
}

std::vector<std::string> DeadlineWarnings(const ImportJob& job, int64_t now_ns) {
  std::vector<std::string> warnings;
  auto days_left = [&](int64_t deadline) {
    return std::to_string((deadline - now_ns + kDay - 1) / kDay);
  };
  if (job.state == JobState::kCreating && !job.shipping) {
    int64_t deadline = job.created_ns + kTrackingDeadline;
    if (deadline - now_ns <= kDeadlineWarning)
      warnings.push_back("job " + job.name + " expires in " + days_left(deadline) +
                         " day(s) unless a tracking number is given (ferry job ship)");
  }
  if (job.state == JobState::kShipping) {
    int64_t deadline = job.shipped_ns + kArrivalDeadline;
    if (deadline - now_ns <= kDeadlineWarning)
      for (const DriveRecord& drive : job.drives)
        if (drive.state == DriveState::kSpecified)
          warnings.push_back("drive " + drive.drive_id + " becomes NeverReceived in " +
                             days_left(deadline) + " day(s)");
  }
  return warnings;
}

std::string EncodeImportJob(const ImportJob& job) {
  nlohmann::json drives = nlohmann::json::array();
  for (const DriveRecord& d : job.drives)
    drives.push_back({{"drive_id", d.drive_id},
                      {"state", DriveStateName(d.state)},
                      {"manifest_hash", d.manifest_hash},
                      {"bytes", d.bytes},
                      {"bytes_succeeded", d.bytes_succeeded},
                      {"percent_complete", d.percent_complete},
                      {"reason", d.reason},
                      {"missing", d.missing},
                      {"corrupt", d.corrupt},
                      {"unexpected", d.unexpected}});
  nlohmann::json events = nlohmann::json::array();
  for (const JobEvent& e : job.events)
    events.push_back({{"time", FormatTimeRfc3339(e.time_ns)}, {"message", e.message}});
  nlohmann::json j = {{"name", job.name},
                      {"storage_account", job.storage_account},
                      {"container", job.container},
                      {"public_key", job.public_key},
                      {"vault", job.vault},
                      {"machine", job.machine},
                      {"state", JobStateName(job.state)},
                      {"created", FormatTimeRfc3339(job.created_ns)},
                      {"drives", drives},
                      {"events", events}};
  if (job.shipping) {
    j["shipping"] = {{"carrier", job.shipping->carrier},
                     {"tracking_number", job.shipping->tracking_number},
                     {"return_address", job.shipping->return_address},
                     {"return_carrier_account", job.shipping->return_carrier_account}};
    j["shipped"] = FormatTimeRfc3339(job.shipped_ns);
  }
  return j.dump();
}

Result<ImportJob> ParseImportJob(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("import job is not JSON");
  ImportJob job;
  try {
    job.name = j.at("name");
    job.storage_account = j.at("storage_account");
    job.container = j.at("container");
    job.public_key = j.at("public_key");
    job.vault = j.value("vault", "");
    job.machine = j.value("machine", "");
    ASSIGN_OR_RETURN(job.state, ParseJobState(j.at("state")));
    if (!ParseTimeRfc3339(j.at("created"), &job.created_ns))
      return Status::Corruption("import job has a bad creation time");
    if (j.contains("shipping")) {
      const auto& s = j["shipping"];
      job.shipping =
          ShippingInfo{s.at("carrier"), s.at("tracking_number"), s.value("return_address", ""),
                       s.value("return_carrier_account", "")};
      ParseTimeRfc3339(j.at("shipped"), &job.shipped_ns);
    }
    for (const auto& d : j.at("drives")) {
      DriveRecord drive;
      drive.drive_id = d.at("drive_id");
      ASSIGN_OR_RETURN(drive.state, ParseDriveState(d.at("state")));
      drive.manifest_hash = d.value("manifest_hash", "");
      drive.bytes = d.value("bytes", uint64_t{0});
      drive.bytes_succeeded = d.value("bytes_succeeded", uint64_t{0});
      drive.percent_complete = d.value("percent_complete", 0);
      drive.reason = d.value("reason", "");
      drive.missing = d.value("missing", std::vector<std::string>{});
      drive.corrupt = d.value("corrupt", std::vector<std::string>{});
      drive.unexpected = d.value("unexpected", std::vector<std::string>{});
      job.drives.push_back(std::move(drive));
    }
    for (const auto& e : j.at("events")) {
      JobEvent event;
      ParseTimeRfc3339(e.at("time"), &event.time_ns);
      event.message = e.at("message");
      job.events.push_back(std::move(event));
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("import job: ") + e.what());
  }
  return job;
}

}  // namespace ferry
