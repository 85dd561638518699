// ferry schedule set|show|remove: a daily backup run by a systemd timer, or by
// cron where systemd is not running. The unit texts, the crontab line and all
// quoting are in schedule_writer.cc; this file writes, deletes and calls systemctl.
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <set>

#include "cli/commands.h"
#include "cli/schedule_writer.h"
#include "util/file_util.h"

extern char** environ;

namespace ferry {

namespace {

struct ScheduleFlags {
  std::string name = kDefaultScheduleName;
  std::string unit_dir = kSystemdUnitDir;
  std::string daily;
  std::string randomized_delay = FormatTimeSpan(kDefaultRandomizedDelaySeconds);
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  std::vector<std::string> excludes;
  std::vector<std::string> exclude_files;
  bool one_file_system = false;
  bool apply_vault_policy = false;
  std::string maintenance_agent;
  CLI::Option* name_option = nullptr;
};

// A service starts in "/" and cron in $HOME: every path in the command must
// be absolute. Symbolic links are kept: the user named this path.
std::string Absolute(const std::string& path) {
  std::error_code ignored;
  std::string out = std::filesystem::absolute(path, ignored).lexically_normal().string();
  if (out.empty()) return path;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Result<std::string> RunningBinary() {
  char buffer[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n < 0) return ErrnoStatus("readlink /proc/self/exe", errno);
  std::string path(buffer, static_cast<size_t>(n));
  // The kernel's way of saying the file was replaced (an upgrade) since it started.
  if (path.ends_with(" (deleted)"))
    return Status::NotFound("this ferry binary (" + path +
                            ") was replaced while running: run 'ferry schedule set' again");
  return path;
}

// sd_booted(3): systemd is the init system when this directory exists.
bool SystemdRunning() {
  struct stat st;
  return ::lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

// systemctl only sees units in its search path, so it is called only for the
// default directory; units written elsewhere are for the user to install.
bool ManagedBySystemctl(const std::string& unit_dir) {
  return SystemdRunning() && Absolute(unit_dir) == kSystemdUnitDir;
}

// systemctl's own output (and errors) go straight to the user.
Status RunSystemctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"systemctl"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> pointers;
  for (std::string& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  std::string what;
  for (const std::string& arg : argv) what += (what.empty() ? "" : " ") + arg;
  pid_t pid;
  int rc = ::posix_spawnp(&pid, "systemctl", nullptr, nullptr, pointers.data(), environ);
  if (rc != 0) return ErrnoStatus("run " + what, rc);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return ErrnoStatus("wait for " + what, errno);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Status::IOError(
        "'" + what + "' failed" +
        (WIFEXITED(status) ? " (exit " + std::to_string(WEXITSTATUS(status)) + ")" : ""));
  return Status::Ok();
}

Status WriteText(const std::string& path, const std::string& text) {
  // 0644 as every unit file: it names the password file, never the password.
  return WriteFileAtomic(path, ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
                         0644);
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("remove " + path, errno);
  return Status::Ok();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Result<std::string> ReadText(const std::string& path) {
  ASSIGN_OR_RETURN(Bytes bytes, ReadWholeFile(path));
  return std::string(bytes.begin(), bytes.end());
}

CLI::Validator Checked(std::function<Status(const std::string&)> check, std::string description) {
  return CLI::Validator(
      [check](std::string& value) {
        Status status = check(value);
        return status.ok() ? std::string() : status.message();
      },
      std::move(description));
}

int RunSet(GlobalOptions& global, const ScheduleFlags& flags) {
  // Validated by CLI11 already; parsed again for the values.
  auto time = ParseTimeOfDay(flags.daily);
  if (!time.ok()) return ReportError(global, time.status());
  auto delay = ParseTimeSpan(flags.randomized_delay);
  if (!delay.ok()) return ReportError(global, delay.status());
  auto binary = RunningBinary();
  if (!binary.ok()) return ReportError(global, binary.status());

  ScheduledBackup backup;
  backup.ferry_binary = *binary;
  backup.agent_file = global.agent_file;
  if (!backup.agent_file.empty()) backup.agent_file = Absolute(backup.agent_file);
  backup.repository = global.repository;
  if (!backup.repository.empty() && backup.repository.find("://") == std::string::npos)
    backup.repository = Absolute(backup.repository);
  if (!global.password_file.empty()) {
    backup.password_file = Absolute(global.password_file);
    // A wrong path here would only show up at night, as a failed backup.
    struct stat st;
    if (::stat(backup.password_file.c_str(), &st) != 0)
      return ReportError(global, ErrnoStatus("password file " + backup.password_file, errno));
    if (st.st_mode & 0077)
      Warn(global, "the password file " + backup.password_file +
                       " can be read by other users: chmod 600 it");
  }
  for (const std::string& path : flags.paths) backup.paths.push_back(Absolute(path));
  backup.tags = flags.tags;
  backup.excludes = flags.excludes;
  for (const std::string& file : flags.exclude_files)
    backup.exclude_files.push_back(Absolute(file));
  backup.one_file_system = flags.one_file_system;

  auto command = BuildBackupCommand(backup);
  if (!command.ok()) return ReportError(global, command.status());
  std::vector<std::string> policy_command;
  if (!flags.maintenance_agent.empty() && !flags.apply_vault_policy)
    return ReportError(global, Status::InvalidArgument(
                                   "--maintenance-agent is for --apply-vault-policy; add it, or "
                                   "leave the maintenance credentials out of the schedule"));
  if (flags.apply_vault_policy) {
    if (!flags.maintenance_agent.empty())
      backup.maintenance_agent_file = Absolute(flags.maintenance_agent);
    auto built = BuildVaultPolicyCommand(backup);
    if (!built.ok()) return ReportError(global, built.status());
    policy_command = *built;
    // A wrong path here would only show up at night, after the backup.
    if (!Exists(backup.maintenance_agent_file))
      return ReportError(
          global, Status::NotFound("maintenance credentials " + backup.maintenance_agent_file +
                                   " do not exist (ferry machine "
                                   "maintenance-token --out writes them)"));
  }
  for (const std::string& path : backup.paths)
    if (!Exists(path))
      Warn(global, path + " does not exist (yet): the scheduled backups will fail until it does");
  Schedule schedule;
  schedule.name = flags.name;
  schedule.time = *time;
  schedule.randomized_delay_seconds = *delay;
  schedule.command = *command;
  schedule.policy_command = policy_command;
  auto crontab = CrontabLine(schedule);
  if (!crontab.ok()) return ReportError(global, crontab.status());

  std::string dir = Absolute(flags.unit_dir);
  std::string service_path = dir + "/" + ServiceFileName(schedule.name);
  std::string timer_path = dir + "/" + TimerFileName(schedule.name);
  Status status = MakeDirectories(dir, 0755);
  // The service first: a timer must never point at a missing service.
  if (status.ok()) status = WriteText(service_path, ServiceUnitText(schedule));
  if (status.ok()) status = WriteText(timer_path, TimerUnitText(schedule));
  if (status.code() == StatusCode::kPermissionDenied)
    status =
        Status(status.code(),
               status.message() + " (run as root, or write the units elsewhere with --unit-dir)");
  if (!status.ok()) return ReportError(global, status);

  bool systemctl = ManagedBySystemctl(dir);
  if (systemctl) {
    // enable --now starts a new timer; for a replaced one, daemon-reload has
    // already re-armed it with the new time.
    status = RunSystemctl({"daemon-reload"});
    if (status.ok()) status = RunSystemctl({"enable", "--now", TimerFileName(schedule.name)});
    if (!status.ok()) return ReportError(global, status);
  }

  char when[16];
  std::snprintf(when, sizeof when, "%02d:%02d", schedule.time.hour, schedule.time.minute);
  if (global.json) {
    PrintJson({{"message_type", "schedule_set"},
               {"name", schedule.name},
               {"service_file", service_path},
               {"timer_file", timer_path},
               {"daily", when},
               {"randomized_delay", FormatTimeSpan(schedule.randomized_delay_seconds)},
               {"command", schedule.command},
               {"policy_command",
                policy_command.empty() ? nlohmann::json(nullptr) : nlohmann::json(policy_command)},
               {"enabled", systemctl},
               {"crontab", *crontab}});
    return kExitOk;
  }
  Say(global, "wrote " + service_path);
  Say(global, "wrote " + timer_path);
  Say(global, std::string("daily at ") + when + " (plus a random delay of up to " +
                  FormatTimeSpan(schedule.randomized_delay_seconds) +
                  "), running (try it now by pasting it into a shell):");
  Say(global, "  " + ShellCommandLine(schedule.command));
  if (!policy_command.empty())
    Say(global, "then, after a backup that succeeded, the vault's policy:\n  " +
                    ShellCommandLine(policy_command));
  if (systemctl) {
    Say(global, "enabled " + TimerFileName(schedule.name) +
                    ": next run in 'systemctl list-timers " + TimerFileName(schedule.name) +
                    "', logs in 'journalctl -u " + ServiceFileName(schedule.name) + "'");
    return kExitOk;
  }
  if (SystemdRunning())
    Say(global, "systemd does not load units from " + dir + ": install them with 'systemctl link " +
                    service_path + "' and 'systemctl enable --now " + timer_path +
                    "'. Or use cron:");
  else
    Say(global,
        "systemd is not running here, so nothing will start these units. Run the backup "
        "from cron instead: add this line to the crontab of the user that runs backups "
        "(usually root; 'crontab -e'):");
  // The line itself is the result, so even --quiet prints it.
  std::printf("%s\n", crontab->c_str());
  Say(global, "(In /etc/cron.d/ferry-" + schedule.name +
                  " instead, put the user name, e.g. root, after the five time fields.) "
                  "Each run appends its JSON summary to " +
                  CronLogPath(schedule.name) + ".");
  if (crontab->size() > 900)
    Warn(global, "the crontab line is " + std::to_string(crontab->size()) +
                     " characters long; some cron implementations cut commands at 1000");
  return kExitOk;
}

int RunShow(GlobalOptions& global, const ScheduleFlags& flags) {
  std::string dir = Absolute(flags.unit_dir);
  std::set<std::string> names;
  if (flags.name_option->count() > 0) {
    names.insert(flags.name);
  } else {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
      std::string file = entry.path().filename().string();
      for (const std::string& suffix : {std::string(".timer"), std::string(".service")}) {
        const std::string prefix = "ferry-backup-";
        if (file.size() > prefix.size() + suffix.size() && file.starts_with(prefix) &&
            file.ends_with(suffix))
          names.insert(file.substr(prefix.size(), file.size() - prefix.size() - suffix.size()));
      }
    }
    if (error && error != std::errc::no_such_file_or_directory)
      return ReportError(global, ErrnoStatus("list " + dir, error.value()));
  }
  bool systemctl = ManagedBySystemctl(dir);
  nlohmann::json list = nlohmann::json::array();
  for (const std::string& name : names) {
    std::string service_path = dir + "/" + ServiceFileName(name);
    std::string timer_path = dir + "/" + TimerFileName(name);
    auto service = ReadText(service_path);
    auto timer = ReadText(timer_path);
    if (!service.ok() && !timer.ok())
      return ReportError(global, Status::NotFound("there is no schedule '" + name + "' in " + dir));
    auto value = [](const Result<std::string>& text, const char* key) {
      return text.ok() ? UnitFileValue(*text, key).value_or("") : std::string();
    };
    std::string on_calendar = value(timer, "OnCalendar");
    std::string delay = value(timer, "RandomizedDelaySec");
    std::string persistent = value(timer, "Persistent");
    std::string exec_start = value(service, "ExecStart");
    auto command = ParseSystemdCommandLine(exec_start);
    // A second ExecStart= is the step that applies the vault's policy.
    std::vector<std::string> exec_starts =
        service.ok() ? UnitFileValues(*service, "ExecStart") : std::vector<std::string>();
    std::optional<std::vector<std::string>> policy_command;
    if (exec_starts.size() > 1) {
      auto parsed = ParseSystemdCommandLine(exec_starts[1]);
      if (parsed.ok()) policy_command = *parsed;
    }
    // The crontab line again, for a schedule as `set` wrote it ("*-*-* HH:MM:00").
    std::optional<std::string> crontab;
    if (command.ok() && on_calendar.size() == 14 && on_calendar.starts_with("*-*-* ") &&
        on_calendar.ends_with(":00")) {
      auto time = ParseTimeOfDay(on_calendar.substr(6, 5));
      if (time.ok()) {
        Schedule schedule;
        schedule.name = name;
        schedule.time = *time;
        schedule.command = *command;
        if (policy_command) schedule.policy_command = *policy_command;
        auto line = CrontabLine(schedule);
        if (line.ok()) crontab = *line;
      }
    }
    if (global.json) {
      nlohmann::json j = {{"name", name},
                          {"service_file", service.ok() ? nlohmann::json(service_path) : nullptr},
                          {"timer_file", timer.ok() ? nlohmann::json(timer_path) : nullptr},
                          {"on_calendar", on_calendar},
                          {"randomized_delay", delay},
                          {"persistent", persistent == "true"},
                          {"exec_start", exec_start}};
      j["command"] = command.ok() ? nlohmann::json(*command) : nlohmann::json(nullptr);
      j["policy_command"] =
          policy_command ? nlohmann::json(*policy_command) : nlohmann::json(nullptr);
      j["crontab"] = crontab ? nlohmann::json(*crontab) : nlohmann::json(nullptr);
      list.push_back(std::move(j));
      continue;
    }
    std::printf("schedule %s\n", name.c_str());
    std::printf("  timer:    %s\n", timer.ok() ? timer_path.c_str() : "(missing)");
    std::printf("  service:  %s\n", service.ok() ? service_path.c_str() : "(missing)");
    std::printf(
        "  when:     %s, %s%s\n", on_calendar.c_str(),
        delay.empty() || delay == "0" ? "no random delay" : ("random delay up to " + delay).c_str(),
        persistent == "true" ? ", catches up a run missed while off" : "");
    // The shell form can be pasted into a terminal; the raw line if it is not ours.
    if (command.ok())
      std::printf("  command:  %s\n", ShellCommandLine(*command).c_str());
    else
      std::printf("  ExecStart=%s\n", exec_start.c_str());
    if (policy_command) std::printf("  then:     %s\n", ShellCommandLine(*policy_command).c_str());
    if (crontab && !systemctl) std::printf("  crontab:  %s\n", crontab->c_str());
    if (systemctl) {
      std::fflush(stdout);  // before systemctl writes to the same stdout
      RunSystemctl({"list-timers", "--all", "--no-pager", TimerFileName(name)})
          .IgnoreError();  // it printed its own error
    }
  }
  if (global.json) {
    PrintJson(list);
  } else if (names.empty()) {
    Say(global, "no ferry schedules in " + dir);
  }
  return kExitOk;
}

int RunRemove(GlobalOptions& global, const ScheduleFlags& flags) {
  std::string dir = Absolute(flags.unit_dir);
  std::string service_path = dir + "/" + ServiceFileName(flags.name);
  std::string timer_path = dir + "/" + TimerFileName(flags.name);
  if (!Exists(service_path) && !Exists(timer_path))
    return ReportError(global,
                       Status::NotFound("there is no schedule '" + flags.name + "' in " + dir));
  bool systemctl = ManagedBySystemctl(dir);
  if (systemctl) {
    // Stops the timer; a backup that is running now finishes.
    Status status = RunSystemctl({"disable", "--now", TimerFileName(flags.name)});
    if (!status.ok()) Warn(global, status.message() + "; removing the unit files anyway");
  }
  // The timer first: a timer must never point at a missing service.
  Status status = RemoveFile(timer_path);
  if (status.ok()) status = RemoveFile(service_path);
  if (status.ok()) status = SyncDirectory(dir);
  if (status.ok() && systemctl) status = RunSystemctl({"daemon-reload"});
  if (!status.ok()) return ReportError(global, status);
  if (global.json) {
    PrintJson({{"message_type", "schedule_removed"},
               {"name", flags.name},
               {"service_file", service_path},
               {"timer_file", timer_path}});
    return kExitOk;
  }
  Say(global, "removed " + timer_path);
  Say(global, "removed " + service_path);
  if (!systemctl)
    Say(global,
        "if you added its line to a crontab, remove it there too ('crontab -e'): it is "
        "the one that appends to " +
            CronLogPath(flags.name));
  return kExitOk;
}

void AddNameAndUnitDir(CLI::App* command, ScheduleFlags& flags) {
  flags.name_option =
      command->add_option("--name", flags.name, "Schedule name (default: default)")
          ->check(Checked([](const std::string& v) { return ValidateScheduleName(v); }, "NAME"));
  command->add_option("--unit-dir", flags.unit_dir,
                      "Directory of the unit files (default: /etc/systemd/system; systemctl "
                      "is run only for that one)");
}

}  // namespace

void AddScheduleCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  CLI::App* schedule =
      app.add_subcommand("schedule", "Back up daily: a systemd timer, or a crontab line");
  schedule->require_subcommand(1);

  auto set_flags = std::make_shared<ScheduleFlags>();
  CLI::App* set = schedule->add_subcommand(
      "set", "Write (or replace) the systemd service and timer of a daily backup");
  set->add_option("--daily", set_flags->daily, "Time of day to back up, HH:MM (local time)")
      ->required()
      ->check(Checked([](const std::string& v) { return ParseTimeOfDay(v).status(); }, "HH:MM"));
  set->add_option("--paths", set_flags->paths, "Files and directories to back up")->required();
  AddNameAndUnitDir(set, *set_flags);
  set->add_option("--randomized-delay", set_flags->randomized_delay,
                  "Start up to this much later, at random (default: 30min; 0: on the minute)")
      ->check(Checked([](const std::string& v) { return ParseTimeSpan(v).status(); }, "DELAY"));
  set->add_option("--tag", set_flags->tags,
                  "Also tag the snapshots (repeatable; 'scheduled' always)");
  set->add_option("-e,--exclude", set_flags->excludes,
                  "Skip paths matching this glob (repeatable)");
  set->add_option("--exclude-file", set_flags->exclude_files,
                  "Read exclude patterns from a file, one per line");
  set->add_flag("-x,--one-file-system", set_flags->one_file_system,
                "Do not cross file-system boundaries");
  set->add_flag("--apply-vault-policy", set_flags->apply_vault_policy,
                "After each backup that succeeds, apply the vault's backup policy (forget "
                "--vault-policy, and prune if the policy says so); needs --agent and "
                "--maintenance-agent");
  set->add_option("--maintenance-agent", set_flags->maintenance_agent,
                  "The machine's maintenance credentials (ferry machine maintenance-token), "
                  "with which --apply-vault-policy may delete");
  commands.push_back({set, [&global, set_flags] { return RunSet(global, *set_flags); }});

  auto show_flags = std::make_shared<ScheduleFlags>();
  CLI::App* show =
      schedule->add_subcommand("show", "Show the schedules (all of them without --name)");
  AddNameAndUnitDir(show, *show_flags);
  commands.push_back({show, [&global, show_flags] { return RunShow(global, *show_flags); }});

  auto remove_flags = std::make_shared<ScheduleFlags>();
  CLI::App* remove =
      schedule->add_subcommand("remove", "Disable a schedule and delete its unit files");
  AddNameAndUnitDir(remove, *remove_flags);
  commands.push_back(
      {remove, [&global, remove_flags] { return RunRemove(global, *remove_flags); }});
}

}  // namespace ferry
