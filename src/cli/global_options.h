// What every ferry command shares: where the repository is, how to get the
// password, how to print (human, --json, --quiet), the exit codes, and the
// interrupt flag that SIGINT/SIGTERM set.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "repo/history_guard.h"
#include "repo/known_repository.h"
#include "repo/lock.h"
#include "repo/repository.h"

namespace ferry {

// Documented in docs/cli.md; scripts depend on them.
enum ExitCode {
  kExitOk = 0,
  kExitFailure = 1,
  kExitUsage = 2,
  kExitIncomplete = 3,
  kExitNoRepository = 10,
  kExitLocked = 11,
  kExitWrongPassword = 12,
  kExitRepositoryChanged = 13,  // the location serves another repository than pinned
  kExitHistoryMissing = 14,     // snapshots or indexes this machine wrote are gone
  kExitInterrupted = 130,
};

struct GlobalOptions {
  std::string repository;
  std::string agent_file;  // use the machine's repository in a vault instead
  std::string staging;     // an offline seed's staging directory: read packs from it too
  std::string password_file;
  // Local cache of a vault repository's metadata (CacheBackend); empty: the
  // default, $XDG_CACHE_HOME/ferry or ~/.cache/ferry.
  std::string cache_dir;
  bool no_cache = false;
  // What this machine remembers about repositories (pins, written snapshots
  // and indexes); empty: $XDG_CONFIG_HOME/ferry or ~/.config/ferry.
  std::string state_dir;
  bool json = false;
  bool quiet = false;

  void Register(CLI::App& app);
};

// Set by SIGINT/SIGTERM; long-running commands poll it and stop cleanly.
std::atomic<bool>& InterruptFlag();
void InstallSignalHandlers();

// The password from --password-file, FERRY_PASSWORD_FILE, FERRY_PASSWORD or,
// on a terminal, a prompt (twice when `confirm`).
Result<std::string> ReadPassword(const GlobalOptions& options, bool confirm,
                                 const std::string& prompt = "Password: ");

// The backend the options point at: the vault (--agent) or a local path (--repo),
// reading packs it lacks from --staging and, with --agent, from the staging
// directories of seeds still travelling. A vault's metadata is cached locally
// unless --no-cache.
Result<std::unique_ptr<Backend>> OpenBackendFor(const GlobalOptions& options);
// Opens the repository (asking for the password) and loads its index,
// warning about each index object it had to skip (WarnDamaged).
// `load_index` false: for check, which reads each index itself.
//
// Before the index is loaded it verifies what this machine remembers
// (repo/known_repository.h, repo/history_guard.h): the repository must be the
// one pinned at this location (else kRepositoryChanged, exit 13; the first
// open pins it), and every snapshot and index object this machine wrote must
// still be listed (else kHistoryMissing, exit 14). The repository then records
// the snapshots and indexes it writes, and the ones removed through its
// backend() (deliberate removals: see history_guard.h).
Result<std::unique_ptr<Repository>> OpenRepository(const GlobalOptions& options,
                                                   bool load_index = true);

// Which of those checks an open makes. Only `ferry trust` weakens them: to
// accept a changed repository (kNone) or its missing objects (kPinOnly).
enum class TrustChecks { kAll, kPinOnly, kNone };
Result<std::unique_ptr<Repository>> OpenRepositoryWith(const GlobalOptions& options,
                                                       bool load_index, TrustChecks checks);

// This machine's ferry state directory: --state-dir / FERRY_STATE_DIR, else
// $XDG_CONFIG_HOME/ferry, else ~/.config/ferry; "" if there is no such place.
std::string StateDir(const GlobalOptions& options);
// The location the options point at, as pins name it.
Result<RepositoryLocation> LocationFor(const GlobalOptions& options);
// Pins `id` at the options' location, in the state directory and (with
// --agent) in the agent file; says so when it replaces another pin. For init
// and `trust accept-repository`. A pin that cannot be written is a warning.
void PinRepository(const GlobalOptions& options, const Id& id);
// The API for commands that delete snapshot or index objects on purpose
// (forget, prune, repair) by a way other than `repository.backend().Remove()`
// (which records by itself, see repo/history_guard.h): call after the
// removal succeeded, so that this machine's next open does not report the
// objects missing. No-op without a state directory.
Status RecordDeliberateRemoval(const GlobalOptions& options, const Repository& repository,
                               ObjectKind kind, const std::vector<Id>& ids);

// Where this machine remembers the unreadable locks it has seen (LockOptions):
// "locks" below the cache root (--cache-dir, $XDG_CACHE_HOME/ferry or
// ~/.cache/ferry); "" if there is no such place.
std::string LockSeenDir(const GlobalOptions& options);
// Takes the repository lock, warning (through Warn) about unreadable locks.
Result<std::unique_ptr<RepositoryLock>> LockRepository(const GlobalOptions& options,
                                                       Repository& repository, bool exclusive);

// Prints an error to stderr (or as a JSON line with --json) and returns the
// exit code for it.
int ReportError(const GlobalOptions& options, const Status& status);
// Informational line on stdout, unless --quiet or --json.
void Say(const GlobalOptions& options, const std::string& line);
// A warning line on stderr (a JSON line on stdout with --json).
void Warn(const GlobalOptions& options, const std::string& message);
void PrintJson(const nlohmann::json& value);
// Warns about each object of `kind` that the repository's readers skipped as
// damaged (what it costs, how to repair it); returns how many. With --json a
// line {"message_type":"damaged_object","kind","id","problem","message"}, on
// stderr when `json_to_stderr` (stdout is one JSON document there).
size_t WarnDamaged(const GlobalOptions& options, const Repository& repository, ObjectKind kind,
                   bool json_to_stderr = false);
// The snapshot `selector` names ("latest" or an ID prefix), after warning
// about the damaged snapshots that finding it skipped.
Result<SnapshotEntry> SelectSnapshot(const GlobalOptions& options, Repository& repository,
                                     const std::string& selector);

std::string HumanDuration(double seconds);

// `status` with, for a refusal by a vault (PermissionDenied with --agent),
// how to get the machine's maintenance token that deleting needs.
Status WithMaintenanceHint(const GlobalOptions& options, const Status& status);

}  // namespace ferry
