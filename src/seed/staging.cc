#include "seed/staging.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "format/compression.h"
#include "storage/local_backend.h"
#include "util/file_util.h"

namespace ferry {

namespace {

// Enough to judge compressibility, small enough to cost well under a second.
constexpr uint64_t kSampleBytes = 64ull << 20;
// Each file is sampled in up to kWindowsPerFile windows of kSampleWindow bytes
// spread evenly over its length: a file's first MiB does not speak for the
// rest (a disk image, a database, an archive with a zero-filled header), and
// a file of zeros followed by random data must not look like 3 KiB. At most
// 1 MiB per file, so the 64 MiB budget still covers at least 64 files.
constexpr size_t kSampleWindow = 128u << 10;
constexpr uint64_t kWindowsPerFile = 8;
// Pack headers, index entries and per-pack rounding, generously.
constexpr double kPackOverhead = 1.01;

struct Walker {
  const ExcludeFilter& excludes;
  bool one_file_system;
  int level;
  SeedSizeEstimate estimate = {};
  uint64_t sampled = 0;
  // Files that were sampled: their whole size, and that size times the ratio
  // their windows compressed to (weighted by file size, so a large file's
  // ratio counts for its bytes, not as one vote among many small files).
  uint64_t sampled_file_bytes = 0;
  double sampled_file_estimate = 0;
  Bytes window = Bytes(kSampleWindow);
  BufferBytes scratch = {};

  // `length` is the file's apparent size; holes are skipped (SEEK_DATA), as
  // only allocated bytes are counted and would be stored.
  void Sample(const std::string& path, uint64_t allocated, uint64_t length) {
    if (sampled >= kSampleBytes || allocated == 0 || length == 0) return;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return;  // the backup will warn about it
    uint64_t windows =
        std::min<uint64_t>(kWindowsPerFile, (length + kSampleWindow - 1) / kSampleWindow);
    uint64_t span = length > kSampleWindow ? length - kSampleWindow : 0;
    uint64_t read_bytes = 0, stored_bytes = 0;
    uint64_t next_free = 0;  // windows never overlap, even after SEEK_DATA moved one
    for (uint64_t i = 0; i < windows; ++i) {
      uint64_t want = windows > 1 ? span * i / (windows - 1) : 0;
      off_t data = ::lseek(fd, static_cast<off_t>(std::max(want, next_free)), SEEK_DATA);
      if (data < 0) {
        if (errno == ENXIO) break;                             // only a hole from here on
        data = static_cast<off_t>(std::max(want, next_free));  // no SEEK_DATA: read as is
      }
      ssize_t n = ::pread(fd, window.data(), kSampleWindow, data);
      if (n <= 0) break;
      ByteView stored;
      CompressIfUseful(ByteView(window.data(), static_cast<size_t>(n)), level, scratch, &stored);
      read_bytes += static_cast<uint64_t>(n);
      stored_bytes += stored.size();
      next_free = static_cast<uint64_t>(data) + static_cast<uint64_t>(n);
    }
    ::close(fd);
    if (read_bytes == 0) return;
    sampled += read_bytes;
    sampled_file_bytes += allocated;
    sampled_file_estimate += static_cast<double>(allocated) * static_cast<double>(stored_bytes) /
                             static_cast<double>(read_bytes);
  }

  void Walk(const std::string& path, const std::string& name, dev_t root_device, bool top) {
    if (!top && excludes.Excluded(path, name)) return;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return;
    if (S_ISREG(st.st_mode)) {
      uint64_t allocated = static_cast<uint64_t>(st.st_blocks) * 512;
      uint64_t size = std::min<uint64_t>(static_cast<uint64_t>(st.st_size), allocated);
      ++estimate.files;
      estimate.file_bytes += size;
      Sample(path, size, static_cast<uint64_t>(st.st_size));
      return;
    }
    if (!S_ISDIR(st.st_mode)) return;
    if (!top && one_file_system && st.st_dev != root_device) return;
    DIR* dir = ::opendir(path.c_str());
    if (!dir) return;
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(dir)) {
      std::string child = entry->d_name;
      if (child != "." && child != "..") names.push_back(child);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    for (const std::string& child : names)
      Walk(path == "/" ? "/" + child : path + "/" + child, child, top ? st.st_dev : root_device,
           false);
  }
};

}  // namespace

Result<StagingInfo> ReadStagingInfo(const std::string& dir) {
  auto bytes = ReadWholeFile(dir + "/" + kStagingInfoFile);
  if (!bytes.ok()) {
    if (bytes.status().IsNotFound())
      return Status::NotFound(dir + " is not a ferry staging directory (no " +
                              std::string(kStagingInfoFile) + ")");
    return bytes.status();
  }
  auto info = ParseStagingInfo(*bytes);
  if (!info.ok()) return info.status().WithContext(dir);
  return info;
}

Status PrepareStaging(const std::string& dir, const StagingInfo& info) {
  auto existing = ReadStagingInfo(dir);
  if (existing.ok()) {
    if (existing->repository != info.repository)
      return Status::AlreadyExists("staging " + dir + " holds packs of another repository (" +
                                   existing->repository.substr(0, 8) + "); use an empty directory");
    if (existing->job != info.job)
      return Status::AlreadyExists("staging " + dir + " belongs to job " + existing->job +
                                   ", not " + info.job + "; use another directory or --job " +
                                   existing->job);
    if (existing->storage_account != info.storage_account || existing->container != info.container)
      return Status::AlreadyExists("staging " + dir + " is for " + existing->storage_account + "/" +
                                   existing->container + ", not " + info.storage_account + "/" +
                                   info.container);
    return LocalBackend(dir).CreateDataDirectories();
  }
  if (!existing.status().IsNotFound()) return existing.status();
  RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  RETURN_IF_ERROR(LocalBackend(dir).CreateDataDirectories());
  return WriteFileAtomic(dir + "/" + kStagingInfoFile, EncodeStagingInfo(info), 0600);
}

Result<std::vector<StagedPack>> ListStagedPacks(const std::string& dir) {
  LocalBackend staging(dir);
  std::vector<StagedPack> packs;
  RETURN_IF_ERROR(staging.List(ObjectKind::kData, [&](const std::string& name, uint64_t size) {
    if (!IsObjectId(name)) return Status::Ok();
    packs.push_back({*Id::FromHex(name), size});
    return Status::Ok();
  }));
  std::sort(packs.begin(), packs.end(),
            [](const StagedPack& a, const StagedPack& b) { return a.id < b.id; });
  return packs;
}

Result<SeedSizeEstimate> EstimateSeedSize(const std::vector<std::string>& paths,
                                          const ExcludeFilter& excludes, bool one_file_system,
                                          int compression_level) {
  Walker walker{excludes, one_file_system, compression_level};
  for (const std::string& path : paths) {
    std::string name = path.substr(path.find_last_of('/') + 1);
    walker.Walk(path, name, 0, true);
  }
  SeedSizeEstimate& estimate = walker.estimate;
  if (walker.sampled_file_bytes > 0)
    estimate.compression_ratio =
        walker.sampled_file_estimate / static_cast<double>(walker.sampled_file_bytes);
  estimate.estimated_bytes = static_cast<uint64_t>(static_cast<double>(estimate.file_bytes) *
                                                   estimate.compression_ratio * kPackOverhead);
  return estimate;
}

Status CheckStagingSpace(const std::string& dir, const SeedSizeEstimate& estimate,
                         uint64_t already_staged) {
  struct statvfs fs;
  if (::statvfs(dir.c_str(), &fs) != 0) return ErrnoStatus("statvfs " + dir, errno);
  uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  uint64_t needed =
      estimate.estimated_bytes > already_staged ? estimate.estimated_bytes - already_staged : 0;
  if (needed <= free_bytes) return Status::Ok();
  char percent[16];
  std::snprintf(percent, sizeof percent, "%.0f%%", estimate.compression_ratio * 100);
  return Status::NoSpace("staging " + dir + ": " + HumanBytes(free_bytes) + " free, about " +
                         HumanBytes(needed) + " needed (" + HumanBytes(estimate.file_bytes) +
                         " in " + std::to_string(estimate.files) + " files, compressing to about " +
                         percent + "); free some space or choose a larger staging location");
}

}  // namespace ferry
