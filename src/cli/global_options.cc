#include "cli/global_options.h"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>

#include "cli/agent_credentials.h"
#include "cli/seed_client.h"
#include "crypto/hash.h"
#include "storage/backend.h"
#include "storage/backend_registry.h"
#include "storage/cache_backend.h"
#include "storage/fallback_backend.h"
#include "storage/local_backend.h"

namespace ferry {

void GlobalOptions::Register(CLI::App& app) {
  app.add_option("-r,--repo", repository, "Repository location")->envname("FERRY_REPOSITORY");
  app.add_option("--agent", agent_file,
                 "Agent credentials file: use this machine's repository in a vault")
      ->envname("FERRY_AGENT");
  app.add_option("--staging", staging,
                 "Offline seed's staging directory: packs still travelling on disks are read "
                 "from it (backup --offline writes them there)")
      ->envname("FERRY_STAGING");
  app.add_option("--password-file", password_file, "File whose first line is the password")
      ->envname("FERRY_PASSWORD_FILE");
  app.add_option("--cache-dir", cache_dir,
                 "Where to cache a vault repository's metadata (trees, indexes, snapshots) "
                 "[default: $XDG_CACHE_HOME/ferry or ~/.cache/ferry]")
      ->envname("FERRY_CACHE_DIR");
  app.add_option("--state-dir", state_dir,
                 "Where this machine remembers repositories (their IDs, the snapshots and "
                 "indexes it wrote) [default: $XDG_CONFIG_HOME/ferry or ~/.config/ferry]")
      ->envname("FERRY_STATE_DIR");
  app.add_flag("--no-cache", no_cache, "Read all metadata from the vault (no local cache)");
  app.add_flag("--json", json, "Machine-readable, line-delimited JSON output");
  app.add_flag("-q,--quiet", quiet, "No progress and no informational output");
}

std::atomic<bool>& InterruptFlag() {
  static std::atomic<bool> flag{false};
  return flag;
}

namespace {
void OnSignal(int signal_number) {
  // Second signal: the user means it.
  if (InterruptFlag().exchange(true)) std::_Exit(128 + signal_number);
}

std::mutex output_mutex;

Result<std::string> PromptPassword(const std::string& prompt) {
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (!tty) return Status::InvalidArgument("cannot open the terminal to ask for the password");
  std::fputs(prompt.c_str(), tty);
  std::fflush(tty);
  struct termios saved, quiet;
  int fd = fileno(tty);
  bool restore = tcgetattr(fd, &saved) == 0;
  if (restore) {
    quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  char buffer[1024];
  bool got = std::fgets(buffer, sizeof buffer, tty) != nullptr;
  if (restore) tcsetattr(fd, TCSAFLUSH, &saved);
  std::fputs("\n", tty);
  std::fclose(tty);
  if (!got) return Status::InvalidArgument("no password entered");
  std::string password = buffer;
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r'))
    password.pop_back();
  return password;
}
}  // namespace

void InstallSignalHandlers() {
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

Result<std::string> ReadPassword(const GlobalOptions& options, bool confirm,
                                 const std::string& prompt) {
  if (!options.password_file.empty()) {
    std::ifstream in(options.password_file);
    if (!in) return Status::NotFound("cannot read password file " + options.password_file);
    std::string password;
    std::getline(in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty())
      return Status::InvalidArgument("password file " + options.password_file + " is empty");
    return password;
  }
  if (const char* env = std::getenv("FERRY_PASSWORD"); env && *env) return std::string(env);
  if (!isatty(STDIN_FILENO))
    return Status::InvalidArgument(
        "no password given: set FERRY_PASSWORD_FILE (or use --password-file), or run on a "
        "terminal to be asked");
  ASSIGN_OR_RETURN(std::string password, PromptPassword(prompt));
  if (password.empty()) return Status::InvalidArgument("the password must not be empty");
  if (confirm) {
    ASSIGN_OR_RETURN(std::string again, PromptPassword("Repeat the password: "));
    if (again != password) return Status::InvalidArgument("the passwords do not match");
  }
  return password;
}

namespace {
// `chosen` if given, else $XDG_VARIABLE/ferry, else ~/HOME_FALLBACK/ferry
// (the XDG base directory rules); "" if there is no home either.
std::string XdgDirectory(const std::string& chosen, const char* variable,
                         const char* home_fallback) {
  if (!chosen.empty()) return chosen;
  if (const char* xdg = std::getenv(variable); xdg && *xdg) return std::string(xdg) + "/ferry";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/" + home_fallback + "/ferry";
  return "";
}

std::string CacheRoot(const GlobalOptions& options) {
  return XdgDirectory(options.cache_dir, "XDG_CACHE_HOME", ".cache");
}

// The cache directory for one vault repository: one below the cache root per
// vault and machine (not per server address, which may change: behind a proxy,
// after a move), so that each can be deleted on its own. Cached objects are
// content-addressed, so even a shared directory could not serve wrong bytes.
std::string CacheDirFor(const GlobalOptions& options, const AgentCredentials& credentials) {
  std::string root = CacheRoot(options);
  if (root.empty()) return "";
  std::string repository = credentials.vault + "/" + credentials.machine;
  return root + "/" + Sha256(AsBytes(repository)).Hex().substr(0, 16);
}
}  // namespace

namespace {
// `name`'s value if the environment sets it to `value`: then that is where
// the option came from (a flag with the same value would say the same).
bool FromEnvironment(const char* name, const std::string& value) {
  const char* set = std::getenv(name);
  return set != nullptr && value == set;
}

// Both a repository and an agent file: say where each came from, since an
// exported FERRY_REPOSITORY is easy to forget.
std::string AgentAndRepositoryConflict(const GlobalOptions& options) {
  std::string message = "give either --agent or --repo, not both";
  if (FromEnvironment("FERRY_REPOSITORY", options.repository))
    message += ": the repository " + options.repository +
               " comes from the environment (FERRY_REPOSITORY); 'unset FERRY_REPOSITORY' to use "
               "the vault of " +
               options.agent_file;
  else if (FromEnvironment("FERRY_AGENT", options.agent_file))
    message += ": the agent file " + options.agent_file +
               " comes from the environment (FERRY_AGENT); 'unset FERRY_AGENT' to use " +
               options.repository;
  return message;
}
}  // namespace

Result<std::unique_ptr<Backend>> OpenBackendFor(const GlobalOptions& options) {
  std::unique_ptr<Backend> backend;
  std::vector<std::string> staging_dirs;
  if (!options.staging.empty()) staging_dirs.push_back(options.staging);
  if (!options.agent_file.empty()) {
    if (!options.repository.empty())
      return Status::InvalidArgument(AgentAndRepositoryConflict(options));
    ASSIGN_OR_RETURN(AgentCredentials credentials, LoadAgentCredentials(options.agent_file));
    ASSIGN_OR_RETURN(backend, OpenAgentBackend(credentials));
    if (std::string cache = options.no_cache ? "" : CacheDirFor(options, credentials);
        !cache.empty())
      backend = std::make_unique<CacheBackend>(std::move(backend), cache);
    // While a seed's disks travel, its packs are only in staging: read them there.
    for (const std::string& dir : PendingStagingDirs(credentials))
      if (std::find(staging_dirs.begin(), staging_dirs.end(), dir) == staging_dirs.end())
        staging_dirs.push_back(dir);
  } else {
    ASSIGN_OR_RETURN(backend, OpenBackend(options.repository));
  }
  for (const std::string& dir : staging_dirs)
    backend =
        std::make_unique<FallbackBackend>(std::move(backend), std::make_unique<LocalBackend>(dir));
  return backend;
}

std::string StateDir(const GlobalOptions& options) {
  return XdgDirectory(options.state_dir, "XDG_CONFIG_HOME", ".config");
}

Result<RepositoryLocation> LocationFor(const GlobalOptions& options) {
  if (options.agent_file.empty()) {
    if (options.repository.empty())
      return Status::InvalidArgument("no repository given: use --repo or set FERRY_REPOSITORY");
    return StorageRepositoryLocation(options.repository);
  }
  ASSIGN_OR_RETURN(AgentCredentials credentials, LoadAgentCredentials(options.agent_file));
  return VaultLocation(credentials.server, credentials.vault, credentials.machine);
}

namespace {
// The ID the agent file pins (nullopt without --agent or before the first
// open).
Result<std::optional<Id>> AgentFilePin(const GlobalOptions& options) {
  if (options.agent_file.empty()) return std::optional<Id>();
  ASSIGN_OR_RETURN(std::string pinned, LoadAgentRepositoryId(options.agent_file));
  if (pinned.empty()) return std::optional<Id>();
  auto id = Id::FromHex(pinned);
  if (!id.ok())
    return Status::InvalidArgument("agent credentials " + options.agent_file +
                                   ": repository_id is not a repository ID (" +
                                   id.status().message() + ")");
  return std::optional<Id>(*id);
}

// Refuses a repository other than the pinned one (both pins, when there are
// two: either may be the one an attacker could not reach); pins it where no
// pin exists yet.
Status CheckPins(const GlobalOptions& options, const Id& served) {
  ASSIGN_OR_RETURN(RepositoryLocation location, LocationFor(options));
  ASSIGN_OR_RETURN(std::optional<Id> agent_pin, AgentFilePin(options));
  if (agent_pin && *agent_pin != served)
    return RepositoryChangedError(location, *agent_pin, served,
                                  "the agent file " + options.agent_file);
  std::string state = StateDir(options);
  if (state.empty()) {
    Warn(options,
         "no configuration directory (neither XDG_CONFIG_HOME nor HOME is set, no "
         "--state-dir): this machine cannot remember which repository it uses");
  } else {
    KnownRepositories known(state);
    ASSIGN_OR_RETURN(std::optional<RepositoryPin> pin, known.Find(location));
    if (pin && pin->repository_id != served)
      return RepositoryChangedError(location, pin->repository_id, served, known.PinPath(location));
    if (!pin)
      if (Status pinned = known.Pin(location, served); !pinned.ok())
        Warn(options, pinned.message() + ": this machine does not pin the repository");
  }
  if (!options.agent_file.empty() && !agent_pin)
    if (Status pinned = RecordRepositoryInAgentFile(options.agent_file, served.Hex()); !pinned.ok())
      Warn(options, pinned.message());
  return Status::Ok();
}

// What the NoRepository error adds when this machine knew a repository there:
// a vault that answers "no repository" may be hiding one.
std::string PinnedHint(const GlobalOptions& options) {
  std::string state = StateDir(options);
  auto location = LocationFor(options);
  if (state.empty() || !location.ok()) return "";
  auto pin = KnownRepositories(state).Find(*location);
  if (!pin.ok() || !*pin) return "";
  return "; this machine used repository " + (*pin)->repository_id.Short() +
         " there: if nobody deleted it, it was lost or is being hidden";
}
}  // namespace

void PinRepository(const GlobalOptions& options, const Id& id) {
  auto location = LocationFor(options);
  if (!location.ok()) {
    Warn(options, location.status().message() + ": the repository is not pinned");
    return;
  }
  if (std::string state = StateDir(options); !state.empty()) {
    KnownRepositories known(state);
    auto pin = known.Find(*location);
    if (pin.ok() && *pin && (*pin)->repository_id != id)
      Say(options, "this machine no longer expects repository " + (*pin)->repository_id.Short() +
                       " at " + location->description + ": it now expects " + id.Short());
    if (Status pinned = known.Pin(*location, id); !pinned.ok())
      Warn(options, pinned.message() + ": this machine does not pin the repository");
  }
  if (!options.agent_file.empty())
    if (Status pinned = RecordRepositoryInAgentFile(options.agent_file, id.Hex()); !pinned.ok())
      Warn(options, pinned.message());
}

Status RecordDeliberateRemoval(const GlobalOptions& options, const Repository& repository,
                               ObjectKind kind, const std::vector<Id>& ids) {
  std::string state = StateDir(options);
  if (state.empty()) return Status::Ok();
  return HistoryGuard(state, repository.config().id).RecordRemoved(kind, ids);
}

Result<std::unique_ptr<Repository>> OpenRepository(const GlobalOptions& options, bool load_index) {
  return OpenRepositoryWith(options, load_index, TrustChecks::kAll);
}

Result<std::unique_ptr<Repository>> OpenRepositoryWith(const GlobalOptions& options,
                                                       bool load_index, TrustChecks checks) {
  ASSIGN_OR_RETURN(std::unique_ptr<Backend> inner, OpenBackendFor(options));
  // Fail on a missing repository before asking for a password.
  auto config = inner->Stat(ObjectName::Config());
  if (!config.ok() && config.status().IsNotFound())
    return Status::NoRepository("there is no repository at " + inner->Location() +
                                " (create one with 'ferry init')" + PinnedHint(options));
  ASSIGN_OR_RETURN(std::string password, ReadPassword(options, false));
  auto recording = std::make_unique<HistoryRecordingBackend>(std::move(inner));
  HistoryRecordingBackend* backend = recording.get();
  ASSIGN_OR_RETURN(std::unique_ptr<Repository> repository,
                   Repository::Open(std::move(recording), password));
  // Skipped key files (damaged, refused, unknown): on stderr also with --json,
  // whose stdout may be one JSON document.
  WarnDamaged(options, *repository, ObjectKind::kKey, /*json_to_stderr=*/true);
  const Id& id = repository->config().id;
  if (checks != TrustChecks::kNone) RETURN_IF_ERROR(CheckPins(options, id));
  if (std::string state = StateDir(options); !state.empty() && checks != TrustChecks::kNone) {
    auto guard = std::make_shared<HistoryGuard>(state, id);
    if (checks == TrustChecks::kAll) {
      ASSIGN_OR_RETURN(std::vector<MissingObject> missing, guard->FindMissing(*backend));
      if (!missing.empty()) {
        ASSIGN_OR_RETURN(RepositoryLocation location, LocationFor(options));
        return HistoryMissingError(location.description, id, missing);
      }
    }
    // A copy: the repository may outlive the options it was opened with.
    backend->Attach(guard, [options](const Status& status) {
      Warn(options,
           status.message() + ": this machine will not notice if the storage loses that object");
    });
  }
  if (load_index) {
    RETURN_IF_ERROR(repository->LoadIndex());
    WarnDamaged(options, *repository, ObjectKind::kIndex);
  }
  return repository;
}

size_t WarnDamaged(const GlobalOptions& options, const Repository& repository, ObjectKind kind,
                   bool json_to_stderr) {
  size_t count = 0;
  for (const DamagedObject& object : repository.damaged()) {
    if (object.kind != kind) continue;
    ++count;
    std::string message = DescribeSkipped(object);
    if (!options.json) {
      Warn(options, message);
      continue;
    }
    nlohmann::json line = {{"message_type", "damaged_object"},
                           {"kind", ObjectLabel(kind)},
                           {"id", object.id.Hex()},
                           {"problem", object.problem},
                           {"message", message}};
    if (!json_to_stderr) {
      PrintJson(line);
    } else {
      std::lock_guard lock(output_mutex);
      std::cerr << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    }
  }
  return count;
}

Result<SnapshotEntry> SelectSnapshot(const GlobalOptions& options, Repository& repository,
                                     const std::string& selector) {
  auto entry = repository.FindSnapshot(selector);
  WarnDamaged(options, repository, ObjectKind::kSnapshot);
  return entry;
}

std::string LockSeenDir(const GlobalOptions& options) {
  std::string root = CacheRoot(options);
  return root.empty() ? "" : root + "/locks";
}

Result<std::unique_ptr<RepositoryLock>> LockRepository(const GlobalOptions& options,
                                                       Repository& repository, bool exclusive) {
  LockOptions lock_options;
  lock_options.seen_dir = LockSeenDir(options);
  lock_options.warn = [&options](const std::string& message) { Warn(options, message); };
  return RepositoryLock::Acquire(repository, exclusive, Clock::System(), lock_options);
}

void PrintJson(const nlohmann::json& value) {
  std::lock_guard lock(output_mutex);
  std::cout << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

int ReportError(const GlobalOptions& options, const Status& status) {
  int code = kExitFailure;
  switch (status.code()) {
    case StatusCode::kWrongPassword:
      code = kExitWrongPassword;
      break;
    case StatusCode::kLocked:
      code = kExitLocked;
      break;
    case StatusCode::kInterrupted:
      code = kExitInterrupted;
      break;
    case StatusCode::kNoRepository:
      code = kExitNoRepository;
      break;
    case StatusCode::kRepositoryChanged:
      code = kExitRepositoryChanged;
      break;
    case StatusCode::kHistoryMissing:
      code = kExitHistoryMissing;
      break;
    default:
      break;
  }
  if (options.json) {
    PrintJson({{"message_type", "error"}, {"message", status.message()}, {"exit_code", code}});
  } else {
    std::lock_guard lock(output_mutex);
    std::cerr << "ferry: " << status.message() << std::endl;
  }
  return code;
}

void Say(const GlobalOptions& options, const std::string& line) {
  if (options.quiet || options.json) return;
  std::lock_guard lock(output_mutex);
  std::cout << line << std::endl;
}

void Warn(const GlobalOptions& options, const std::string& message) {
  if (options.json) {
    PrintJson({{"message_type", "warning"}, {"message", message}});
    return;
  }
  std::lock_guard lock(output_mutex);
  // On a terminal, first clear the progress line the warning would run into.
  std::cerr << (isatty(STDERR_FILENO) ? "\r\033[K" : "") << "warning: " << message << std::endl;
}

std::string HumanDuration(double seconds) {
  long total = static_cast<long>(seconds + 0.5);
  char buffer[32];
  if (total >= 3600)
    std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60,
                  total % 60);
  else
    std::snprintf(buffer, sizeof buffer, "%ld:%02ld", total / 60, total % 60);
  return buffer;
}

Status WithMaintenanceHint(const GlobalOptions& options, const Status& status) {
  if (status.code() != StatusCode::kPermissionDenied || options.agent_file.empty()) return status;
  return status.WithContext(
      "deleting on a vault needs the machine's maintenance token ('ferry machine "
      "maintenance-token --out FILE', then --agent FILE)");
}

}  // namespace ferry
