// The pure part of `ferry schedule`: the command line of a scheduled backup,
// the systemd service and timer that run it, the crontab line that does the
// same where systemd is not running, and the quoting each of them needs.
// Nothing here touches the file system, so all of it is unit-tested; the
// command itself (cmd_schedule.cc) only writes, deletes and calls systemctl.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace ferry {

// Where `schedule set` installs units unless --unit-dir says otherwise; only
// for this directory does it run systemctl (units elsewhere are not loaded).
inline constexpr char kSystemdUnitDir[] = "/etc/systemd/system";
inline constexpr char kDefaultScheduleName[] = "default";
inline constexpr uint64_t kDefaultRandomizedDelaySeconds = 30 * 60;
// Every scheduled snapshot carries this tag, so they can be told from manual ones.
inline constexpr char kScheduledTag[] = "scheduled";

struct TimeOfDay {
  int hour = 0;
  int minute = 0;
};

// "HH:MM" (or "H:MM"), 00:00 to 23:59.
Result<TimeOfDay> ParseTimeOfDay(std::string_view text);
// A delay in the systemd style: "0", "90" (seconds), "90s", "30min", "2h",
// "1h 30min". At most 24 hours: the timer fires daily.
Result<uint64_t> ParseTimeSpan(std::string_view text);
// The shortest exact systemd spelling: "30min", "2h", "90s", "0".
std::string FormatTimeSpan(uint64_t seconds);
// 1-64 characters of A-Z a-z 0-9 _ . - : the name becomes part of unit file
// names and of the cron log's path, so nothing else may appear in it.
Status ValidateScheduleName(std::string_view name);

// What a scheduled run backs up and with which credentials. Every path must
// already be absolute: a service runs in "/" and cron in $HOME.
struct ScheduledBackup {
  std::string ferry_binary;
  std::string repository;  // a directory, or a URL (anything with "://")
  std::string agent_file;  // when set, `--agent FILE` replaces `--repo`
  std::string password_file;
  std::vector<std::string> paths;
  std::vector<std::string> tags;  // besides "scheduled"
  std::vector<std::string> excludes;
  std::vector<std::string> exclude_files;
  bool one_file_system = false;
  // When set: after the backup, apply the vault's backup policy with these
  // maintenance credentials (BuildVaultPolicyCommand). Needs agent_file.
  std::string maintenance_agent_file;
};

// The argv of the scheduled run:
//   FERRY [--agent=F | --repo=R] --password-file=F backup PATHS... --tag=scheduled
//         [--tag=T]... [--exclude=G]... [--exclude-file=F]... [-x] --json --quiet
// Refuses a missing password file (a timer cannot type a password, and the
// password itself never goes into a unit file or crontab), relative paths, and
// text that neither systemd nor cron can carry (control characters, invalid UTF-8).
Result<std::vector<std::string>> BuildBackupCommand(const ScheduledBackup& backup);

// The argv of the step after the backup that applies the vault's policy:
//   FERRY --agent=MAINT --password-file=F forget --vault-policy --json --quiet
// (forget prunes if the policy says so). Refuses a schedule without a vault
// (agent_file) or without maintenance_agent_file, and relative paths.
Result<std::vector<std::string>> BuildVaultPolicyCommand(const ScheduledBackup& backup);

struct Schedule {
  std::string name = kDefaultScheduleName;
  TimeOfDay time;
  uint64_t randomized_delay_seconds = kDefaultRandomizedDelaySeconds;
  std::vector<std::string> command;  // from BuildBackupCommand
  // From BuildVaultPolicyCommand, or empty. It runs only after a backup that
  // succeeded (exit 0): systemd stops a oneshot service at the first failed
  // ExecStart=, and the crontab line joins the two with &&.
  std::vector<std::string> policy_command;
};

std::string ServiceFileName(const std::string& name);  // ferry-backup-NAME.service
std::string TimerFileName(const std::string& name);    // ferry-backup-NAME.timer
std::string CronLogPath(const std::string& name);      // /var/log/ferry-NAME.log

// One argument as systemd's ExecStart= reads it: bare when it is plain,
// otherwise in double quotes with \ and " escaped; in both cases % is written
// %% (specifiers) and $ is written $$ (environment variable substitution).
std::string QuoteForSystemd(const std::string& arg);
std::string SystemdCommandLine(const std::vector<std::string>& argv);
// The inverse of SystemdCommandLine, for `schedule show` and the tests. It
// understands quoting, \-escapes of \ " ' and %% / $$, and refuses anything
// that would need the unit's context (other specifiers, $VARIABLES).
Result<std::vector<std::string>> ParseSystemdCommandLine(std::string_view line);

// One argument for /bin/sh: bare when plain, otherwise in single quotes.
// A % is always left outside the quotes, so that CrontabLine can escape it.
std::string QuoteForShell(const std::string& arg);
// The command for a terminal: run it to try a schedule out right away.
std::string ShellCommandLine(const std::vector<std::string>& argv);
// Text for a crontab command field that cron turns back into `shell_text`.
// Cron ends the command at an unescaped % (the rest becomes stdin) and turns
// \% into %; a backslash escapes the next character whatever it is, so a
// backslash right before a % cannot be expressed (QuoteForShell never writes one).
Result<std::string> EscapeForCrontab(std::string_view shell_text);
// "MM HH * * * COMMAND >> /var/log/ferry-NAME.log 2>&1"
Result<std::string> CrontabLine(const Schedule& schedule);

std::string ServiceUnitText(const Schedule& schedule);
std::string TimerUnitText(const Schedule& schedule);
// The value of the first `Key=` line of a unit file, if any (the files are
// ours, so neither sections nor continuation lines matter).
std::optional<std::string> UnitFileValue(std::string_view text, std::string_view key);
// Every `Key=` line's value, in order (a service has one ExecStart= per step).
std::vector<std::string> UnitFileValues(std::string_view text, std::string_view key);

}  // namespace ferry
