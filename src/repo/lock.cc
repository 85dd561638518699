#include "repo/lock.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "format/json_util.h"
#include "util/system_info.h"

namespace ferry {

namespace {

struct LockInfo {
  Id id;
  int64_t time_ns = 0;
  bool exclusive = false;
  std::string hostname;
  std::string username;
  int64_t pid = 0;
};

bool ProcessExists(int64_t pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

Result<LockInfo> ReadLock(Repository& repository, const Id& id) {
  ASSIGN_OR_RETURN(Bytes plain, repository.LoadSealed(ObjectKind::kLock, id));
  ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(plain, "lock"));
  LockInfo info;
  info.id = id;
  try {
    info.time_ns = j.at("time").get<int64_t>();
    info.exclusive = j.at("exclusive").get<bool>();
    info.hostname = j.at("hostname").get<std::string>();
    info.username = j.at("username").get<std::string>();
    info.pid = j.at("pid").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("lock: ") + e.what());
  }
  return info;
}

// Returns a description of the first live lock that conflicts, or "" if none.
// Removes stale locks it finds on the way.
Result<std::string> FindConflict(Repository& repository, bool exclusive, const Id& own,
                                 const Clock& clock) {
  std::vector<Id> ids;
  RETURN_IF_ERROR(
      repository.backend().List(ObjectKind::kLock, [&](const std::string& name, uint64_t) {
        auto id = Id::FromHex(name);
        if (id.ok()) ids.push_back(*id);
        return Status::Ok();
      }));
  std::string host = HostName();
  for (const Id& id : ids) {
    if (id == own) continue;
    auto info = ReadLock(repository, id);
    if (!info.ok()) {
      if (info.status().IsNotFound()) continue;  // released meanwhile
      return info.status();
    }
    bool stale = clock.NowNanos() - info->time_ns > RepositoryLock::kStaleAfterNanos ||
                 (info->hostname == host && !ProcessExists(info->pid));
    if (stale) {
      repository.backend().Remove({ObjectKind::kLock, id.Hex()}).IgnoreError();  // best effort
      continue;
    }
    if (exclusive || info->exclusive)
      return std::string(info->exclusive ? "exclusively " : "") + "locked by " + info->username +
             "@" + info->hostname + " (pid " + std::to_string(info->pid) + ", since " +
             FormatTimeLocal(info->time_ns) + ", lock " + id.Short() + ")";
  }
  return std::string();
}

}  // namespace

RepositoryLock::RepositoryLock(Repository& repository, bool exclusive, const Clock& clock)
    : repository_(repository), exclusive_(exclusive), clock_(clock) {}

Result<Id> RepositoryLock::Write() {
  nlohmann::json j = {{"time", clock_.NowNanos()},
                      {"exclusive", exclusive_},
                      {"hostname", HostName()},
                      {"username", UserName()},
                      {"pid", static_cast<int64_t>(::getpid())}};
  std::string text = j.dump();
  return repository_.SaveSealed(ObjectKind::kLock, AsBytes(text));
}

Result<std::unique_ptr<RepositoryLock>> RepositoryLock::Acquire(Repository& repository,
                                                                bool exclusive,
                                                                const Clock& clock) {
  ASSIGN_OR_RETURN(std::string conflict, FindConflict(repository, exclusive, Id{}, clock));
  if (!conflict.empty()) return Status::Locked("repository is " + conflict);
  std::unique_ptr<RepositoryLock> lock(new RepositoryLock(repository, exclusive, clock));
  ASSIGN_OR_RETURN(lock->id_, lock->Write());
  // Two processes may have checked at the same moment: look again now that
  // ours is visible, and back off if someone else's conflicts.
  auto again = FindConflict(repository, exclusive, lock->id_, clock);
  if (!again.ok() || !again->empty()) {
    repository.backend().Remove({ObjectKind::kLock, lock->id_.Hex()}).IgnoreError();
    lock->id_ = Id{};
    if (!again.ok()) return again.status();
    return Status::Locked("repository is " + *again);
  }
  lock->refresher_ = std::thread([raw = lock.get()] { raw->RefreshLoop(); });
  return lock;
}

void RepositoryLock::RefreshLoop() {
  std::unique_lock guard(mutex_);
  while (!wake_.wait_for(guard, std::chrono::nanoseconds(kRefreshEveryNanos),
                         [&] { return stopping_; })) {
    guard.unlock();
    auto fresh = Write();
    if (fresh.ok()) {
      repository_.backend().Remove({ObjectKind::kLock, id_.Hex()}).IgnoreError();
      id_ = *fresh;
    }
    guard.lock();
  }
}

RepositoryLock::~RepositoryLock() {
  {
    std::lock_guard guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  if (!id_.IsZero()) repository_.backend().Remove({ObjectKind::kLock, id_.Hex()}).IgnoreError();
}

}  // namespace ferry
