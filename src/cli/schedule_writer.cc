#include "cli/schedule_writer.h"

#include <cstdio>

namespace ferry {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Characters that mean nothing to systemd's ExecStart= parser nor to sh, so a
// word made of them needs no quoting. Not '~' (sh expands it), not '%' or '$'.
bool IsPlainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_' || c == '@' ||
         c == '+' || c == '=' || c == ':' || c == ',' || c == '.' || c == '/' || c == '-';
}

bool IsPlain(const std::string& arg) {
  if (arg.empty()) return false;
  for (char c : arg)
    if (!IsPlainChar(c)) return false;
  return true;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    size_t length;
    uint32_t code;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2;
      code = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      code = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      code = byte & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    // Overlong encodings, UTF-16 surrogates and code points past U+10FFFF.
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF)
      return false;
    i += length;
  }
  return true;
}

// Unit files are UTF-8 text and a crontab entry is one line: an argument with
// a newline (or any control character) or with bytes that are not UTF-8 cannot
// be written into either, so it is refused rather than mangled.
Status CheckCarriable(const std::string& arg, const std::string& what) {
  if (arg.empty()) return Status::InvalidArgument(what + " is empty");
  for (char c : arg) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F)
      return Status::InvalidArgument(what + " '" + arg +
                                     "' contains a control character, which a unit file or "
                                     "crontab cannot hold");
  }
  if (!IsValidUtf8(arg))
    return Status::InvalidArgument(what + " '" + arg +
                                   "' is not valid UTF-8, which a unit file cannot hold");
  return Status::Ok();
}

Status CheckAbsolute(const std::string& path, const std::string& what) {
  RETURN_IF_ERROR(CheckCarriable(path, what));
  if (path[0] != '/') return Status::InvalidArgument(what + " '" + path + "' is not absolute");
  return Status::Ok();
}

// "--tag=x" rather than "--tag x": a value that starts with '-' stays a
// value, and a repeatable option cannot swallow the word after it.
std::string OptionWithValue(const std::string& option, const std::string& value) {
  return option + "=" + value;
}

}  // namespace

Result<TimeOfDay> ParseTimeOfDay(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a time of day: use HH:MM, 00:00 to 23:59");
  };
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon < 1 || colon > 2 || text.size() != colon + 3)
    return bad();
  TimeOfDay time;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == colon) continue;
    if (!IsDigit(text[i])) return bad();
    int digit = text[i] - '0';
    if (i < colon)
      time.hour = time.hour * 10 + digit;
    else
      time.minute = time.minute * 10 + digit;
  }
  if (time.hour > 23 || time.minute > 59) return bad();
  return time;
}

Result<uint64_t> ParseTimeSpan(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a delay (" + why +
                                   "): use e.g. 0, 90s, 30min, 2h, 1h 30min");
  };
  struct Unit {
    std::string_view name;
    uint64_t seconds;
  };
  static constexpr Unit kUnits[] = {
      {"s", 1},    {"sec", 1},   {"second", 1},  {"seconds", 1},
      {"m", 60},   {"min", 60},  {"minute", 60}, {"minutes", 60},
      {"h", 3600}, {"hr", 3600}, {"hour", 3600}, {"hours", 3600},
  };
  uint64_t total = 0;
  size_t i = 0;
  bool any = false;
  while (true) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i == text.size()) break;
    if (!IsDigit(text[i])) return bad("expected a number");
    uint64_t number = 0;
    while (i < text.size() && IsDigit(text[i])) {
      number = number * 10 + static_cast<uint64_t>(text[i] - '0');
      if (number > 24 * 3600) return bad("longer than 24 hours");
      ++i;
    }
    size_t start = i;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') ++i;
    std::string_view unit_name = text.substr(start, i - start);
    uint64_t unit = 0;
    if (unit_name.empty()) {
      unit = 1;  // systemd reads a bare number as seconds
    } else {
      for (const Unit& u : kUnits)
        if (u.name == unit_name) unit = u.seconds;
      if (unit == 0) return bad("unknown unit '" + std::string(unit_name) + "'");
    }
    total += number * unit;
    if (total > 24 * 3600) return bad("longer than 24 hours");
    any = true;
  }
  if (!any) return bad("empty");
  return total;
}

std::string FormatTimeSpan(uint64_t seconds) {
  if (seconds == 0) return "0";
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  if (seconds % 60 == 0) return std::to_string(seconds / 60) + "min";
  return std::to_string(seconds) + "s";
}

Status ValidateScheduleName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_' || c == '.' ||
          c == '-'))
      ok = false;
  if (!ok)
    return Status::InvalidArgument("schedule name '" + std::string(name) +
                                   "' must be 1-64 characters of A-Z a-z 0-9 _ . -");
  return Status::Ok();
}

Result<std::vector<std::string>> BuildBackupCommand(const ScheduledBackup& backup) {
  if (backup.password_file.empty())
    return Status::InvalidArgument(
        "a scheduled backup needs a password file: give --password-file FILE (or set "
        "FERRY_PASSWORD_FILE). A timer cannot type a password, and ferry never writes the "
        "password itself into a unit file or crontab");
  if (backup.agent_file.empty() && backup.repository.empty())
    return Status::InvalidArgument("no repository given: use --repo or set FERRY_REPOSITORY");
  if (backup.paths.empty()) return Status::InvalidArgument("no paths to back up: give --paths");

  RETURN_IF_ERROR(CheckAbsolute(backup.ferry_binary, "the ferry binary's path"));
  // systemd refuses an executable path with quotes or backslashes, and would
  // substitute variables in one with '$'.
  for (char c : backup.ferry_binary)
    if (c == '"' || c == '\'' || c == '\\' || c == '$')
      return Status::InvalidArgument("the ferry binary's path '" + backup.ferry_binary +
                                     "' contains " + std::string(1, c) +
                                     ", which systemd does not accept in an executable's "
                                     "path: install ferry somewhere else");

  std::vector<std::string> argv = {backup.ferry_binary};
  if (!backup.agent_file.empty()) {
    RETURN_IF_ERROR(CheckAbsolute(backup.agent_file, "the agent file"));
    argv.push_back(OptionWithValue("--agent", backup.agent_file));
  } else {
    if (backup.repository.find("://") == std::string::npos)
      RETURN_IF_ERROR(CheckAbsolute(backup.repository, "the repository"));
    else
      RETURN_IF_ERROR(CheckCarriable(backup.repository, "the repository"));
    argv.push_back(OptionWithValue("--repo", backup.repository));
  }
  RETURN_IF_ERROR(CheckAbsolute(backup.password_file, "the password file"));
  argv.push_back(OptionWithValue("--password-file", backup.password_file));

  argv.push_back("backup");
  // The paths come first: absolute, so never mistaken for options, and
  // before any option that could take them as its values.
  for (const std::string& path : backup.paths) {
    RETURN_IF_ERROR(CheckAbsolute(path, "the path"));
    argv.push_back(path);
  }
  argv.push_back(OptionWithValue("--tag", kScheduledTag));
  for (const std::string& tag : backup.tags) {
    RETURN_IF_ERROR(CheckCarriable(tag, "the tag"));
    if (tag != kScheduledTag) argv.push_back(OptionWithValue("--tag", tag));
  }
  for (const std::string& pattern : backup.excludes) {
    RETURN_IF_ERROR(CheckCarriable(pattern, "the exclude pattern"));
    argv.push_back(OptionWithValue("--exclude", pattern));
  }
  for (const std::string& file : backup.exclude_files) {
    RETURN_IF_ERROR(CheckAbsolute(file, "the exclude file"));
    argv.push_back(OptionWithValue("--exclude-file", file));
  }
  if (backup.one_file_system) argv.push_back("--one-file-system");
  // --json: the log gets the summary as one JSON object (and warnings and
  // errors as JSON lines); --quiet: without a status line every second.
  argv.push_back("--json");
  argv.push_back("--quiet");
  return argv;
}

Result<std::vector<std::string>> BuildVaultPolicyCommand(const ScheduledBackup& backup) {
  if (backup.maintenance_agent_file.empty())
    return Status::InvalidArgument(
        "applying the vault's policy needs the machine's maintenance credentials: give "
        "--maintenance-agent FILE (ferry machine maintenance-token writes it)");
  if (backup.agent_file.empty())
    return Status::InvalidArgument(
        "--apply-vault-policy is for backups to a vault: give --agent with the machine's "
        "credentials (a repository without a vault has no vault policy)");
  // The backup's checks (binary, password file) have run in BuildBackupCommand.
  RETURN_IF_ERROR(CheckAbsolute(backup.maintenance_agent_file, "the maintenance agent file"));
  RETURN_IF_ERROR(CheckAbsolute(backup.password_file, "the password file"));
  return std::vector<std::string>{backup.ferry_binary,
                                  OptionWithValue("--agent", backup.maintenance_agent_file),
                                  OptionWithValue("--password-file", backup.password_file),
                                  "forget",
                                  "--vault-policy",
                                  "--json",
                                  "--quiet"};
}

std::string ServiceFileName(const std::string& name) { return "ferry-backup-" + name + ".service"; }
std::string TimerFileName(const std::string& name) { return "ferry-backup-" + name + ".timer"; }
std::string CronLogPath(const std::string& name) { return "/var/log/ferry-" + name + ".log"; }

std::string QuoteForSystemd(const std::string& arg) {
  bool plain = IsPlain(arg);
  std::string out = plain ? "" : "\"";
  for (char c : arg) {
    switch (c) {
      case '%':
        out += "%%";
        break;
      case '$':
        out += "$$";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      default:
        out += c;
    }
  }
  if (!plain) out += '"';
  return out;
}

std::string SystemdCommandLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& arg : argv) line += (line.empty() ? "" : " ") + QuoteForSystemd(arg);
  return line;
}

Result<std::vector<std::string>> ParseSystemdCommandLine(std::string_view line) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("cannot read the command line '" + std::string(line) +
                                   "': " + why);
  };
  std::vector<std::string> words;
  size_t i = 0;
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (true) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size()) break;
    // First undo the quoting, then the %% and $$ (systemd's order too).
    std::string quoted_away;
    char quote = 0;
    while (i < line.size() && (quote || !is_space(line[i]))) {
      char c = line[i++];
      if (quote && c == quote) {
        quote = 0;
      } else if (!quote && (c == '"' || c == '\'')) {
        quote = c;
      } else if (c == '\\') {
        if (i == line.size()) return bad("it ends in a backslash");
        char escaped = line[i++];
        if (escaped != '\\' && escaped != '"' && escaped != '\'')
          return bad(std::string("unsupported escape \\") + escaped);
        quoted_away += escaped;
      } else {
        quoted_away += c;
      }
    }
    if (quote) return bad("unterminated quote");
    std::string word;
    for (size_t k = 0; k < quoted_away.size(); ++k) {
      char c = quoted_away[k];
      if (c == '%' || c == '$') {
        if (k + 1 == quoted_away.size() || quoted_away[k + 1] != c)
          return bad(std::string("it uses ") + c + quoted_away.substr(k + 1, 1) +
                     ", which only systemd can expand");
        ++k;
      }
      word += c;
    }
    words.push_back(std::move(word));
  }
  if (words.empty()) return bad("it is empty");
  return words;
}

std::string QuoteForShell(const std::string& arg) {
  if (IsPlain(arg)) return arg;
  if (arg.empty()) return "''";
  std::string out;
  std::string segment;
  auto flush = [&] {
    if (segment.empty()) return;
    out += '\'';
    for (char c : segment) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
    segment.clear();
  };
  for (char c : arg) {
    if (c == '%') {
      flush();
      out += '%';  // outside the quotes: see EscapeForCrontab
    } else {
      segment += c;
    }
  }
  flush();
  return out;
}

std::string ShellCommandLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& arg : argv) line += (line.empty() ? "" : " ") + QuoteForShell(arg);
  return line;
}

Result<std::string> EscapeForCrontab(std::string_view shell_text) {
  // Cron reads the line left to right: "\x" is a pair (kept as is, except
  // that "\%" becomes "%"), and a lone % ends the command. So walk the text the
  // same way, keep each pair, and write every % that starts a pair as \%.
  std::string out;
  for (size_t i = 0; i < shell_text.size(); ++i) {
    char c = shell_text[i];
    if (c == '\n' || c == '\r')
      return Status::InvalidArgument("a crontab line cannot hold a newline");
    if (c == '%') {
      out += "\\%";
    } else if (c == '\\' && i + 1 < shell_text.size()) {
      char next = shell_text[i + 1];
      if (next == '%')
        return Status::InvalidArgument("cron cannot pass a backslash followed by % to the shell");
      if (next == '\n' || next == '\r')
        return Status::InvalidArgument("a crontab line cannot hold a newline");
      out += c;
      out += next;
      ++i;
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::string> CrontabLine(const Schedule& schedule) {
  std::string log = " >> " + CronLogPath(schedule.name) + " 2>&1";
  std::string command = ShellCommandLine(schedule.command) + log;
  if (!schedule.policy_command.empty())
    command += " && " + ShellCommandLine(schedule.policy_command) + log;
  ASSIGN_OR_RETURN(std::string escaped, EscapeForCrontab(command));
  return std::to_string(schedule.time.minute) + " " + std::to_string(schedule.time.hour) +
         " * * * " + escaped;
}

std::string ServiceUnitText(const Schedule& schedule) {
  const std::string& name = schedule.name;
  return "# Written by 'ferry schedule set --name " + name + "'; 'ferry schedule remove --name " +
         name +
         "' deletes it.\n"
         "[Unit]\n"
         "Description=ferry backup (schedule " +
         name +
         ")\n"
         // A repository behind a network mount or a vault needs the network.
         "Wants=network-online.target\n"
         "After=network-online.target\n"
         "\n"
         "[Service]\n"
         "Type=oneshot\n"
         "ExecStart=" +
         SystemdCommandLine(schedule.command) + "\n" +
         // A oneshot service runs its ExecStart= lines in order and stops at
         // the first that fails: the policy step only after a good backup.
         (schedule.policy_command.empty()
              ? std::string()
              : "ExecStart=" + SystemdCommandLine(schedule.policy_command) + "\n") +
         "Nice=10\n"
         "IOSchedulingClass=idle\n"
         "StandardOutput=journal\n"
         "StandardError=journal\n"
         "SyslogIdentifier=ferry-backup-" +
         name + "\n";
}

std::string TimerUnitText(const Schedule& schedule) {
  char calendar[32];
  std::snprintf(calendar, sizeof calendar, "*-*-* %02d:%02d:00", schedule.time.hour,
                schedule.time.minute);
  const std::string& name = schedule.name;
  return "# Written by 'ferry schedule set --name " + name + "'; 'ferry schedule remove --name " +
         name +
         "' deletes it.\n"
         "[Unit]\n"
         "Description=Daily ferry backup (schedule " +
         name +
         ")\n"
         "\n"
         "[Timer]\n"
         "OnCalendar=" +
         calendar +
         "\n"
         "Persistent=true\n"
         "RandomizedDelaySec=" +
         FormatTimeSpan(schedule.randomized_delay_seconds) +
         "\n"
         "Unit=" +
         ServiceFileName(name) +
         "\n"
         "\n"
         "[Install]\n"
         "WantedBy=timers.target\n";
}

std::vector<std::string> UnitFileValues(std::string_view text, std::string_view key) {
  std::vector<std::string> values;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == '=')
      values.emplace_back(line.substr(key.size() + 1));
    start = end + 1;
  }
  return values;
}

std::optional<std::string> UnitFileValue(std::string_view text, std::string_view key) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == '=')
      return std::string(line.substr(key.size() + 1));
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace ferry
