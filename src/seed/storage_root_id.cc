#include "seed/storage_root_id.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "crypto/random.h"
#include "util/bytes.h"
#include "util/file_util.h"

namespace ferry {

namespace {

constexpr size_t kIdBytes = 16;  // 32 hex digits: random, so no two roots share one

std::string MarkerPath(const std::string& root) { return root + "/" + kStorageRootIdFile; }

bool IsHexId(const std::string& text) {
  if (text.size() != 2 * kIdBytes) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

Result<std::optional<std::string>> ReadStorageRootId(const std::string& root) {
  std::string path = MarkerPath(root);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
    return ErrnoStatus("reading the storage root's marker " + path, errno);
  }
  char buffer[2 * kIdBytes + 8];
  ssize_t got = read(fd, buffer, sizeof buffer);
  int error = errno;
  close(fd);
  if (got < 0) return ErrnoStatus("reading the storage root's marker " + path, error);
  std::string id(buffer, static_cast<size_t>(got));
  while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
  if (!IsHexId(id))
    return Status::Corruption(path + " is not a ferry storage root marker (" +
                              std::to_string(2 * kIdBytes) + " hex digits)");
  return std::optional<std::string>(id);
}

Result<std::string> EnsureStorageRootId(const std::string& root) {
  ASSIGN_OR_RETURN(std::optional<std::string> existing, ReadStorageRootId(root));
  if (existing) return *existing;
  RETURN_IF_ERROR(MakeDirectories(root, 0700));
  std::string id = HexEncode(RandomBytes(kIdBytes));
  // Written whole under a temporary name, then linked into place: link never
  // replaces, so a concurrent creator's marker wins and both read it back.
  std::string path = MarkerPath(root);
  std::string temp = TempPathFor(path);
  RETURN_IF_ERROR(WriteFileAtomic(temp, AsBytes(id + "\n"), 0644));
  int linked = link(temp.c_str(), path.c_str());
  int error = errno;
  unlink(temp.c_str());
  if (linked != 0 && error != EEXIST)
    return ErrnoStatus("creating the storage root's marker " + path, error);
  RETURN_IF_ERROR(SyncDirectory(root));
  ASSIGN_OR_RETURN(std::optional<std::string> written, ReadStorageRootId(root));
  if (!written) return Status::IOError(path + " vanished right after it was created");
  return *written;
}

}  // namespace ferry
