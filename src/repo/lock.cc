#include "repo/lock.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "format/json_util.h"
#include "util/file_util.h"
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

Result<std::vector<Id>> ListLocks(Repository& repository) {
  std::vector<Id> ids;
  RETURN_IF_ERROR(
      repository.backend().List(ObjectKind::kLock, [&](const std::string& name, uint64_t) {
        auto id = Id::FromHex(name);
        if (id.ok()) ids.push_back(*id);
        return Status::Ok();
      }));
  return ids;
}

// When this machine first saw each unreadable lock of one repository: a JSON
// object {lock ID: unix nanoseconds} in seen_dir/<repository ID>.json. Only
// ever makes a lock look younger than it is when lost or raced (two processes
// writing at once keep one of their versions): the safe direction.
class UnreadableLocks {
 public:
  UnreadableLocks(const Repository& repository, const LockOptions& options)
      : path_(options.seen_dir.empty()
                  ? ""
                  : options.seen_dir + "/" + repository.config().id.Hex() + ".json") {
    if (path_.empty()) return;
    auto bytes = ReadWholeFile(path_);
    if (!bytes.ok()) return;
    auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
    if (!j.is_object()) return;  // damaged: start again, which only delays
    for (const auto& [name, value] : j.items())
      if (value.is_number_integer()) seen_[name] = value.get<int64_t>();
  }

  // The first sighting of `id`, recorded as `now` if this is it; nullopt
  // when nothing can be remembered.
  std::optional<int64_t> FirstSeen(const Id& id, int64_t now) {
    if (path_.empty()) return std::nullopt;
    auto [it, inserted] = seen_.emplace(id.Hex(), now);
    changed_ |= inserted;
    return it->second;
  }
  void Forget(const Id& id) { changed_ |= seen_.erase(id.Hex()) > 0; }
  // Drops what is no longer listed and writes the file if anything changed.
  void Save(const std::vector<Id>& listed) {
    if (path_.empty()) return;
    std::map<std::string, int64_t> kept;
    for (const Id& id : listed)
      if (auto it = seen_.find(id.Hex()); it != seen_.end()) kept.insert(*it);
    changed_ |= kept.size() != seen_.size();
    if (!changed_) return;
    nlohmann::json j = kept;
    std::string text = j.dump();
    size_t slash = path_.rfind('/');
    // Best effort: without the file, exclusive operations only wait longer.
    if (MakeDirectories(path_.substr(0, slash)).ok())
      WriteFileAtomic(path_, AsBytes(text)).IgnoreError();
  }

 private:
  std::string path_;
  std::map<std::string, int64_t> seen_;
  bool changed_ = false;
};

std::string Describe(const LockInfo& info) {
  return std::string(info.exclusive ? "exclusive " : "") + "lock " + info.id.Short() + " of " +
         info.username + "@" + info.hostname + " (pid " + std::to_string(info.pid) + ", since " +
         FormatTimeLocal(info.time_ns) + ")";
}

// Why a readable lock is stale, or "" if it is live.
std::string StaleReason(const LockInfo& info, int64_t now, const std::string& host) {
  if (now - info.time_ns > RepositoryLock::kStaleAfterNanos)
    return "not refreshed for over 30 minutes";
  if (info.hostname == host && !ProcessExists(info.pid))
    return "its process no longer runs on this host";
  return "";
}

std::string UnreadableWarning(const Id& id, const Status& status) {
  return "lock " + id.Hex() + " cannot be read (" + status.message() +
         "); it is not a lock and is ignored (if no ferry process uses the repository, "
         "'ferry unlock --remove-all' removes it)";
}

// Returns a description of the first live lock that conflicts, or "" if none.
// Removes stale locks it finds on the way.
Result<std::string> FindConflict(Repository& repository, bool exclusive, const Id& own,
                                 const Clock& clock, const LockOptions& options, bool warn) {
  ASSIGN_OR_RETURN(std::vector<Id> ids, ListLocks(repository));
  UnreadableLocks unreadable(repository, options);
  std::string host = HostName();
  std::string conflict;
  int64_t now = clock.NowNanos();
  for (const Id& id : ids) {
    if (id == own || !conflict.empty()) continue;
    auto info = ReadLock(repository, id);
    if (!info.ok()) {
      if (info.status().IsNotFound()) continue;  // released meanwhile
      if (warn && options.warn) options.warn(UnreadableWarning(id, info.status()));
      std::optional<int64_t> first_seen = unreadable.FirstSeen(id, now);
      if (!exclusive) continue;
      if (first_seen && now - *first_seen > RepositoryLock::kStaleAfterNanos) {
        repository.backend().Remove({ObjectKind::kLock, id.Hex()}).IgnoreError();  // best effort
        unreadable.Forget(id);
        continue;
      }
      conflict = "held by lock " + id.Short() + ", which cannot be read: ";
      conflict += first_seen ? "an exclusive operation takes it for stale from " +
                                   FormatTimeLocal(*first_seen + RepositoryLock::kStaleAfterNanos) +
                                   " (30 minutes after this machine first saw it)"
                             : "this machine cannot remember when it first saw it";
      continue;
    }
    if (!StaleReason(*info, now, host).empty()) {
      repository.backend().Remove({ObjectKind::kLock, id.Hex()}).IgnoreError();  // best effort
      continue;
    }
    if (exclusive || info->exclusive) conflict = "held by " + Describe(*info);
  }
  unreadable.Save(ids);
  return conflict;
}

Status LockedError(const std::string& conflict) {
  return Status::Locked("repository is locked: " + conflict +
                        ". If no ferry process uses the repository any more, 'ferry unlock' "
                        "removes stale locks and 'ferry unlock --remove-all' every lock");
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
                                                                bool exclusive, const Clock& clock,
                                                                const LockOptions& options) {
  ASSIGN_OR_RETURN(std::string conflict,
                   FindConflict(repository, exclusive, Id{}, clock, options, /*warn=*/true));
  if (!conflict.empty()) return LockedError(conflict);
  std::unique_ptr<RepositoryLock> lock(new RepositoryLock(repository, exclusive, clock));
  ASSIGN_OR_RETURN(lock->id_, lock->Write());
  // Two processes may have checked at the same moment: look again now that
  // ours is visible, and back off if someone else's conflicts.
  auto again = FindConflict(repository, exclusive, lock->id_, clock, options, /*warn=*/false);
  if (!again.ok() || !again->empty()) {
    repository.backend().Remove({ObjectKind::kLock, lock->id_.Hex()}).IgnoreError();
    lock->id_ = Id{};
    if (!again.ok()) return again.status();
    return LockedError(*again);
  }
  lock->refresher_ = std::thread([raw = lock.get()] { raw->RefreshLoop(); });
  return lock;
}

Result<UnlockReport> RepositoryLock::RemoveLocks(Repository& repository, bool all,
                                                 const Clock& clock, const LockOptions& options) {
  ASSIGN_OR_RETURN(std::vector<Id> ids, ListLocks(repository));
  UnreadableLocks unreadable(repository, options);
  std::string host = HostName();
  int64_t now = clock.NowNanos();
  UnlockReport report;
  Status failed;
  for (const Id& id : ids) {
    auto info = ReadLock(repository, id);
    if (!info.ok() && info.status().IsNotFound()) continue;  // released meanwhile
    std::string why;
    std::string keep;
    if (info.ok()) {
      std::string stale = StaleReason(*info, now, host);
      if (all)
        why = Describe(*info) + (stale.empty() ? "" : ", stale: " + stale);
      else if (!stale.empty())
        why = Describe(*info) + ", stale: " + stale;
      else
        keep = Describe(*info) + ", live";
    } else {
      std::string what =
          "lock " + id.Short() + ", which cannot be read: " + info.status().message();
      std::optional<int64_t> first_seen = unreadable.FirstSeen(id, now);
      if (all || (first_seen && now - *first_seen > kStaleAfterNanos))
        why = what;
      else
        keep = what +
               (first_seen ? "; stale from " + FormatTimeLocal(*first_seen + kStaleAfterNanos) +
                                 " (30 minutes after this machine first saw it)"
                           : "") +
               "; --remove-all removes it";
    }
    if (!keep.empty()) {
      report.kept.push_back(keep);
      continue;
    }
    Status removed = repository.backend().Remove({ObjectKind::kLock, id.Hex()});
    if (!removed.ok() && !removed.IsNotFound()) {
      if (failed.ok()) failed = removed.WithContext("cannot remove " + why);
      continue;
    }
    unreadable.Forget(id);
    report.removed.push_back(why);
  }
  unreadable.Save(ids);
  if (!failed.ok()) return failed;
  return report;
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
