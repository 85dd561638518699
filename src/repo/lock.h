// RepositoryLock: a lock object in locks/ that says who is using the
// repository. Backup, restore and check take a shared lock; operations that
// delete (prune, key removal) take an exclusive one.
//
// A lock is stale, and ignored and removed, when it is older than 30 minutes
// (its holder refreshes it every 5) or when it was made on this host by a
// process that no longer exists (a backup killed with -9).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "repo/repository.h"
#include "util/clock.h"

namespace ferry {

class RepositoryLock {
 public:
  static constexpr int64_t kStaleAfterNanos = 30ll * 60 * 1000000000;
  static constexpr int64_t kRefreshEveryNanos = 5ll * 60 * 1000000000;

  // Fails with Locked, naming the holder, if a conflicting live lock exists.
  static Result<std::unique_ptr<RepositoryLock>> Acquire(Repository& repository, bool exclusive,
                                                         const Clock& clock = Clock::System());
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
