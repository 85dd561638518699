// Pinning (issue 9): which repository this machine expects at each location.
//
// A repository's ID (RepositoryConfig::id, random at init, sealed in the
// config) says which repository a location serves. Nothing in the repository
// can tell a client that the location now serves *another* one of its
// repositories — a vault that swaps two machines' repositories, a directory
// replaced by an older copy of a different repository that opens with the same
// password. So each machine remembers, per location, the ID it found there the
// first time (trust on first use; `init` records the ID it created) and every
// later open compares: another ID is an error (kRepositoryChanged, exit 13)
// until the user accepts the change (`ferry trust accept-repository`). The
// CLI (cli/global_options.cc, OpenRepository) makes that comparison, with the
// agent file's own pin beside this one.
// borg's security directory (~/.config/borg/security/ID/location) is the model.
//
// Layout below the state directory (the machine's ferry config directory,
// $XDG_CONFIG_HOME/ferry by default):
//
//   trust/lock                    flock'ed around every read-modify-write
//   trust/locations/H.json        one pin: {"version":1,"location":KEY,
//                                 "repository_id":HEX,"pinned_ns":N}
//                                 H = first 32 hex digits of SHA-256(KEY)
//   trust/repositories/ID.json    what this machine wrote (repo/history_guard.h)
//
// Files are written atomically (temp + rename) and hold IDs and locations
// only — never a key, password or token.
#pragma once

#include <optional>
#include <string>

#include "util/clock.h"
#include "util/id.h"
#include "util/status.h"

namespace ferry {

// A repository location as this machine names it: `key` is what the pin is
// filed under and must not change while the location stays the same;
// `description` is for messages.
struct RepositoryLocation {
  std::string key;
  std::string description;
};

// A local directory: "path:" + its canonical absolute path (symbolic links
// resolved, so that two ways of naming it share one pin). A path that does
// not exist (yet) is made absolute without resolving.
RepositoryLocation LocalPathLocation(const std::string& path);
// A --repo location string (storage/backend_registry.h): a directory, plain
// or "local:PATH", is LocalPathLocation(PATH), so both spellings share a pin;
// any other scheme is "SCHEME://ADDRESS" as given.
Result<RepositoryLocation> StorageRepositoryLocation(const std::string& location);
// A machine's repository in a vault: "vault:VAULT/MACHINE", without the
// server's address, which may change (a proxy, a move) while the repository
// stays the same (the metadata cache is keyed the same way).
RepositoryLocation VaultLocation(const std::string& server, const std::string& vault,
                                 const std::string& machine);

// The trust directory below a state directory.
std::string TrustDirectory(const std::string& state_dir);

// Holds trust/lock (flock, exclusive) while alive: read-modify-write of the
// trust files by concurrent ferry processes of this user must not lose an
// update (a lost removal record would raise a false alarm later).
class TrustFileLock {
 public:
  static Result<TrustFileLock> Acquire(const std::string& state_dir);
  TrustFileLock(TrustFileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  TrustFileLock& operator=(TrustFileLock&&) = delete;
  ~TrustFileLock();

 private:
  explicit TrustFileLock(int fd) : fd_(fd) {}
  int fd_;
};

struct RepositoryPin {
  Id repository_id;
  int64_t pinned_ns = 0;  // when this machine recorded it
};

// The error an open returns when `location` serves `served` but `pinned` was
// expected; `where` names the file that holds the pin. Names both IDs and the
// command that accepts a deliberate change.
Status RepositoryChangedError(const RepositoryLocation& location, const Id& pinned,
                              const Id& served, const std::string& where);

// The pins of one state directory. Not thread-safe; callers open one per use.
class KnownRepositories {
 public:
  // REQUIRES: `state_dir` not empty.
  explicit KnownRepositories(std::string state_dir, const Clock& clock = Clock::System())
      : state_dir_(std::move(state_dir)), clock_(clock) {}

  // The pin of `location`; nullopt if this machine has none. A pin file that
  // cannot be parsed is Corruption (naming the file and how to reset it).
  Result<std::optional<RepositoryPin>> Find(const RepositoryLocation& location) const;
  // Pins `id` at `location`, replacing any earlier pin (init, accepting a
  // change).
  Status Pin(const RepositoryLocation& location, const Id& id);
  // The file holding `location`'s pin (for messages; it may not exist).
  std::string PinPath(const RepositoryLocation& location) const;

 private:
  std::string state_dir_;
  const Clock& clock_;
};

}  // namespace ferry
