// ferry job list|show|create|ship|cancel: import jobs at the import service
// (/import/v1 on ferry serve). With --agent, as the machine (its own jobs);
// otherwise with the admin token.
#include <cstdio>

#include "cli/admin_client.h"
#include "cli/agent_credentials.h"
#include "cli/commands.h"
#include "cli/local_time.h"
#include "seed/import_job.h"
#include "util/clock.h"

namespace ferry {

namespace {

struct JobFlags {
  AdminFlags admin;
  std::string name;
  std::string storage_account;
  std::string container;
  std::string public_key;
  std::vector<std::string> drives;
  std::string carrier;
  std::string tracking;
  std::string return_address;
  std::string return_carrier_account;
};

// The machine's credentials when --agent is given, else the admin's.
Result<nlohmann::json> JobRequest(const GlobalOptions& global, const JobFlags& flags,
                                  const std::string& method, const std::string& path,
                                  const nlohmann::json& body = nullptr) {
  if (global.agent_file.empty()) return AdminRequest(flags.admin, method, path, body);
  ASSIGN_OR_RETURN(AgentCredentials agent, LoadAgentCredentials(global.agent_file));
  AdminFlags as_machine;
  as_machine.server = agent.server;
  as_machine.ca_file = agent.ca_file;
  as_machine.refused_token_hint = "the machine token in " + global.agent_file +
                                  " was refused: check the agent credentials file";
  return AdminRequestWithToken(as_machine, agent.token, method, path, body);
}

// The deadlines still ahead of `job` (seed/import_job.h), in local time: the
// tracking number until the job ships, then the drives' arrival.
std::vector<std::string> Deadlines(const nlohmann::json& job) {
  std::vector<std::string> deadlines;
  std::string state = job.value("state", "");
  int64_t created = 0, shipped = 0;
  if (state == "Creating" && ParseTimeRfc3339(job.value("created", ""), &created))
    deadlines.push_back("give a tracking number (ferry job ship) by " +
                        FormatTimeLocal(created + kTrackingDeadline) + ", or the job expires");
  if (!job.contains("shipping") || !ParseTimeRfc3339(job.value("shipped", ""), &shipped))
    return deadlines;
  std::vector<std::string> waiting;
  for (const auto& d : job["drives"])
    if (d.value("state", "") == "Specified") waiting.push_back(d.value("drive_id", ""));
  if (!waiting.empty()) {
    std::string drives;
    for (const std::string& id : waiting) drives += (drives.empty() ? "" : ", ") + id;
    deadlines.push_back(std::string(waiting.size() == 1 ? "drive " : "drives ") + drives +
                        " should arrive by " + FormatTimeLocal(shipped + kArrivalDeadline) +
                        ", or " + (waiting.size() == 1 ? "it becomes" : "they become") +
                        " NeverReceived");
  }
  return deadlines;
}

void PrintJob(const nlohmann::json& job) {
  std::printf("job %s: %s\n", job.value("name", "").c_str(), job.value("state", "").c_str());
  std::printf("  storage account %s, container %s\n", job.value("storage_account", "").c_str(),
              job.value("container", "").c_str());
  std::printf("  created %s", LocalTime(job.value("created", nlohmann::json())).c_str());
  if (!job.value("machine", "").empty())
    std::printf(" by machine %s (vault %s)", job.value("machine", "").c_str(),
                job.value("vault", "").c_str());
  std::printf("\n");
  if (job.contains("shipping")) {
    const auto& s = job["shipping"];
    std::printf("  shipped %s with %s, tracking number %s\n",
                LocalTime(job.value("shipped", nlohmann::json())).c_str(),
                s.value("carrier", "").c_str(), s.value("tracking_number", "").c_str());
    if (!s.value("return_address", "").empty())
      std::printf("  return address: %s\n", s.value("return_address", "").c_str());
  } else {
    std::printf("  ship the drives to: %s\n", job.value("ship_to", "").c_str());
  }
  std::printf("  %-20s %-18s %12s %8s  %s\n", "Drive", "State", "Bytes", "Done", "Notes");
  for (const auto& d : job["drives"]) {
    std::string notes = d.value("reason", "");
    for (const char* list : {"missing", "corrupt", "unexpected"})
      if (d.contains(list) && !d[list].empty())
        notes += (notes.empty() ? "" : "; ") + std::to_string(d[list].size()) + " " + list;
    std::printf("  %-20s %-18s %12s %7d%%  %s\n", d.value("drive_id", "").c_str(),
                d.value("state", "").c_str(), HumanBytes(d.value("bytes", 0ull)).c_str(),
                d.value("percent_complete", 0), notes.c_str());
  }
  for (const std::string& deadline : Deadlines(job))
    std::printf("  deadline: %s\n", deadline.c_str());
  for (const auto& warning : job["warnings"])
    std::printf("  WARNING: %s\n", warning.get<std::string>().c_str());
  std::printf("  events:\n");
  for (const auto& e : job["events"])
    std::printf("    %s  %s\n", LocalTime(e.value("time", nlohmann::json())).c_str(),
                e.value("message", "").c_str());
}

int Finish(const GlobalOptions& global, const Result<nlohmann::json>& answer, bool show) {
  if (!answer.ok()) return ReportError(global, answer.status());
  if (global.json)
    PrintJson(*answer);
  else if (show && !global.quiet)
    PrintJob(*answer);
  return kExitOk;
}

}  // namespace

void AddJobCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  CLI::App* job = app.add_subcommand("job", "Import jobs: shipping disks to the datacenter");
  job->require_subcommand(1);
  auto flags = std::make_shared<JobFlags>();

  CLI::App* list = job->add_subcommand("list", "List import jobs");
  AddAdminFlags(*list, flags->admin);
  commands.push_back(
      {list, [&global, flags]() -> int {
         auto answer = JobRequest(global, *flags, "GET", "/import/v1/jobs");
         if (!answer.ok() || global.json) return Finish(global, answer, false);
         std::printf("%-20s %-14s %-24s %-8s %s\n", "Job", "State", "Account/container", "Drives",
                     "Tracking");
         for (const auto& j : *answer)
           // The admin sees every machine's jobs, whose names may repeat:
           // show the name it must use (VAULT:MACHINE:NAME).
           std::printf(
               "%-20s %-14s %-24s %-8zu %s\n",
               j.value(global.agent_file.empty() ? "id" : "name", j.value("name", "")).c_str(),
               j.value("state", "").c_str(),
               (j.value("storage_account", "") + "/" + j.value("container", "")).c_str(),
               j["drives"].size(),
               j.contains("shipping") ? j["shipping"].value("tracking_number", "").c_str() : "-");
         return kExitOk;
       }});

  CLI::App* show = job->add_subcommand("show", "Show a job: states, drives, deadlines, events");
  show->add_option("name", flags->name, "Job name")->required();
  AddAdminFlags(*show, flags->admin);
  commands.push_back(
      {show, [&global, flags]() -> int {
         return Finish(global, JobRequest(global, *flags, "GET", "/import/v1/jobs/" + flags->name),
                       true);
       }});

  CLI::App* create = job->add_subcommand(
      "create", "Create an import job by hand (ferry diskprep normally does this)");
  create->add_option("name", flags->name, "Job name (unique among this machine's jobs)")
      ->required();
  create->add_option("--storage-account", flags->storage_account, "Storage account")->required();
  create->add_option("--container", flags->container, "Container in the storage account")
      ->required();
  create
      ->add_option("--public-key", flags->public_key, "The machine's manifest-signing key (base64)")
      ->required();
  create->add_option("--drive", flags->drives, "Drive ID (repeatable)");
  AddAdminFlags(*create, flags->admin);
  commands.push_back({create, [&global, flags]() -> int {
                        nlohmann::json drives = nlohmann::json::array();
                        for (const std::string& drive : flags->drives)
                          drives.push_back({{"drive_id", drive}});
                        return Finish(global,
                                      JobRequest(global, *flags, "POST", "/import/v1/jobs",
                                                 {{"name", flags->name},
                                                  {"storage_account", flags->storage_account},
                                                  {"container", flags->container},
                                                  {"public_key", flags->public_key},
                                                  {"drives", drives}}),
                                      true);
                      }});

  CLI::App* ship = job->add_subcommand("ship", "Give the shipment's carrier and tracking number");
  ship->add_option("name", flags->name, "Job name")->required();
  ship->add_option("--carrier", flags->carrier, "Carrier (DHL, UPS, FedEx, …)")->required();
  ship->add_option("--tracking", flags->tracking,
                   "Tracking number (unique across jobs; case and spaces do not count)")
      ->required();
  ship->add_option("--return-address", flags->return_address, "Where the drives go back to");
  ship->add_option("--return-carrier-account", flags->return_carrier_account,
                   "Carrier account that pays for the return");
  AddAdminFlags(*ship, flags->admin);
  commands.push_back({ship, [&global, flags]() -> int {
                        return Finish(
                            global,
                            JobRequest(global, *flags, "POST",
                                       "/import/v1/jobs/" + flags->name + "/ship",
                                       {{"carrier", flags->carrier},
                                        {"tracking_number", flags->tracking},
                                        {"return_address", flags->return_address},
                                        {"return_carrier_account", flags->return_carrier_account}}),
                            true);
                      }});

  CLI::App* cancel = job->add_subcommand("cancel", "Cancel a job (before the drives are received)");
  cancel->add_option("name", flags->name, "Job name")->required();
  AddAdminFlags(*cancel, flags->admin);
  commands.push_back({cancel, [&global, flags]() -> int {
                        return Finish(global,
                                      JobRequest(global, *flags, "POST",
                                                 "/import/v1/jobs/" + flags->name + "/cancel"),
                                      true);
                      }});
}

}  // namespace ferry
