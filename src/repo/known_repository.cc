#include "repo/known_repository.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "crypto/hash.h"
#include "storage/backend_registry.h"
#include "util/file_util.h"

namespace ferry {

namespace {
constexpr int kPinVersion = 1;

// What a user can do about a pin file that cannot be read.
constexpr const char* kResetHint =
    " (delete it to make this machine pin the repository afresh at its next use)";
}  // namespace

RepositoryLocation LocalPathLocation(const std::string& path) {
  std::string canonical;
  if (char* resolved = ::realpath(path.c_str(), nullptr)) {
    canonical = resolved;
    std::free(resolved);
  } else {
    std::error_code ignored;
    canonical = std::filesystem::absolute(path, ignored).lexically_normal().string();
    if (canonical.empty()) canonical = path;
    while (canonical.size() > 1 && canonical.back() == '/') canonical.pop_back();
  }
  return {"path:" + canonical, canonical};
}

Result<RepositoryLocation> StorageRepositoryLocation(const std::string& location) {
  ASSIGN_OR_RETURN(StorageLocation parsed, ParseStorageLocation(location));
  if (parsed.scheme == "local") return LocalPathLocation(parsed.address);
  std::string key = parsed.scheme + "://" + parsed.address;
  return RepositoryLocation{key, key};
}

RepositoryLocation VaultLocation(const std::string& server, const std::string& vault,
                                 const std::string& machine) {
  return {"vault:" + vault + "/" + machine,
          "vault " + vault + ", machine " + machine + " (" + server + ")"};
}

std::string TrustDirectory(const std::string& state_dir) { return state_dir + "/trust"; }

Result<TrustFileLock> TrustFileLock::Acquire(const std::string& state_dir) {
  std::string dir = TrustDirectory(state_dir);
  RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  std::string path = dir + "/lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    Status status = ErrnoStatus("lock " + path, errno);
    ::close(fd);
    return status;
  }
  return TrustFileLock(fd);
}

TrustFileLock::~TrustFileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

Status RepositoryChangedError(const RepositoryLocation& location, const Id& pinned,
                              const Id& served, const std::string& where) {
  return Status::RepositoryChanged(
      location.description + " serves repository " + served.Hex() +
      ", but this machine knows repository " + pinned.Hex() + " there (pinned in " + where +
      "). Another repository is being served in its place: do not back up to it or trust what "
      "it restores. If it was replaced on purpose (deleted and created again, restored from a "
      "copy), accept it with 'ferry trust accept-repository " +
      served.Short() + "'");
}

std::string KnownRepositories::PinPath(const RepositoryLocation& location) const {
  return TrustDirectory(state_dir_) + "/locations/" +
         Sha256(AsBytes(location.key)).Hex().substr(0, 32) + ".json";
}

Result<std::optional<RepositoryPin>> KnownRepositories::Find(
    const RepositoryLocation& location) const {
  std::string path = PinPath(location);
  auto bytes = ReadWholeFile(path);
  if (!bytes.ok()) {
    if (bytes.status().IsNotFound()) return std::optional<RepositoryPin>();
    return bytes.status();
  }
  auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  auto damaged = [&](const std::string& why) {
    return Status::Corruption("repository pin " + path + " is damaged (" + why + ")" + kResetHint);
  };
  if (!j.is_object()) return damaged("not a JSON object");
  if (!j.contains("version") || !j["version"].is_number_integer()) return damaged("no version");
  if (j["version"].get<int64_t>() != kPinVersion)
    return Status::Unsupported("repository pin " + path + " has version " + j["version"].dump() +
                               "; this ferry reads version " + std::to_string(kPinVersion));
  if (!j.contains("location") || !j["location"].is_string() || !j.contains("repository_id") ||
      !j["repository_id"].is_string())
    return damaged("location or repository_id missing");
  // Two keys with the same 128-bit hash prefix are not a concern; a file
  // copied from elsewhere is: never apply another location's pin.
  if (j["location"].get<std::string>() != location.key)
    return damaged("it pins " + j["location"].get<std::string>() + ", not " + location.key);
  auto id = Id::FromHex(j["repository_id"].get<std::string>());
  if (!id.ok()) return damaged(id.status().message());
  RepositoryPin pin;
  pin.repository_id = *id;
  if (j.contains("pinned_ns") && j["pinned_ns"].is_number_integer())
    pin.pinned_ns = j["pinned_ns"].get<int64_t>();
  return std::optional<RepositoryPin>(pin);
}

Status KnownRepositories::Pin(const RepositoryLocation& location, const Id& id) {
  ASSIGN_OR_RETURN(TrustFileLock lock, TrustFileLock::Acquire(state_dir_));
  std::string path = PinPath(location);
  RETURN_IF_ERROR(MakeDirectories(TrustDirectory(state_dir_) + "/locations", 0700));
  nlohmann::json j = {{"version", kPinVersion},
                      {"location", location.key},
                      {"repository_id", id.Hex()},
                      {"pinned_ns", clock_.NowNanos()}};
  return WriteFileAtomic(path, AsBytes(j.dump(2) + "\n"), 0600)
      .WithContext("recording the repository's ID");
}

}  // namespace ferry
