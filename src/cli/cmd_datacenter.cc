// ferry datacenter operator-token|ingest: the datacenter's side of an offline
// seed. The admin issues operator tokens; an operator ingests the disks of a
// shipped job into the job's storage container (src/seed/ingest.h) and the
// import service records every drive's result.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "cli/admin_client.h"
#include "cli/commands.h"
#include "cli/progress_line.h"
#include "seed/ingest.h"
#include "util/file_util.h"
#include "util/plural.h"

namespace ferry {

namespace {

struct DatacenterFlags {
  AdminFlags admin;
  std::string out;
  std::string job;
  std::vector<std::string> disks;
  std::string operator_token_file;  // else FERRY_OPERATOR_TOKEN
  std::string storage_root;
  int threads = 4;
};

Result<std::string> OperatorToken(const DatacenterFlags& flags) {
  return ReadToken(flags.operator_token_file, "FERRY_OPERATOR_TOKEN",
                   "ingest needs an operator token: pass --operator-token-file or set "
                   "FERRY_OPERATOR_TOKEN (the vault's admin issues one with `ferry datacenter "
                   "operator-token`)");
}

// The import service over HTTP, with the operator's token.
class HttpImportService : public ImportService {
 public:
  HttpImportService(AdminFlags flags, std::string token)
      : flags_(std::move(flags)), token_(std::move(token)) {}

  Result<IngestJob> GetJob(const std::string& name) override {
    ASSIGN_OR_RETURN(nlohmann::json answer,
                     AdminRequestWithToken(flags_, token_, "GET", "/import/v1/jobs/" + name));
    if (!answer.is_object() || !answer.contains("drives") || !answer["drives"].is_array())
      return Status::Corruption(flags_.server + " answered with something that is not a job");
    IngestJob job;
    job.name = answer.value("name", "");
    // Ingest knows the job by its name (the one on the disks' labels); the
    // service by its id (VAULT:MACHINE:NAME), which stays unambiguous when
    // other machines have jobs of the same name.
    paths_[job.name] = "/import/v1/jobs/" + answer.value("id", job.name);
    ASSIGN_OR_RETURN(job.state, ParseJobState(answer.value("state", "")));
    job.storage_account = answer.value("storage_account", "");
    job.container = answer.value("container", "");
    job.public_key = answer.value("public_key", "");
    if (answer.contains("container_location") && answer["container_location"].is_string())
      job.container_location = answer["container_location"].get<std::string>();
    for (auto [field, value] : {std::pair{"storage_root", &job.storage_root},
                                std::pair{"storage_root_id", &job.storage_root_id}})
      if (answer.contains(field) && answer[field].is_string())
        *value = answer[field].get<std::string>();
    for (const auto& d : answer["drives"]) {
      if (!d.is_object()) continue;
      ASSIGN_OR_RETURN(DriveState state, ParseDriveState(d.value("state", "")));
      job.drives.push_back({d.value("drive_id", ""), state, d.value("manifest_hash", ""),
                            d.value("bytes", uint64_t{0})});
    }
    return job;
  }

  Status SetJobState(const std::string& job, JobState state, const std::string& message) override {
    return AdminRequestWithToken(flags_, token_, "POST", JobPath(job) + "/state",
                                 {{"state", JobStateName(state)}, {"message", message}})
        .status();
  }

  Status UpdateDrive(const std::string& job, const DriveUpdate& update) override {
    nlohmann::json body = {{"bytes_succeeded", update.bytes_succeeded},
                           {"percent_complete", update.percent_complete}};
    if (update.state) {
      body["state"] = DriveStateName(*update.state);
      body["reason"] = update.reason;
    }
    if (update.with_lists) {
      body["missing"] = update.missing;
      body["corrupt"] = update.corrupt;
      body["unexpected"] = update.unexpected;
    }
    return AdminRequestWithToken(flags_, token_, "POST",
                                 JobPath(job) + "/drives/" + update.drive_id, body)
        .status();
  }

 private:
  std::string JobPath(const std::string& job) const {
    auto it = paths_.find(job);
    return it != paths_.end() ? it->second : "/import/v1/jobs/" + job;
  }

  AdminFlags flags_;
  std::string token_;
  std::map<std::string, std::string> paths_;  // job name → its URL, from GetJob
};

nlohmann::json DriveJson(const DriveReport& drive) {
  nlohmann::json j = {
      {"disk", drive.disk},
      {"drive_id", drive.drive_id},
      {"state", drive.state.empty() ? nlohmann::json(nullptr) : nlohmann::json(drive.state)},
      {"reason", drive.reason},
      {"already_done", drive.already_done},
      {"files_listed", drive.files_listed},
      {"bytes_listed", drive.bytes_listed},
      {"files_copied", drive.files_copied},
      {"bytes_copied", drive.bytes_copied},
      {"files_present", drive.files_present},
      {"bytes_present", drive.bytes_present},
      {"missing", drive.missing},
      {"corrupt", drive.corrupt},
      {"unexpected", drive.unexpected}};
  return j;
}

void PrintReport(const IngestReport& report, double seconds) {
  for (const DriveReport& drive : report.drives) {
    if (drive.state.empty()) {
      std::printf("disk %s: skipped: %s\n", drive.disk.c_str(), drive.reason.c_str());
      continue;
    }
    std::printf("drive %s (%s): %s%s%s\n", drive.drive_id.c_str(), drive.disk.c_str(),
                drive.state.c_str(), drive.reason.empty() ? "" : ": ", drive.reason.c_str());
    if (drive.already_done) continue;
    if (drive.files_listed)
      std::printf("  %s (%s) listed: %llu copied (%s), %llu already in the container\n",
                  Plural(drive.files_listed, "file", "files").c_str(),
                  HumanBytes(drive.bytes_listed).c_str(),
                  static_cast<unsigned long long>(drive.files_copied),
                  HumanBytes(drive.bytes_copied).c_str(),
                  static_cast<unsigned long long>(drive.files_present));
    for (const std::string& id : drive.missing) std::printf("  missing:    %s\n", id.c_str());
    for (const std::string& id : drive.corrupt) std::printf("  corrupt:    %s\n", id.c_str());
    for (const std::string& path : drive.unexpected)
      std::printf("  unexpected: %s\n", path.c_str());
  }
  for (const std::string& drive : report.never_received)
    std::printf("drive %s: NeverReceived: not in the package\n", drive.c_str());
  double rate = seconds > 0 ? static_cast<double>(report.bytes_copied) / seconds : 0;
  std::printf("job %s: %s; %s copied into %s in %s (%s/s)\n", report.job.c_str(),
              report.job_state.c_str(), HumanBytes(report.bytes_copied).c_str(),
              report.container.c_str(), HumanDuration(seconds).c_str(),
              HumanBytes(static_cast<uint64_t>(rate)).c_str());
}

int RunIngest(const GlobalOptions& global, const DatacenterFlags& flags) {
  auto token = OperatorToken(flags);
  if (!token.ok()) return ReportError(global, token.status());
  AdminFlags admin = flags.admin;
  admin.refused_token_hint =
      (flags.operator_token_file.empty() ? std::string("the operator token in FERRY_OPERATOR_TOKEN")
                                         : "the operator token in " + flags.operator_token_file) +
      " was refused: check that `ferry datacenter operator-token` issued it for the ferry "
      "serve at " +
      admin.server;
  HttpImportService service(admin, *token);
  IngestOptions options;
  options.job = flags.job;
  options.disks = flags.disks;
  options.storage_root = flags.storage_root;
  options.copy_threads = flags.threads;
  options.interrupt = &InterruptFlag();
  options.say = [&global](const std::string& line) { Say(global, line); };
  IngestProgress progress;
  auto started = std::chrono::steady_clock::now();
  Result<IngestReport> report = Status::Internal("not run");
  {
    auto drive_label = [&progress] {
      std::lock_guard lock(progress.mutex);
      return progress.drive_id;
    };
    ProgressLine line(
        global,
        [&](double elapsed) {
          uint64_t done = progress.bytes_done, total = progress.bytes_total;
          return "drive " + drive_label() + ": " + HumanBytes(done) + " / " + HumanBytes(total) +
                 ", " + RateAndEta(progress.bytes_copied, total, elapsed, false);
        },
        [&](double) {
          return nlohmann::json{{"drive_id", drive_label()},
                                {"bytes_done", progress.bytes_done.load()},
                                {"bytes_total", progress.bytes_total.load()},
                                {"bytes_copied", progress.bytes_copied.load()}};
        });
    report = Ingest(options, service, &progress);
  }
  if (!report.ok()) return ReportError(global, report.status());
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (global.json) {
    nlohmann::json drives = nlohmann::json::array();
    for (const DriveReport& drive : report->drives) drives.push_back(DriveJson(drive));
    PrintJson({{"message_type", "summary"},
               {"job", report->job},
               {"job_state", report->job_state},
               {"container", report->container},
               {"bytes_copied", report->bytes_copied},
               {"seconds", seconds},
               {"drives", drives},
               {"never_received", report->never_received},
               {"complete", report->AllCompleted()}});
  } else if (!global.quiet) {
    PrintReport(*report, seconds);
  }
  return report->AllCompleted() ? kExitOk : kExitIncomplete;
}

}  // namespace

void AddDatacenterCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  CLI::App* datacenter =
      app.add_subcommand("datacenter", "The datacenter's side of an offline seed: ingest disks");
  datacenter->require_subcommand(1);
  auto flags = std::make_shared<DatacenterFlags>();

  CLI::App* token = datacenter->add_subcommand(
      "operator-token", "Issue a datacenter operator token (needs the admin token)");
  token->add_option("--out", flags->out, "Write the token to this file (mode 0600)");
  AddAdminFlags(*token, flags->admin);
  commands.push_back(
      {token, [&global, flags]() -> int {
         auto answer =
             AdminRequest(flags->admin, "POST", "/import/v1/operators", nlohmann::json::object());
         if (!answer.ok()) return ReportError(global, answer.status());
         std::string value = answer->value("token", "");
         if (value.empty())
           return ReportError(global, Status::Corruption("the server's answer holds no token"));
         if (flags->out.empty()) {
           if (global.json)
             PrintJson({{"token", value}});
           else
             std::printf("%s\n", value.c_str());
           return kExitOk;
         }
         Status status = WriteFileAtomic(flags->out, AsBytes(value + "\n"), 0600);
         if (!status.ok()) return ReportError(global, status);
         if (global.json)
           PrintJson({{"token_file", flags->out}});
         else
           Say(global, "operator token written to " + flags->out + " (keep it private)");
         return kExitOk;
       }});

  CLI::App* ingest = datacenter->add_subcommand(
      "ingest", "Verify a job's shipped disks and copy their packs into its storage container");
  ingest->add_option("job", flags->job, "Import job name")->required();
  ingest->add_option("--disk", flags->disks, "A disk's mount point (repeatable)")->required();
  ingest
      ->add_option("--storage-root", flags->storage_root,
                   "Storage account root, any storage location (a directory, azure://…, "
                   "s3://…): the job's container is ROOT/ACCOUNT/CONTAINER. Default: where the "
                   "import service keeps it")
      ->envname("FERRY_STORAGE_ROOT");
  ingest
      ->add_option("--operator-token-file", flags->operator_token_file,
                   "File holding the operator token (else FERRY_OPERATOR_TOKEN)")
      ->envname("FERRY_OPERATOR_TOKEN_FILE");
  ingest->add_option("--server", flags->admin.server, "Import service URL")
      ->envname("FERRY_SERVER");
  ingest
      ->add_option("--ca-file", flags->admin.ca_file,
                   "CA certificate (PEM) to verify an https server with a private CA")
      ->envname("FERRY_CA_FILE");
  ingest->add_option("--threads", flags->threads, "Packs copied at once (default 4)")
      ->check(CLI::Range(1, 64));
  commands.push_back({ingest, [&global, flags]() -> int { return RunIngest(global, *flags); }});
}

}  // namespace ferry
