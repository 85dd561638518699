// ferry diskprep: puts a staging directory's packs on shipping disks, reads
// every copy back, signs a manifest per disk and creates the import job as
// the machine (--agent). The work is in seed/disk_prep.h; this file asks the
// questions (disks, erasing, another disk, shipping), talks to the import
// service and prints.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/agent_credentials.h"
#include "cli/commands.h"
#include "cli/progress_line.h"
#include "cli/seed_client.h"
#include "seed/disk_prep.h"
#include "seed/staging.h"
#include "util/file_util.h"
#include "util/plural.h"

namespace ferry {

namespace {

// The work done, in the units of bytes_total: each byte is written, then read
// back, so each pass counts half (direct-to-device only reads back). A rate
// over this moves as soon as copying starts; over the read-back alone it
// showed 0 B/s until the first packs had been written whole.
uint64_t DiskPrepWorkDone(const DiskPrepProgress& progress) {
  uint64_t total = progress.bytes_total;
  uint64_t copied = std::min<uint64_t>(progress.bytes_copied, total);
  uint64_t verified = std::min<uint64_t>(progress.bytes_verified, total);
  return copied == 0 ? verified : (copied + verified) / 2;
}

struct DiskPrepFlags {
  std::string staging;
  std::vector<std::string> disks;
  bool yes = false;
  std::string max_per_disk;
  std::string signing_key;
};

bool Interactive() { return isatty(STDIN_FILENO) != 0; }

// Asks on the terminal; nullopt at end of input.
std::optional<std::string> Ask(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  while (!line.empty() && line.front() == ' ') line.erase(0, 1);
  return line;
}

bool AskYes(const std::string& prompt) {
  std::optional<std::string> answer = Ask(prompt);
  return answer && (*answer == "y" || *answer == "Y" || *answer == "yes");
}

std::string ShellQuote(const std::string& text) {
  bool plain = !text.empty();
  for (char c : text)
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || std::strchr("/._-+=:,@", c));
  if (plain) return text;
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// ${XDG_CONFIG_HOME:-$HOME/.config}/ferry/signing-key.json: beside the
// machine's other client state, never in staging or on a disk.
std::string DefaultSigningKeyPath() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  std::string base =
      xdg && *xdg ? xdg : std::string(std::getenv("HOME") ? std::getenv("HOME") : ".") + "/.config";
  return base + "/ferry/signing-key.json";
}

ImportJobInfo JobFromJson(const nlohmann::json& j) {
  ImportJobInfo job;
  job.name = j.value("name", "");
  job.state = j.value("state", "");
  job.public_key = j.value("public_key", "");
  job.ship_to = j.value("ship_to", "");
  if (j.contains("drives") && j["drives"].is_array())
    for (const auto& d : j["drives"])
      job.drives.push_back(
          {d.value("drive_id", ""), d.value("bytes", uint64_t{0}), d.value("manifest_hash", "")});
  return job;
}

// The import service as the machine whose credentials --agent names.
class AgentImportJobs : public ImportJobClient {
 public:
  explicit AgentImportJobs(AgentCredentials agent) : agent_(std::move(agent)) {}

  Result<std::optional<ImportJobInfo>> Find(const std::string& name) override {
    auto answer = AgentRequest(agent_, "GET", "/import/v1/jobs/" + name);
    if (!answer.ok()) {
      if (answer.status().IsNotFound()) return std::optional<ImportJobInfo>();
      return answer.status();
    }
    return std::optional<ImportJobInfo>(JobFromJson(*answer));
  }

  Result<ImportJobInfo> Create(const ImportJobRequest& request) override {
    nlohmann::json drives = nlohmann::json::array();
    for (const ImportJobDrive& d : request.drives)
      drives.push_back(
          {{"drive_id", d.drive_id}, {"bytes", d.bytes}, {"manifest_hash", d.manifest_hash}});
    ASSIGN_OR_RETURN(nlohmann::json answer,
                     AgentRequest(agent_, "POST", "/import/v1/jobs",
                                  {{"name", request.name},
                                   {"storage_account", request.storage_account},
                                   {"container", request.container},
                                   {"public_key", request.public_key},
                                   {"drives", drives}}));
    return JobFromJson(answer);
  }

  Result<nlohmann::json> Ship(const std::string& name, const nlohmann::json& body) {
    return AgentRequest(agent_, "POST", "/import/v1/jobs/" + name + "/ship", body);
  }

 private:
  AgentCredentials agent_;
};

// The command line that continues this run with one more disk.
std::string ContinueCommand(const GlobalOptions& global, const DiskPrepFlags& flags,
                            const std::vector<std::string>& disks) {
  std::string line = "ferry --agent " + ShellQuote(global.agent_file) + " diskprep --staging " +
                     ShellQuote(flags.staging);
  for (const std::string& disk : disks) line += " --disk " + ShellQuote(disk);
  line += " --disk ANOTHER-DISK";
  if (!flags.max_per_disk.empty()) line += " --max-per-disk " + ShellQuote(flags.max_per_disk);
  if (!flags.signing_key.empty()) line += " --signing-key " + ShellQuote(flags.signing_key);
  return line;
}

int Offer(const GlobalOptions& global, AgentImportJobs& jobs, const ImportJobInfo& job) {
  std::string command = "ferry --agent " + ShellQuote(global.agent_file) + " job ship " +
                        ShellQuote(job.name) +
                        " --carrier CARRIER --tracking NUMBER --return-address ADDRESS";
  if (job.state != "Creating") return kExitOk;  // shipped already
  if (!Interactive() || global.quiet) {
    Say(global, "When the disks are on their way, give the carrier and tracking number:");
    Say(global, "  " + command);
    return kExitOk;
  }
  if (!AskYes("Enter the shipping details now? [y/N] ")) {
    std::printf("Later, run:\n  %s\n", command.c_str());
    return kExitOk;
  }
  std::optional<std::string> carrier = Ask("Carrier (DHL, UPS, FedEx, …): ");
  std::optional<std::string> tracking = Ask("Tracking number: ");
  std::optional<std::string> address = Ask("Return address for the disks: ");
  if (!carrier || !tracking || carrier->empty() || tracking->empty()) {
    std::printf("No shipment recorded. Later, run:\n  %s\n", command.c_str());
    return kExitOk;
  }
  auto shipped = jobs.Ship(job.name, {{"carrier", *carrier},
                                      {"tracking_number", *tracking},
                                      {"return_address", address.value_or("")},
                                      {"return_carrier_account", ""}});
  if (!shipped.ok()) return ReportError(global, shipped.status());
  std::printf("Job %s is %s: %s tracking number %s.\n", job.name.c_str(),
              shipped->value("state", "").c_str(), carrier->c_str(), tracking->c_str());
  return kExitOk;
}

int RunDiskPrep(const GlobalOptions& global, DiskPrepFlags& flags) {
  if (global.agent_file.empty())
    return ReportError(
        global, Status::InvalidArgument("diskprep creates the import job as this machine: pass "
                                        "--agent FILE or set FERRY_AGENT (the credentials of "
                                        "'ferry machine register')"));
  auto agent = LoadAgentCredentials(global.agent_file);
  if (!agent.ok()) return ReportError(global, agent.status());
  auto staging = ReadStagingInfo(flags.staging);
  if (!staging.ok()) return ReportError(global, staging.status());
  if (TrimSlash(staging->server) != TrimSlash(agent->server) || staging->vault != agent->vault ||
      staging->machine != agent->machine)
    return ReportError(
        global, Status::InvalidArgument(
                    "staging " + flags.staging + " was written for machine " + staging->machine +
                    " of vault " + staging->vault + " at " + staging->server + ", but " +
                    global.agent_file + " is machine " + agent->machine + " of vault " +
                    agent->vault + " at " + agent->server +
                    ": use the credentials of the machine that made the offline backup"));

  DiskPrepOptions options;
  options.staging = flags.staging;
  options.interrupted = &InterruptFlag();
  if (!flags.max_per_disk.empty()) {
    auto size = ParseByteSize(flags.max_per_disk);
    if (!size.ok()) return ReportError(global, size.status().WithContext("--max-per-disk"));
    options.max_per_disk = *size;
  }
  // --signing-key, or FERRY_SIGNING_KEY through the option's envname.
  std::string key_path = flags.signing_key.empty() ? DefaultSigningKeyPath() : flags.signing_key;
  if (size_t slash = key_path.rfind('/'); slash != std::string::npos && slash > 0) {
    Status made = MakeDirectories(key_path.substr(0, slash), 0700);
    if (!made.ok()) return ReportError(global, made);
  }
  auto key = LoadOrCreateSigningKey(key_path);
  if (!key.ok()) return ReportError(global, key.status().WithContext("signing key " + key_path));
  options.signing_key = *key;

  options.disks = flags.disks;
  bool interactive = Interactive();
  if (options.disks.empty() && interactive) {
    for (int n = 1;; ++n) {
      std::optional<std::string> path =
          Ask("Path of disk " + std::to_string(n) + " (empty to finish): ");
      if (!path || path->empty()) break;
      options.disks.push_back(*path);
    }
  }
  if (options.disks.empty())
    return ReportError(
        global, Status::InvalidArgument("no disks given: name each mounted disk with --disk PATH "
                                        "(or the staging directory itself, if it is the disk)"));

  DiskPrepHooks hooks;
  hooks.warn = [&](const std::string& message) { Warn(global, message); };
  hooks.confirm_erase = [&](const std::string& disk, const ForeignFiles& foreign) -> Status {
    std::string named;
    for (const std::string& path : foreign.examples) named += (named.empty() ? "" : ", ") + path;
    if (foreign.files > foreign.examples.size())
      named += " and " + std::to_string(foreign.files - foreign.examples.size()) + " more";
    std::string what = "disk " + disk + " holds " + Plural(foreign.files, "file", "files") + " (" +
                       HumanBytes(foreign.bytes) + ") that " + (foreign.files == 1 ? "is" : "are") +
                       " not ferry's: " + named;
    if (flags.yes) return Status::Ok();
    if (!interactive)
      return Status::InvalidArgument(what + ": pass --yes to erase them, or use an empty disk");
    if (AskYes(what + ": erase them? [y/N] ")) return Status::Ok();
    return Status::InvalidArgument(what + ": not erased; use another disk");
  };
  if (interactive)
    hooks.another_disk = [&](uint64_t packs, uint64_t bytes) -> std::optional<std::string> {
      std::optional<std::string> path =
          Ask("All disks are full: " + Plural(packs, "pack", "packs") + " (" + HumanBytes(bytes) +
              ") still " + (packs == 1 ? "needs" : "need") +
              " a disk. Path of another disk (empty to stop): ");
      if (!path || path->empty()) return std::nullopt;
      return path;
    };

  DiskPrepProgress progress;
  std::unique_ptr<ProgressLine> line;
  hooks.start_copy = [&] {
    line = std::make_unique<ProgressLine>(
        global,
        [&progress](double elapsed) {
          uint64_t total = progress.bytes_total;
          return "diskprep: " + std::to_string(progress.packs_done.load()) + "/" +
                 Plural(progress.packs_total.load(), "pack", "packs") + ", copied " +
                 HumanBytes(progress.bytes_copied) + ", verified " +
                 HumanBytes(progress.bytes_verified) + " / " + HumanBytes(total) + ", " +
                 RateAndEta(DiskPrepWorkDone(progress), total, elapsed, true);
        },
        [&progress](double elapsed) {
          uint64_t done = DiskPrepWorkDone(progress), total = progress.bytes_total;
          double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
          return nlohmann::json{
              {"packs_done", progress.packs_done.load()},
              {"packs_total", progress.packs_total.load()},
              {"bytes_copied", progress.bytes_copied.load()},
              {"bytes_verified", progress.bytes_verified.load()},
              {"bytes_total", total},
              {"bytes_per_second", static_cast<uint64_t>(rate)},
              {"eta_seconds", rate > 0 && total > done
                                  ? nlohmann::json(static_cast<double>(total - done) / rate)
                                  : nlohmann::json(nullptr)}};
        });
  };

  AgentImportJobs jobs(*agent);
  auto started = std::chrono::steady_clock::now();
  auto result = PrepareDisks(options, hooks, jobs, progress);
  line.reset();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!result.ok()) return ReportError(global, result.status());

  if (!result->complete) {
    std::string message =
        "all disks are full: " + Plural(result->packs_left, "pack", "packs") + " (" +
        HumanBytes(result->bytes_left) + ", " + std::to_string(result->bytes_left) + " bytes) " +
        (result->packs_left == 1 ? "is" : "are") + " still on no disk. Nothing is lost: the " +
        Plural(result->packs_copied + result->packs_already_done + result->packs_reverified,
               "pack on the disks is", "packs on the disks are") +
        " verified and journalled. Add a disk and run again:\n  " +
        ContinueCommand(global, flags, result->disks_used);
    if (global.json)
      PrintJson({{"message_type", "error"},
                 {"message", message},
                 {"exit_code", static_cast<int>(kExitIncomplete)},
                 {"packs_left", result->packs_left},
                 {"bytes_left", result->bytes_left}});
    else
      std::fprintf(stderr, "ferry: %s\n", message.c_str());
    return kExitIncomplete;
  }

  const ImportJobInfo& job = *result->job;
  if (global.json) {
    nlohmann::json disks = nlohmann::json::array();
    for (const PreparedDisk& d : result->disks)
      disks.push_back({{"path", d.path},
                       {"drive_id", d.drive_id},
                       {"disk_number", d.disk_number},
                       {"disk_count", d.disk_count},
                       {"files", d.files},
                       {"bytes", d.bytes},
                       {"manifest_hash", d.manifest_hash}});
    PrintJson({{"message_type", "summary"},
               {"job", job.name},
               {"state", job.state},
               {"created", !result->job_existed},
               {"direct", result->direct},
               {"ship_to", job.ship_to},
               {"disks", disks},
               {"packs_copied", result->packs_copied},
               {"bytes_copied", result->bytes_copied},
               {"packs_reverified", result->packs_reverified},
               {"packs_already_done", result->packs_already_done},
               {"seconds", seconds}});
    return kExitOk;
  }
  uint64_t total = 0, packs = 0;
  for (const PreparedDisk& d : result->disks) total += d.bytes, packs += d.files;
  Say(global, std::string("Import job ") + job.name +
                  (result->job_existed ? " (created earlier)" : " created") + ": " +
                  Plural(result->disks.size(), "disk", "disks") + ", " +
                  Plural(packs, "pack", "packs") + ", " + HumanBytes(total) + ".");
  if (!result->job_existed)
    Say(global,
        "This run copied " + Plural(result->packs_copied, "pack", "packs") + " (" +
            HumanBytes(result->bytes_copied) + ") in " + HumanDuration(seconds) +
            ", read back and verified every copy" +
            (result->packs_reverified
                 ? " (and " + std::to_string(result->packs_reverified) + " found on the disks)"
                 : std::string()) +
            ".");
  for (const PreparedDisk& d : result->disks)
    Say(global, "  disk " + std::to_string(d.disk_number) + " of " + std::to_string(d.disk_count) +
                    ": " + d.path + "  drive " + d.drive_id + "  " + HumanBytes(d.bytes) + " (" +
                    Plural(d.files, "pack", "packs") + ")");
  Say(global, "Label each disk with its drive ID and ship them to:");
  Say(global, "  " + job.ship_to);
  return Offer(global, jobs, job);
}

}  // namespace

void AddDiskPrepCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  CLI::App* command = app.add_subcommand(
      "diskprep",
      "Put an offline backup's staged packs on disks to ship, and create the import job");
  auto flags = std::make_shared<DiskPrepFlags>();
  command->add_option("--staging", flags->staging, "Staging directory of 'ferry backup --offline'")
      ->required();
  command->add_option("--disk", flags->disks,
                      "Mount point of a disk to fill (repeatable, in order); the staging "
                      "directory itself when it is the shipping disk");
  command->add_flag("-y,--yes", flags->yes, "Erase disks that hold other files without asking");
  command->add_option("--max-per-disk", flags->max_per_disk,
                      "Put at most this much on each disk (500M, 2G, 1.5T)");
  command
      ->add_option("--signing-key", flags->signing_key,
                   "Ed25519 key that signs the manifests (default "
                   "~/.config/ferry/signing-key.json, created if missing)")
      ->envname("FERRY_SIGNING_KEY");
  commands.push_back({command, [&global, flags]() { return RunDiskPrep(global, *flags); }});
}

}  // namespace ferry
