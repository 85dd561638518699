#include "cli/schedule_writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry {
namespace {

// Arguments that have broken schedulers before: spaces, systemd specifiers and
// variables, cron's %, both quote characters, backslashes next to all of them.
const std::vector<std::string> kAwkwardArgs = {
    "/srv/plain",
    "/srv/with space",
    "/srv/50%",
    "/srv/%n%%",
    "/srv/$HOME",
    "/srv/${X}$$",
    "/srv/it's",
    "/srv/say \"hi\"",
    "/srv/back\\slash",
    "/srv/a\\%b",
    "/srv/trailing\\",
    "/srv/\\\\%x",
    "/srv/%",
    "%",
    "%%lead",
    "'",
    ";",
    "/srv/tab;semi",
    "/srv/ünïcode ✓",
    "--tag=-x",
    "/srv/~user",
    "/srv/a*b?[c]",
    "/srv/`cmd` $(cmd)",
    "/srv/#hash",
};

// What cron does to a command before handing it to the shell (cronie's
// do_command.c): "\%" becomes "%", any other "\x" stays, a lone % ends it.
std::string CronUnescape(const std::string& line) {
  std::string out;
  bool escaped = false;
  for (char c : line) {
    if (escaped) {
      if (c == '%')
        out.back() = '%';
      else
        out += c;
      escaped = false;
      continue;
    }
    if (c == '%') break;
    out += c;
    if (c == '\\') escaped = true;
  }
  return out;
}

// POSIX sh word splitting for the subset QuoteForShell writes: bare words,
// '...' and \x outside quotes.
std::vector<std::string> ShellSplit(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else if (c == '\'') {
      size_t end = text.find('\'', i + 1);
      EXPECT_NE(end, std::string::npos) << text;
      word += text.substr(i + 1, end - i - 1);
      i = end;
      in_word = true;
    } else if (c == '\\') {
      word += text.at(++i);
      in_word = true;
    } else {
      EXPECT_TRUE(c != '"' && c != '$' && c != '`' && c != '*' && c != '?' && c != '~' &&
                  c != ';' && c != '#')
          << "unquoted shell metacharacter " << c << " in " << text;
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

ScheduledBackup SampleBackup() {
  ScheduledBackup backup;
  backup.ferry_binary = "/usr/local/bin/ferry";
  backup.repository = "/mnt/backup/repo";
  backup.password_file = "/etc/ferry/password";
  backup.paths = {"/home", "/srv/data"};
  return backup;
}

TEST(ScheduleWriterTest, ParsesTimesOfDay) {
  auto t = ParseTimeOfDay("02:00");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->hour, 2);
  EXPECT_EQ(t->minute, 0);
  t = ParseTimeOfDay("7:05");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->hour, 7);
  EXPECT_EQ(t->minute, 5);
  t = ParseTimeOfDay("23:59");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->hour, 23);
  EXPECT_EQ(t->minute, 59);
  EXPECT_TRUE(ParseTimeOfDay("00:00").ok());
  for (const char* bad : {"24:00", "12:60", "1200", "12:5", "123:00", ":00", "ab:cd", "", " 2:00",
                          "2:00 ", "-1:00", "12:00:00", "1a:00", "+1:00"})
    EXPECT_FALSE(ParseTimeOfDay(bad).ok()) << bad;
}

TEST(ScheduleWriterTest, ParsesAndFormatsDelays) {
  struct Case {
    const char* text;
    uint64_t seconds;
  };
  for (const Case& c : {Case{"0", 0}, Case{"90", 90}, Case{"90s", 90}, Case{"30min", 1800},
                        Case{"30m", 1800}, Case{"2h", 7200}, Case{"1h 30min", 5400},
                        Case{"1h30min", 5400}, Case{"24h", 86400}, Case{"  5min ", 300}}) {
    auto parsed = ParseTimeSpan(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.status().message();
    EXPECT_EQ(*parsed, c.seconds) << c.text;
  }
  for (const char* bad : {"", " ", "abc", "30 minutes", "25h", "24h 1s", "-5", "5x", "1.5h",
                          "99999999999999999999999", "30MIN", "min"})
    EXPECT_FALSE(ParseTimeSpan(bad).ok()) << bad;

  EXPECT_EQ(FormatTimeSpan(0), "0");
  EXPECT_EQ(FormatTimeSpan(1800), "30min");
  EXPECT_EQ(FormatTimeSpan(7200), "2h");
  EXPECT_EQ(FormatTimeSpan(5400), "90min");
  EXPECT_EQ(FormatTimeSpan(61), "61s");
  for (uint64_t seconds : {0, 1, 59, 60, 61, 3599, 3600, 5400, 86400}) {
    auto again = ParseTimeSpan(FormatTimeSpan(seconds));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, seconds);
  }
}

TEST(ScheduleWriterTest, ValidatesNames) {
  for (const char* good : {"default", "home-nightly_2.x", "A", "..", "-x"})
    EXPECT_TRUE(ValidateScheduleName(good).ok()) << good;
  for (const std::string& bad : std::vector<std::string>{"", "a/b", "a b", "n\xC3\xA4me", "a%b",
                                                         "a\nb", "$x", std::string(65, 'a')})
    EXPECT_FALSE(ValidateScheduleName(bad).ok()) << bad;
  EXPECT_TRUE(ValidateScheduleName(std::string(64, 'a')).ok());
}

TEST(ScheduleWriterTest, BuildsTheBackupCommand) {
  ScheduledBackup backup = SampleBackup();
  backup.tags = {"nightly", "scheduled"};
  backup.excludes = {"*.tmp", "-weird"};
  backup.exclude_files = {"/etc/ferry/excludes"};
  backup.one_file_system = true;
  auto argv = BuildBackupCommand(backup);
  ASSERT_TRUE(argv.ok()) << argv.status().message();
  EXPECT_EQ(*argv,
            (std::vector<std::string>{
                "/usr/local/bin/ferry", "--repo=/mnt/backup/repo",
                "--password-file=/etc/ferry/password", "backup", "/home", "/srv/data",
                "--tag=scheduled", "--tag=nightly", "--exclude=*.tmp", "--exclude=-weird",
                "--exclude-file=/etc/ferry/excludes", "--one-file-system", "--json", "--quiet"}));
}

TEST(ScheduleWriterTest, AgentFileReplacesTheRepository) {
  ScheduledBackup backup = SampleBackup();
  backup.agent_file = "/etc/ferry/agent.json";
  auto argv = BuildBackupCommand(backup);
  ASSERT_TRUE(argv.ok()) << argv.status().message();
  EXPECT_EQ((*argv)[1], "--agent=/etc/ferry/agent.json");
  for (const std::string& arg : *argv) EXPECT_NE(arg.rfind("--repo", 0), 0u) << arg;

  backup.agent_file = "agent.json";
  EXPECT_FALSE(BuildBackupCommand(backup).ok());
}

TEST(ScheduleWriterTest, RefusesWhatATimerCannotRun) {
  ScheduledBackup backup = SampleBackup();
  backup.password_file.clear();
  auto result = BuildBackupCommand(backup);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("password file"), std::string::npos);
  EXPECT_NE(result.status().message().find("cannot type a password"), std::string::npos);

  auto refused = [](auto change) {
    ScheduledBackup b = SampleBackup();
    change(b);
    return !BuildBackupCommand(b).ok();
  };
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.repository.clear(); }));
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.repository = "repo"; }));
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.paths.clear(); }));
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.paths = {"relative/dir"}; }));
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.password_file = "password"; }));
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.exclude_files = {"excludes"}; }));
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.ferry_binary = "ferry"; }));
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.ferry_binary = "/opt/it's/ferry"; }));
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.ferry_binary = "/opt/$x/ferry"; }));
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.paths = {"/srv/new\nline"}; }));
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.paths = {"/srv/tab\there"}; }));
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.paths = {"/srv/latin1-\xE9"}; }));
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.tags = {""}; }));
  EXPECT_TRUE(refused([](ScheduledBackup& b) { b.excludes = {"a\rb"}; }));
  // A repository URL is kept as it is; a binary with a space is fine for systemd.
  EXPECT_FALSE(refused([](ScheduledBackup& b) { b.repository = "https://vault:8470/x"; }));
  EXPECT_FALSE(refused([](ScheduledBackup& b) { b.ferry_binary = "/opt/my tools/ferry"; }));
}

TEST(ScheduleWriterTest, QuotesForSystemd) {
  EXPECT_EQ(QuoteForSystemd("/usr/bin/ferry"), "/usr/bin/ferry");
  EXPECT_EQ(QuoteForSystemd("--tag=scheduled"), "--tag=scheduled");
  EXPECT_EQ(QuoteForSystemd("/srv/a b"), "\"/srv/a b\"");
  EXPECT_EQ(QuoteForSystemd("/srv/50%"), "\"/srv/50%%\"");
  EXPECT_EQ(QuoteForSystemd("$HOME"), "\"$$HOME\"");
  EXPECT_EQ(QuoteForSystemd("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(QuoteForSystemd("it's"), "\"it's\"");
  EXPECT_EQ(QuoteForSystemd(""), "\"\"");
  EXPECT_EQ(QuoteForSystemd(";"), "\";\"");  // a bare ; separates commands
}

TEST(ScheduleWriterTest, SystemdCommandLinesRoundTrip) {
  std::vector<std::string> argv = {"/opt/my tools/ferry"};
  argv.insert(argv.end(), kAwkwardArgs.begin(), kAwkwardArgs.end());
  argv.push_back("");
  std::string line = SystemdCommandLine(argv);
  // Nothing systemd would expand is left unescaped.
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '%' && line[i] != '$') continue;
    ASSERT_LT(i + 1, line.size());
    EXPECT_EQ(line[i + 1], line[i]) << line.substr(i);
    ++i;
  }
  auto parsed = ParseSystemdCommandLine(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(*parsed, argv);
  for (const std::string& arg : kAwkwardArgs) {
    auto one = ParseSystemdCommandLine(QuoteForSystemd(arg));
    ASSERT_TRUE(one.ok()) << arg;
    EXPECT_EQ(*one, std::vector<std::string>{arg});
  }
}

TEST(ScheduleWriterTest, ParsesHandWrittenCommandLinesOrSaysWhy) {
  auto parsed = ParseSystemdCommandLine("  /bin/ferry   'a b'  c\\\\d \"e'f\"  ");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(*parsed, (std::vector<std::string>{"/bin/ferry", "a b", "c\\d", "e'f"}));
  for (const char* bad :
       {"", "   ", "/bin/ferry %n", "/bin/ferry $FOO", "/bin/ferry ${FOO}", "/bin/ferry \"open",
        "/bin/ferry 'open", "/bin/ferry \\n", "/bin/ferry trailing\\"})
    EXPECT_FALSE(ParseSystemdCommandLine(bad).ok()) << bad;
}

TEST(ScheduleWriterTest, QuotesForTheShell) {
  EXPECT_EQ(QuoteForShell("/usr/bin/ferry"), "/usr/bin/ferry");
  EXPECT_EQ(QuoteForShell("/srv/a b"), "'/srv/a b'");
  EXPECT_EQ(QuoteForShell("it's"), "'it'\\''s'");
  EXPECT_EQ(QuoteForShell("50%"), "'50'%");
  EXPECT_EQ(QuoteForShell("%"), "%");
  EXPECT_EQ(QuoteForShell(""), "''");
  EXPECT_EQ(ShellCommandLine({"/bin/ferry", "a b", "50%"}), "/bin/ferry 'a b' '50'%");
}

TEST(ScheduleWriterTest, CrontabCommandsSurviveCronAndTheShell) {
  for (const std::string& arg : kAwkwardArgs) {
    auto escaped = EscapeForCrontab(QuoteForShell(arg));
    ASSERT_TRUE(escaped.ok()) << arg << ": " << escaped.status().message();
    EXPECT_EQ(ShellSplit(CronUnescape(*escaped)), std::vector<std::string>{arg}) << *escaped;
  }
  std::string all;
  for (const std::string& arg : kAwkwardArgs) all += (all.empty() ? "" : " ") + QuoteForShell(arg);
  auto escaped = EscapeForCrontab(all);
  ASSERT_TRUE(escaped.ok());
  EXPECT_EQ(ShellSplit(CronUnescape(*escaped)), kAwkwardArgs);

  EXPECT_EQ(*EscapeForCrontab("a%b"), "a\\%b");
  EXPECT_EQ(*EscapeForCrontab("a\\\\%b"), "a\\\\\\%b");
  EXPECT_FALSE(EscapeForCrontab("a\\%b").ok());  // QuoteForShell never writes this
  EXPECT_FALSE(EscapeForCrontab("a\nb").ok());
}

TEST(ScheduleWriterTest, WritesTheCrontabLine) {
  Schedule schedule;
  schedule.name = "nightly";
  schedule.time = {2, 5};
  schedule.command = {"/usr/local/bin/ferry", "--repo=/mnt/repo", "backup", "/srv/100% sure"};
  auto line = CrontabLine(schedule);
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(*line,
            "5 2 * * * /usr/local/bin/ferry --repo=/mnt/repo backup '/srv/100'\\%' sure' >> "
            "/var/log/ferry-nightly.log 2>&1");
}

TEST(ScheduleWriterTest, WritesTheUnits) {
  auto argv = BuildBackupCommand(SampleBackup());
  ASSERT_TRUE(argv.ok());
  Schedule schedule;
  schedule.name = "nightly";
  schedule.time = {2, 5};
  schedule.randomized_delay_seconds = 1800;
  schedule.command = *argv;

  EXPECT_EQ(ServiceFileName("nightly"), "ferry-backup-nightly.service");
  EXPECT_EQ(TimerFileName("nightly"), "ferry-backup-nightly.timer");
  EXPECT_EQ(CronLogPath("nightly"), "/var/log/ferry-nightly.log");

  std::string service = ServiceUnitText(schedule);
  EXPECT_EQ(UnitFileValue(service, "Type"), "oneshot");
  EXPECT_EQ(UnitFileValue(service, "ExecStart"), SystemdCommandLine(*argv));
  EXPECT_EQ(UnitFileValue(service, "Nice"), "10");
  EXPECT_EQ(UnitFileValue(service, "IOSchedulingClass"), "idle");
  EXPECT_EQ(UnitFileValue(service, "StandardOutput"), "journal");
  EXPECT_NE(service.find("[Service]\n"), std::string::npos);
  EXPECT_EQ(service.find("Environment"), std::string::npos);  // never a password

  std::string timer = TimerUnitText(schedule);
  EXPECT_EQ(UnitFileValue(timer, "OnCalendar"), "*-*-* 02:05:00");
  EXPECT_EQ(UnitFileValue(timer, "Persistent"), "true");
  EXPECT_EQ(UnitFileValue(timer, "RandomizedDelaySec"), "30min");
  EXPECT_EQ(UnitFileValue(timer, "Unit"), "ferry-backup-nightly.service");
  EXPECT_EQ(UnitFileValue(timer, "WantedBy"), "timers.target");
  EXPECT_NE(timer.find("[Timer]\n"), std::string::npos);
  EXPECT_EQ(UnitFileValue(timer, "Missing"), std::nullopt);
  // Every line of both files is a comment, a section, a Key=Value or empty.
  for (const std::string& text : {service, timer}) {
    EXPECT_EQ(text.back(), '\n');
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      std::string line = text.substr(start, end - start);
      EXPECT_TRUE(line.empty() || line[0] == '#' || line[0] == '[' ||
                  line.find('=') != std::string::npos)
          << line;
      start = end + 1;
    }
  }
}

// --apply-vault-policy: a second step, after the backup and only after a
// backup that succeeded, with the maintenance credentials (issue 11).
TEST(ScheduleWriterTest, BuildsTheVaultPolicyStep) {
  ScheduledBackup backup = SampleBackup();
  backup.agent_file = "/etc/ferry/agent.json";
  EXPECT_NE(BuildVaultPolicyCommand(backup).status().message().find("--maintenance-agent"),
            std::string::npos);
  backup.maintenance_agent_file = "/etc/ferry/maint.json";
  auto argv = BuildVaultPolicyCommand(backup);
  ASSERT_TRUE(argv.ok()) << argv.status().message();
  EXPECT_EQ(*argv,
            (std::vector<std::string>{"/usr/local/bin/ferry", "--agent=/etc/ferry/maint.json",
                                      "--password-file=/etc/ferry/password", "forget",
                                      "--vault-policy", "--json", "--quiet"}));

  ScheduledBackup relative = backup;
  relative.maintenance_agent_file = "maint.json";
  EXPECT_FALSE(BuildVaultPolicyCommand(relative).ok());
  ScheduledBackup no_vault = SampleBackup();  // --repo: there is no vault policy
  no_vault.maintenance_agent_file = "/etc/ferry/maint.json";
  EXPECT_NE(BuildVaultPolicyCommand(no_vault).status().message().find("to a vault"),
            std::string::npos);
}

TEST(ScheduleWriterTest, TheUnitAndCrontabRunThePolicyAfterTheBackup) {
  ScheduledBackup backup = SampleBackup();
  backup.agent_file = "/etc/ferry/agent.json";
  backup.maintenance_agent_file = "/etc/ferry/maint 1.json";
  auto command = BuildBackupCommand(backup);
  auto policy = BuildVaultPolicyCommand(backup);
  ASSERT_TRUE(command.ok() && policy.ok());
  Schedule schedule;
  schedule.name = "nightly";
  schedule.time = {2, 5};
  schedule.command = *command;
  schedule.policy_command = *policy;

  std::string service = ServiceUnitText(schedule);
  std::vector<std::string> steps = UnitFileValues(service, "ExecStart");
  ASSERT_EQ(steps.size(), 2u) << service;
  EXPECT_EQ(steps[0], SystemdCommandLine(*command));
  EXPECT_EQ(steps[1], SystemdCommandLine(*policy));
  EXPECT_EQ(*ParseSystemdCommandLine(steps[1]), *policy);
  EXPECT_EQ(UnitFileValue(service, "Type"), "oneshot");  // stops at the first failed step

  auto line = CrontabLine(schedule);
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(*line, "5 2 * * * " + ShellCommandLine(*command) +
                       " >> /var/log/ferry-nightly.log 2>&1 && /usr/local/bin/ferry "
                       "'--agent=/etc/ferry/maint 1.json' --password-file=/etc/ferry/password "
                       "forget --vault-policy --json --quiet >> /var/log/ferry-nightly.log 2>&1");

  schedule.policy_command.clear();  // without the option: one step, as before
  EXPECT_EQ(UnitFileValues(ServiceUnitText(schedule), "ExecStart").size(), 1u);
  EXPECT_EQ(CrontabLine(schedule)->find("&&"), std::string::npos);
}

}  // namespace
}  // namespace ferry
