#include "seed/diskprep_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <utility>

#include "util/file_util.h"

namespace ferry {

const JournalDisk* DiskPrepJournalState::FindDisk(const std::string& drive_id) const {
  for (const JournalDisk& disk : disks)
    if (disk.drive_id == drive_id) return &disk;
  return nullptr;
}

namespace {

// Applies one record to `state`; InvalidArgument if it is not a record of ours.
Status Apply(const nlohmann::json& record, DiskPrepJournalState& state) {
  if (!record.is_object() || !record.contains("op") || !record["op"].is_string())
    return Status::InvalidArgument("not a journal record");
  const std::string op = record["op"];
  auto text = [&](const char* key) -> std::string {
    auto it = record.find(key);
    return it != record.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto number = [&](const char* key) -> uint64_t {
    auto it = record.find(key);
    if (it == record.end() || !it->is_number_integer()) return 0;
    return it->is_number_unsigned()
               ? it->get<uint64_t>()
               : static_cast<uint64_t>(std::max<int64_t>(0, it->get<int64_t>()));
  };
  if (op == "disk") {
    if (text("drive_id").empty()) return Status::InvalidArgument("disk record without drive_id");
    for (JournalDisk& disk : state.disks)
      if (disk.drive_id == text("drive_id")) {
        disk.path = text("path");
        return Status::Ok();
      }
    state.disks.push_back({text("drive_id"), text("path")});
  } else if (op == "verified") {
    auto id = Id::FromHex(text("id"));
    if (!id.ok() || text("drive_id").empty())
      return Status::InvalidArgument("verified record without id or drive_id");
    state.verified[*id] = {text("drive_id"), number("size")};
  } else if (op == "manifest") {
    PreparedDisk m;
    m.drive_id = text("drive_id");
    m.path = text("path");
    m.disk_number = static_cast<int>(number("disk"));
    m.disk_count = static_cast<int>(number("disks"));
    m.files = number("files");
    m.bytes = number("bytes");
    m.manifest_hash = text("hash");
    if (m.drive_id.empty() || m.manifest_hash.empty())
      return Status::InvalidArgument("manifest record without drive_id or hash");
    state.manifests[m.drive_id] = m;
  } else if (op == "creating_job") {
    state.job_creating = true;
  } else if (op == "job") {
    state.job_created = true;
  } else {
    return Status::InvalidArgument("unknown journal record '" + op + "'");
  }
  return Status::Ok();
}

}  // namespace

DiskPrepJournal::~DiskPrepJournal() {
  if (fd_ >= 0) ::close(fd_);
}

DiskPrepJournal::DiskPrepJournal(DiskPrepJournal&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      state_(std::move(other.state_)) {}

Result<DiskPrepJournal> DiskPrepJournal::Open(const std::string& path) {
  auto existing = ReadWholeFile(path);
  if (!existing.ok() && !existing.status().IsNotFound()) return existing.status();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("open journal " + path, errno);
  DiskPrepJournal journal(fd, path);
  if (!existing.ok()) return journal;

  const Bytes& bytes = *existing;
  size_t start = 0;
  size_t good_end = 0;  // the end of the last complete, valid line
  int line_number = 0;
  while (start < bytes.size()) {
    ++line_number;
    size_t end = start;
    while (end < bytes.size() && bytes[end] != '\n') ++end;
    bool complete = end < bytes.size();
    auto record =
        nlohmann::json::parse(bytes.begin() + static_cast<std::ptrdiff_t>(start),
                              bytes.begin() + static_cast<std::ptrdiff_t>(end), nullptr, false);
    Status applied =
        record.is_discarded() ? Status::InvalidArgument("not JSON") : Apply(record, journal.state_);
    if (!applied.ok() || !complete) {
      // Only the last line may be torn: a crash in the middle of an append.
      if (complete && end + 1 < bytes.size())
        return Status::Corruption("journal " + path + " line " + std::to_string(line_number) +
                                  ": " + applied.message() +
                                  "; the journal is damaged (move it away to start over: every "
                                  "pack on the disks is then verified again)");
      break;
    }
    good_end = end + 1;
    start = end + 1;
  }
  if (good_end < bytes.size()) {
    if (::ftruncate(fd, static_cast<off_t>(good_end)) != 0 || ::fdatasync(fd) != 0)
      return ErrnoStatus("cut the torn last line of journal " + path, errno);
  }
  return journal;
}

Status DiskPrepJournal::Append(const std::string& line) {
  std::lock_guard lock(mutex_);
  auto record = nlohmann::json::parse(line);
  std::string text = line + "\n";
  RETURN_IF_ERROR(WriteAll(fd_, AsBytes(text), "journal " + path_));
  if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync journal " + path_, errno);
  return Apply(record, state_);
}

Status DiskPrepJournal::AddDisk(const std::string& drive_id, const std::string& path) {
  return Append(nlohmann::json{{"op", "disk"}, {"drive_id", drive_id}, {"path", path}}.dump());
}

Status DiskPrepJournal::AddVerified(const std::string& drive_id, const Id& id, uint64_t size) {
  return Append(
      nlohmann::json{{"op", "verified"}, {"drive_id", drive_id}, {"id", id.Hex()}, {"size", size}}
          .dump());
}

Status DiskPrepJournal::AddManifest(const PreparedDisk& m) {
  return Append(nlohmann::json{{"op", "manifest"},
                               {"drive_id", m.drive_id},
                               {"path", m.path},
                               {"disk", m.disk_number},
                               {"disks", m.disk_count},
                               {"files", m.files},
                               {"bytes", m.bytes},
                               {"hash", m.manifest_hash}}
                    .dump());
}

Status DiskPrepJournal::AddCreatingJob(const std::string& name) {
  return Append(nlohmann::json{{"op", "creating_job"}, {"name", name}}.dump());
}

Status DiskPrepJournal::AddJob(const std::string& name) {
  return Append(nlohmann::json{{"op", "job"}, {"name", name}}.dump());
}

}  // namespace ferry
