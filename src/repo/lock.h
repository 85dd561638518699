// RepositoryLock: a lock object in locks/ that says who is using the
// repository. Backup, restore and check take a shared lock; operations that
// delete (prune, key removal, repair) take an exclusive one.
//
// A lock is stale, and ignored and removed, when it is older than 30 minutes
// (its holder refreshes it every 5) or when it was made on this host by a
// process that no longer exists (a backup killed with -9).
//
// A lock object that cannot be read (damaged, or junk uploaded under a valid
// name by anyone who may create objects) is not a lock: it is named in a
// warning and shared operations go on. Exclusive operations wait for it to
// go stale, but its age cannot come from its content (it could not be read,
// and could say anything): this machine remembers when it first saw it, in
// LockOptions::seen_dir, and it is stale 30 minutes after that. Forgetting
// (a new machine, a cleared cache) only makes the wait start again.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "repo/repository.h"
#include "util/clock.h"

namespace ferry {

struct LockOptions {
  // A directory of this machine where the first sighting of each unreadable
  // lock is remembered (one small file per repository). Empty: not
  // remembered, so unreadable locks never go stale (unlock --remove-all
  // removes them).
  std::string seen_dir;
  // Told about each unreadable lock. May be empty.
  std::function<void(const std::string&)> warn;
};

struct UnlockReport {
  std::vector<std::string> removed;  // "lock ID (why it could go)"
  std::vector<std::string> kept;     // "lock ID (whose it is, why it stays)"
};

class RepositoryLock {
 public:
  static constexpr int64_t kStaleAfterNanos = 30ll * 60 * 1000000000;
  static constexpr int64_t kRefreshEveryNanos = 5ll * 60 * 1000000000;

  // Fails with Locked, naming the holder and 'ferry unlock', if a conflicting
  // live lock exists.
  static Result<std::unique_ptr<RepositoryLock>> Acquire(Repository& repository, bool exclusive,
                                                         const Clock& clock = Clock::System(),
                                                         const LockOptions& options = {});
  // `ferry unlock`: removes the stale locks, or with `all` every lock (the
  // user vouches that no ferry process uses the repository). A lock that
  // cannot be removed fails the call, naming it.
  static Result<UnlockReport> RemoveLocks(Repository& repository, bool all,
                                          const Clock& clock = Clock::System(),
                                          const LockOptions& options = {});
  // Stops refreshing and removes the lock object.
  ~RepositoryLock();

 private:
  RepositoryLock(Repository& repository, bool exclusive, const Clock& clock);
  Result<Id> Write();
  void RefreshLoop();

  Repository& repository_;
  const bool exclusive_;
  const Clock& clock_;
  Id id_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace ferry
