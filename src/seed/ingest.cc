#include "seed/ingest.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <set>
#include <thread>
#include <unordered_set>
#include <utility>

#include "crypto/hash.h"
#include "crypto/signature.h"
#include "format/disk_manifest.h"
#include "format/staging_info.h"
#include "seed/disk_source.h"
#include "seed/diskprep_journal.h"
#include "seed/ingest_container.h"
#include "seed/pack_copy.h"
#include "seed/storage_root_id.h"
#include "storage/backend_registry.h"
#include "util/confined_dir.h"
#include "util/directory_walk.h"
#include "util/file_util.h"
#include "util/plural.h"
#include "util/printable_name.h"

namespace ferry {

namespace {

// More unexpected names than this are summarized; the drive report must stay
// a reasonable request.
constexpr size_t kMaxUnexpectedListed = 10000;
// The walk of a disk for unexpected files: ferry's layout is three levels
// deep (data/XX/ID) and holds the listed packs, 257 directories and a few
// files; a disk with a million entries more, or nested deeper than this, is
// not looked at further (and says so in its report).
constexpr int kMaxWalkDepth = 16;
constexpr uint64_t kMaxWalkExtraEntries = 1u << 20;

bool IsDriveDone(DriveState state) {
  return state == DriveState::kCompleted || state == DriveState::kCompletedMoreInfo ||
         state == DriveState::kFailed || state == DriveState::kShippedBack;
}

bool IsFinal(DriveState state) { return IsDriveDone(state) || state == DriveState::kNeverReceived; }

IngestDrive* FindDrive(IngestJob& job, const std::string& drive_id) {
  for (IngestDrive& drive : job.drives)
    if (drive.drive_id == drive_id) return &drive;
  return nullptr;
}

// How an entry of a disk appears in a report: its path relative to the disk
// (printable: names are the disk's choice), with what it is when it is not a
// file or a directory. Nothing it points to or holds is read.
std::string Shown(const WalkEntry& entry) {
  std::string shown = PrintableName(entry.path);
  mode_t mode = entry.st.st_mode;
  if (S_ISDIR(mode)) return shown + "/";
  if (S_ISREG(mode)) return shown;
  return shown + " (" + FileTypeName(mode) + (S_ISLNK(mode) ? ", not followed)" : ", not read)");
}

// Everything on the disk that is not ferry's, as paths relative to the disk,
// found in one bounded walk that follows no link (util/directory_walk.h). Ferry's:
// at the top the label, the manifest and its signature (and, on a disk that
// was its own staging directory, staging.json and the diskprep journal), all
// regular files; data/, its XX directories, and in those the listed packs as
// regular files under their own prefix. lost+found is the file system's, not
// something shipped, and is left out. An unexpected directory is listed by
// its contents (or as "dir/" when empty); a link, device, fifo or socket as
// itself with its type. If the walk hits its bounds, the last entry says so.
std::vector<std::string> UnexpectedFiles(const ConfinedDir& disk,
                                         const std::unordered_set<std::string>& listed) {
  std::vector<std::string> found;
  uint64_t more = 0;
  auto add = [&](const WalkEntry& entry) {
    if (found.size() < kMaxUnexpectedListed)
      found.push_back(Shown(entry));
    else
      ++more;
  };
  // The directories being walked: whether each is unexpected, and how much
  // was reported when it was entered (nothing more: report it as empty).
  struct Open {
    bool unexpected;
    uint64_t reported_before;
  };
  std::vector<Open> open;
  auto reported = [&] { return found.size() + more; };
  auto inside_unexpected = [&] { return !open.empty() && open.back().unexpected; };
  auto expected = [&](const WalkEntry& entry) {
    const std::string& name = entry.name;
    bool file = S_ISREG(entry.st.st_mode), dir = S_ISDIR(entry.st.st_mode);
    if (entry.depth == 1)
      return (file &&
              (name == kDiskLabelFile || name == kManifestFile || name == kManifestSignatureFile ||
               name == kStagingInfoFile || name == kDiskPrepJournalFile)) ||
             (dir && name == "data");
    if (entry.depth == 2) return dir && IsPackPrefix(name);
    if (entry.depth == 3)
      return file && listed.count(name) && name.compare(0, 2, entry.path.substr(5, 2)) == 0;
    return false;
  };
  WalkVisitor visitor;
  visitor.visit = [&](const WalkEntry& entry) -> Result<WalkStep> {
    bool dir = S_ISDIR(entry.st.st_mode);
    if (entry.depth == 1 && dir && entry.name == "lost+found") return WalkStep::kSkip;
    bool unexpected = inside_unexpected() || !expected(entry);
    if (dir) {
      open.push_back({unexpected, reported()});
      return WalkStep::kContinue;
    }
    if (unexpected) add(entry);
    return WalkStep::kContinue;
  };
  visitor.leave = [&](const WalkEntry& entry) -> Status {
    Open left = open.back();
    open.pop_back();
    if (left.unexpected && reported() == left.reported_before) add(entry);
    return Status::Ok();
  };
  WalkLimits limits;
  limits.max_depth = kMaxWalkDepth;
  limits.max_entries = listed.size() + 512 + kMaxWalkExtraEntries;
  Status walked = WalkDirectoryTree(disk.fd(), limits, visitor);
  std::sort(found.begin(), found.end());
  if (more > 0) found.push_back("… and " + std::to_string(more) + " more");
  if (!walked.ok())
    found.push_back("(the disk was not looked at further: " + PrintableName(walked.message()) +
                    ")");
  return found;
}

// Checks a disk's manifest against the job: recorded hash, signature, job,
// account, container and drive. The error is the reason the drive fails.
// Nothing is parsed before the signature and the hash say the bytes are the
// machine's, and nothing larger than a manifest of ours is read at all.
Result<DiskManifest> VerifyManifest(const ConfinedDir& disk, const IngestJob& job,
                                    const IngestDrive& drive) {
  auto manifest_bytes = disk.ReadFile(kManifestFile, kMaxManifestBytes);
  if (!manifest_bytes.ok())
    return Status::Corruption("the manifest cannot be read: " + manifest_bytes.status().message());
  auto signature_text = disk.ReadFile(kManifestSignatureFile, kMaxLabelBytes);
  if (!signature_text.ok())
    return Status::Corruption("the manifest's signature cannot be read: " +
                              signature_text.status().message());
  std::string text(signature_text->begin(), signature_text->end());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  auto signature = Base64Decode(text);
  if (!signature.ok())
    return Status::Corruption(std::string(kManifestSignatureFile) +
                              " is not a base64 signature: the disk was not prepared by ferry "
                              "diskprep, or the file is damaged");
  auto public_key = Base64Decode(job.public_key);
  if (!public_key.ok() || public_key->size() != kSigningPublicKeySize)
    return Status::Corruption("job " + job.name +
                              " has no valid Ed25519 public key, so no manifest can be verified");
  if (!VerifySignature(*public_key, *manifest_bytes, *signature).ok())
    return Status::Corruption(
        "manifest signature does not match the job's key: the manifest was edited or signed by "
        "another key");
  // The signature proves the machine wrote it; the hash recorded at job
  // creation proves it is this drive's manifest, not another disk's or an
  // older one. (A job created by hand may have no hash recorded.)
  std::string hash = Sha256(*manifest_bytes).Hex();
  if (!drive.manifest_hash.empty() && hash != drive.manifest_hash)
    return Status::Corruption("the manifest's SHA-256 " + hash.substr(0, 16) +
                              "… differs from the one recorded for drive " + drive.drive_id +
                              " when the job was created (" + drive.manifest_hash.substr(0, 16) +
                              "…): it is not the manifest this drive shipped with");
  auto manifest = ParseDiskManifest(*manifest_bytes);
  if (!manifest.ok()) return manifest.status();
  auto mismatch = [&](const std::string& what, const std::string& has, const std::string& want) {
    return Status::Corruption("the manifest names " + what + " '" + PrintableName(has) +
                              "', the job has '" + want + "'");
  };
  if (manifest->job != job.name) return mismatch("job", manifest->job, job.name);
  if (manifest->storage_account != job.storage_account)
    return mismatch("storage account", manifest->storage_account, job.storage_account);
  if (manifest->container != job.container)
    return mismatch("container", manifest->container, job.container);
  if (manifest->drive_id != drive.drive_id)
    return mismatch("drive", manifest->drive_id, drive.drive_id);
  return *std::move(manifest);
}

// What became of one listed pack.
enum class Outcome { kPending, kPresent, kCopied, kMissing, kCorrupt };

class DriveIngest {
 public:
  DriveIngest(const IngestOptions& options, ImportService& service, IngestProgress* progress,
              const IngestJob& job, IngestContainer& container, DiskSource& source,
              DriveReport& report)
      : options_(options),
        service_(service),
        progress_(progress),
        job_(job),
        container_(container),
        report_(report),
        source_(source) {}

  // The state Run reported for the drive.
  DriveState final_state() const { return final_state_; }

  // Copies the listed files, then sends the drive's final state.
  Status Run(const DiskManifest& manifest) {
    // A manifest listing a pack twice still gets one copy.
    std::set<Id> seen;
    for (const ManifestFile& file : manifest.files)
      if (seen.insert(file.id).second) files_.push_back(file);
    outcomes_.assign(files_.size(), Outcome::kPending);
    for (const ManifestFile& file : files_) report_.bytes_listed += file.size;
    report_.files_listed = files_.size();
    if (progress_) {
      progress_->bytes_total = report_.bytes_listed;
      progress_->bytes_done = 0;
    }
    RETURN_IF_ERROR(CopyAll());
    return Finish();
  }

 private:
  Status CopyAll() {
    int threads = std::max(1, std::min<int>(options_.copy_threads, files_.size()));
    running_ = threads;
    std::vector<std::thread> workers;
    for (int i = 0; i < threads; ++i) workers.emplace_back([this] { Work(); });
    auto interval = std::chrono::duration<double>(options_.report_interval);
    uint64_t reported = 0;
    {
      std::unique_lock lock(mutex_);
      for (;;) {
        if (wake_.wait_for(lock, interval, [&] { return running_ == 0; })) break;
        uint64_t done = bytes_done_;
        lock.unlock();
        if (done != reported) {
          // Progress is advisory: a failed report (a network blip) must not
          // stop the copy; the final report is sent (and checked) below.
          service_.UpdateDrive(job_.name, Progress(done)).IgnoreError();
          reported = done;
        }
        lock.lock();
      }
    }
    for (std::thread& worker : workers) worker.join();
    if (!error_.ok()) return error_;
    if (Interrupted())
      return Status::Interrupted("interrupted while copying drive " + report_.drive_id +
                                 ": it stays Transferring; run the same command again to resume");
    return Status::Ok();
  }

  bool Interrupted() const { return options_.interrupt && options_.interrupt->load(); }

  DriveUpdate Progress(uint64_t done) const {
    DriveUpdate update;
    update.drive_id = report_.drive_id;
    update.bytes_succeeded = done;
    update.percent_complete = Percent(done);
    return update;
  }

  int Percent(uint64_t done) const {
    if (report_.bytes_listed == 0) return 100;
    // In floating point: done * 100 could overflow for a manifest's sizes.
    return static_cast<int>(static_cast<double>(done) * 100.0 /
                            static_cast<double>(report_.bytes_listed));
  }

  void Work() {
    for (;;) {
      size_t index = next_.fetch_add(1);
      if (index >= files_.size() || Interrupted()) break;
      {
        std::lock_guard lock(mutex_);
        if (!error_.ok()) break;
      }
      Outcome outcome = Outcome::kPending;
      std::string why;
      Status status = CopyOne(files_[index], &outcome, &why);
      std::lock_guard lock(mutex_);
      if (!status.ok()) {
        if (error_.ok()) error_ = status;
        break;
      }
      outcomes_[index] = outcome;
      if (outcome == Outcome::kCorrupt && first_corrupt_.first > index)
        first_corrupt_ = {index, why};
      if (outcome == Outcome::kPresent || outcome == Outcome::kCopied) {
        bytes_done_ += files_[index].size;
        if (progress_) progress_->bytes_done = bytes_done_;
      }
    }
    std::lock_guard lock(mutex_);
    if (--running_ == 0) wake_.notify_all();
  }

  // An error return is the container's (or the run's) problem and stops the
  // ingest; a damaged or absent pack is an outcome, and `why` says, relative
  // to the disk, what is wrong with a corrupt one.
  Status CopyOne(const ManifestFile& file, Outcome* outcome, std::string* why) {
    ObjectName name{ObjectKind::kData, file.id.Hex()};
    std::string path = ManifestFilePath(file.id);
    // Committed copies were verified against their name: a re-run skips them.
    auto present = container_.backend().Stat(name);
    if (present.ok() && *present == file.size) {
      *outcome = Outcome::kPresent;
      return Status::Ok();
    }
    auto size = source_.Stat(name);
    if (!size.ok()) {
      *outcome = size.status().IsNotFound() ? Outcome::kMissing : Outcome::kCorrupt;
      *why = size.status().message();
      return Status::Ok();
    }
    if (*size != file.size) {  // damaged; copying it would only prove it
      *outcome = Outcome::kCorrupt;
      *why = path + " is " + std::to_string(*size) + " bytes, the manifest lists " +
             std::to_string(file.size);
      return Status::Ok();
    }
    DiskSource::ClearDiskFailure();
    auto copied = CopyVerifiedPack(source_, container_.backend(), file.id, file.size);
    if (copied.ok()) {
      *outcome = Outcome::kCopied;
      if (progress_) progress_->bytes_copied += *copied;
      return Status::Ok();
    }
    if (copied.status().IsNotFound()) {
      *outcome = Outcome::kMissing;
      return Status::Ok();
    }
    if (DiskSource::DiskFailed()) {  // unreadable on the disk (or swapped for a link)
      *outcome = Outcome::kCorrupt;
      *why = "reading " + path + " failed: " + copied.status().message();
      return Status::Ok();
    }
    if (copied.status().IsCorruption()) {  // wrong hash, or it changed size while read
      *outcome = Outcome::kCorrupt;
      *why = path + " does not hash to its name, or changed while it was read";
      return Status::Ok();
    }
    return copied.status().WithContext("copying pack " + file.id.Hex() + " into " +
                                       container_.location());
  }

  Status Finish() {
    for (size_t i = 0; i < files_.size(); ++i) {
      const ManifestFile& file = files_[i];
      switch (outcomes_[i]) {
        case Outcome::kPresent:
          ++report_.files_present;
          report_.bytes_present += file.size;
          break;
        case Outcome::kCopied:
          ++report_.files_copied;
          report_.bytes_copied += file.size;
          break;
        case Outcome::kMissing:
          report_.missing.push_back(file.id.Hex());
          break;
        case Outcome::kCorrupt:
          report_.corrupt.push_back(file.id.Hex());
          break;
        case Outcome::kPending:
          return Status::Internal("pack " + file.id.Hex() + " was never copied");
      }
    }
    std::unordered_set<std::string> listed;
    for (const ManifestFile& file : files_) listed.insert(file.id.Hex());
    report_.unexpected = UnexpectedFiles(source_.dir(), listed);

    uint64_t in_container = report_.files_present + report_.files_copied;
    uint64_t bytes_in_container = report_.bytes_present + report_.bytes_copied;
    std::vector<std::string> problems;
    if (!report_.missing.empty())
      problems.push_back(std::to_string(report_.missing.size()) + " missing");
    if (!report_.corrupt.empty())
      problems.push_back(std::to_string(report_.corrupt.size()) + " corrupt");
    if (!report_.unexpected.empty())
      problems.push_back(std::to_string(report_.unexpected.size()) + " unexpected");
    std::string summary;
    for (const std::string& problem : problems) summary += (summary.empty() ? "" : ", ") + problem;
    // The lists name files; the reason says what was wrong with the first
    // corrupt one, since "corrupt" alone does not say whether a pack was
    // damaged, the wrong size or not a file at all.
    std::string detail;
    if (!first_corrupt_.second.empty()) detail = "; first corrupt: " + first_corrupt_.second;
    DriveState final_state = DriveState::kCompleted;
    if (!files_.empty() && in_container == 0) {
      final_state = DriveState::kFailed;
      report_.reason = "nothing could be copied (" + summary + " of " +
                       Plural(files_.size(), "listed file", "listed files") + ")" + detail;
    } else if (!problems.empty()) {
      final_state = DriveState::kCompletedMoreInfo;
      report_.reason = summary + " file(s)" + detail;
    } else {
      report_.reason.clear();
    }
    final_state_ = final_state;
    report_.state = DriveStateName(final_state);
    // The service hears "Completed" only once the copies are durable.
    RETURN_IF_ERROR(container_.MakeDurable());
    DriveUpdate update = Progress(bytes_in_container);
    update.state = final_state;
    update.reason = report_.reason;
    update.with_lists = true;
    update.missing = report_.missing;
    update.corrupt = report_.corrupt;
    update.unexpected = report_.unexpected;
    return service_.UpdateDrive(job_.name, update)
        .WithContext("reporting drive " + report_.drive_id + " " + report_.state);
  }

  const IngestOptions& options_;
  ImportService& service_;
  IngestProgress* progress_;
  DriveState final_state_ = DriveState::kTransferring;
  const IngestJob& job_;
  IngestContainer& container_;
  DriveReport& report_;
  DiskSource& source_;
  std::vector<ManifestFile> files_;
  std::atomic<size_t> next_{0};

  std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  std::vector<Outcome> outcomes_;
  std::pair<size_t, std::string> first_corrupt_{SIZE_MAX, ""};  // in manifest order
  uint64_t bytes_done_ = 0;
  int running_ = 0;
  Status error_;
};

// `with_lists`: also send the (empty) missing/corrupt/unexpected lists, as a
// final report does.
Status MoveDrive(ImportService& service, const std::string& job, IngestDrive& drive,
                 DriveState state, const std::string& reason, bool with_lists = false) {
  DriveUpdate update;
  update.drive_id = drive.drive_id;
  update.state = state;
  update.reason = reason;
  update.with_lists = with_lists;
  RETURN_IF_ERROR(
      service.UpdateDrive(job, update)
          .WithContext("moving drive " + drive.drive_id + " to " + DriveStateName(state)));
  drive.state = state;
  return Status::Ok();
}

Status MoveJob(ImportService& service, IngestJob& job, JobState state, const std::string& message) {
  RETURN_IF_ERROR(service.SetJobState(job.name, state, message));
  job.state = state;
  return Status::Ok();
}

Status FailDrive(ImportService& service, const std::string& job, IngestDrive& drive,
                 DriveReport& report, const std::string& reason) {
  RETURN_IF_ERROR(MoveDrive(service, job, drive, DriveState::kFailed, reason, /*with_lists=*/true));
  report.state = DriveStateName(DriveState::kFailed);
  report.reason = reason;
  return Status::Ok();
}

// Refuses to ingest where the vault would not find the packs (the seed would
// then cross the network again, silently): `location` is where this run
// would copy, below `given_root` (--storage-root; empty: the service's).
Status CheckVaultAdoptsFrom(const IngestJob& job, const std::string& given_root,
                            const std::string& location) {
  if (job.container_location.empty()) return Status::Ok();  // the service does not say
  std::string vault_side =
      "the vault adopts job " + job.name + "'s packs from " + job.container_location;
  if (job.storage_root_id.empty()) {
    // An object store: the same location from anywhere.
    if (location == job.container_location) return Status::Ok();
    return Status::InvalidArgument("--storage-root " + given_root + " would put job " + job.name +
                                   "'s packs in " + location + ", but " + vault_side +
                                   ": leave out --storage-root (and FERRY_STORAGE_ROOT)");
  }
  // A directory: its marker says whether this is the vault's root, wherever
  // it is mounted here.
  std::string root = given_root.empty() ? job.storage_root : given_root;
  auto parsed = ParseStorageLocation(root);
  if (!parsed.ok()) return parsed.status();
  std::optional<std::string> id;
  if (parsed->scheme == "local") {
    ASSIGN_OR_RETURN(id, ReadStorageRootId(parsed->address));
  }
  if (id && *id == job.storage_root_id) return Status::Ok();
  std::string found = !id ? "holds no " + std::string(kStorageRootIdFile)
                          : "is another storage root (its " + std::string(kStorageRootIdFile) +
                                " is " + *id + ", the vault's " + job.storage_root_id + ")";
  if (given_root.empty())
    return Status::InvalidArgument(
        "the vault's storage root " + job.storage_root + " is not on this machine (" +
        job.storage_root + " " + found + "): " + vault_side +
        "; mount the vault's storage root here and give it with --storage-root");
  return Status::InvalidArgument(
      "--storage-root " + given_root + " is not the vault's storage root (it " + found +
      "): " + vault_side + " (below its storage root " + job.storage_root +
      "); leave out --storage-root (and FERRY_STORAGE_ROOT), or give "
      "the directory where that root is mounted here");
}

}  // namespace

bool IngestReport::AllCompleted() const {
  for (const DriveReport& drive : drives)
    if (drive.state != DriveStateName(DriveState::kCompleted)) return false;
  return true;
}

Result<IngestReport> Ingest(const IngestOptions& options, ImportService& service,
                            IngestProgress* progress) {
  auto say = [&](const std::string& line) {
    if (options.say) options.say(line);
  };
  if (options.disks.empty()) return Status::InvalidArgument("no disk given (--disk PATH)");
  ASSIGN_OR_RETURN(IngestJob job, service.GetJob(options.job));
  // The operator's --storage-root, else where the import service keeps the
  // job's container; either way the place the vault adopts from.
  std::string location = job.container_location;
  if (!options.storage_root.empty()) {
    auto below_root = ContainerLocation(options.storage_root, job.storage_account, job.container);
    if (!below_root.ok()) return below_root.status().WithContext("job " + job.name);
    location = *below_root;
  }
  if (location.empty())
    return Status::InvalidArgument("the import service does not say where job " + job.name +
                                   "'s container is: give the storage account root with "
                                   "--storage-root or FERRY_STORAGE_ROOT");
  RETURN_IF_ERROR(CheckVaultAdoptsFrom(job, options.storage_root, location));
  IngestReport report;
  report.job = job.name;

  // Labels first: which presented disks are drives of this job.
  // Each disk is opened once, and everything on it is reached through that
  // directory without following a link (DiskSource, ConfinedDir).
  std::set<std::string> presented;
  std::vector<std::unique_ptr<DiskSource>> sources;
  for (const std::string& disk : options.disks) {
    DriveReport drive_report;
    drive_report.disk = disk;
    auto source = DiskSource::Open(disk);
    Result<DiskLabel> label = Status::Internal("not read");
    if (!source.ok()) {
      label = source.status();
    } else {
      auto label_bytes = (*source)->dir().ReadFile(kDiskLabelFile, kMaxLabelBytes);
      label = label_bytes.ok() ? ParseDiskLabel(*label_bytes) : label_bytes.status();
    }
    sources.push_back(source.ok() ? std::move(*source) : nullptr);
    if (!label.ok()) {
      drive_report.reason = "not a ferry disk (no readable " + std::string(kDiskLabelFile) +
                            "): " + PrintableName(label.status().message());
    } else {
      drive_report.drive_id = label->drive_id;
      if (label->job != job.name)
        drive_report.reason = "the disk belongs to job " + label->job + ", not " + job.name;
      else if (!FindDrive(job, label->drive_id))
        drive_report.reason = "job " + job.name + " has no drive " + label->drive_id;
      else if (!presented.insert(label->drive_id).second)
        drive_report.reason = "drive " + label->drive_id + " was given twice";
    }
    report.drives.push_back(std::move(drive_report));
  }
  if (presented.empty())
    return Status::InvalidArgument("none of the disks given is a drive of job " + job.name +
                                   "; nothing was changed");

  if (job.state != JobState::kShipping && job.state != JobState::kReceived &&
      job.state != JobState::kTransferring && job.state != JobState::kPackaging &&
      job.state != JobState::kCompleted)
    return Status::InvalidArgument("job " + job.name + " is " + JobStateName(job.state) +
                                   ": the datacenter ingests a job once it has shipped "
                                   "(Shipping, Received, Transferring, Packaging, or Completed "
                                   "for late drives)");
  auto opened = IngestContainer::Open(location);
  if (!opened.ok())
    return opened.status().WithContext("job " + job.name + ": the storage container");
  IngestContainer& container = **opened;
  report.container = container.location();

  // The package: Shipping → Received → Transferring. A re-run finds the job
  // further along; a late drive may arrive after the job completed.
  bool job_open = true;
  if (job.state == JobState::kShipping) {
    std::string message = "package received with " + Plural(presented.size(), "drive", "drives") +
                          " of " + std::to_string(job.drives.size());
    RETURN_IF_ERROR(MoveJob(service, job, JobState::kReceived, message));
    say("job " + job.name + ": " + message);
  }
  if (job.state == JobState::kReceived) {
    RETURN_IF_ERROR(MoveJob(service, job, JobState::kTransferring,
                            "copying into " + job.storage_account + "/" + job.container));
  } else if (job.state == JobState::kCompleted) {
    job_open = false;
    say("job " + job.name + " is already Completed; ingesting late drives only");
  }

  for (size_t i = 0; i < report.drives.size(); ++i) {
    DriveReport& drive_report = report.drives[i];
    if (!drive_report.reason.empty()) continue;  // skipped, said why above
    IngestDrive& drive = *FindDrive(job, drive_report.drive_id);
    if (options.interrupt && options.interrupt->load())
      return Status::Interrupted("interrupted before drive " + drive.drive_id +
                                 "; run the same command again to resume");
    if (progress) {
      std::lock_guard lock(progress->mutex);
      progress->drive_id = drive.drive_id;
    }
    if (IsDriveDone(drive.state)) {
      drive_report.state = DriveStateName(drive.state);
      drive_report.already_done = true;
      drive_report.reason = "finished by an earlier run (" + drive_report.state + ")";
      continue;
    }
    if (drive.state == DriveState::kSpecified || drive.state == DriveState::kNeverReceived)
      RETURN_IF_ERROR(MoveDrive(service, job.name, drive, DriveState::kReceived, "disk received"));
    if (drive.state == DriveState::kReceived)
      RETURN_IF_ERROR(MoveDrive(service, job.name, drive, DriveState::kTransferring, "copying"));
    DiskSource& source = *sources[i];
    auto manifest = VerifyManifest(source.dir(), job, drive);
    if (!manifest.ok()) {
      RETURN_IF_ERROR(
          FailDrive(service, job.name, drive, drive_report, manifest.status().message()));
      continue;
    }
    DriveIngest ingest(options, service, progress, job, container, source, drive_report);
    RETURN_IF_ERROR(ingest.Run(*manifest));
    drive.state = ingest.final_state();
    report.bytes_copied += drive_report.bytes_copied;
  }

  // Drives that were not in the package. The service is asked again: another
  // operator may have ingested drives of the same job meanwhile.
  ASSIGN_OR_RETURN(job, service.GetJob(options.job));
  for (IngestDrive& drive : job.drives) {
    if (drive.state != DriveState::kSpecified || presented.count(drive.drive_id)) continue;
    RETURN_IF_ERROR(
        MoveDrive(service, job.name, drive, DriveState::kNeverReceived, "not in the package"));
    report.never_received.push_back(drive.drive_id);
  }
  bool all_final = std::all_of(job.drives.begin(), job.drives.end(),
                               [](const IngestDrive& drive) { return IsFinal(drive.state); });
  if (all_final && job_open) {
    if (job.state == JobState::kTransferring)
      RETURN_IF_ERROR(MoveJob(service, job, JobState::kPackaging, "every drive is done"));
    if (job.state == JobState::kPackaging)
      RETURN_IF_ERROR(MoveJob(service, job, JobState::kCompleted,
                              "packs are in " + job.storage_account + "/" + job.container));
  }
  report.job_state = JobStateName(job.state);
  return report;
}

}  // namespace ferry
