// Datacenter ingest (src/seed/ingest.h) on fabricated disks, against a fake
// import service that applies the real job and drive state machines
// (seed/import_job.h), so an illegal transition fails the test.
#include "seed/ingest.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "crypto/signature.h"
#include "format/disk_manifest.h"
#include "seed/import_job.h"
#include "seed/ingest_container.h"
#include "seed/pack_copy.h"
#include "seed/storage_root_id.h"
#include "storage/backend_registry.h"
#include "storage/memory_backend.h"
#include "test_util.h"
#include "util/file_util.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

class FakeImportService : public ImportService {
 public:
  ImportJob job;
  std::string container_location;             // what the service says of the job's container
  std::string storage_root, storage_root_id;  // and of its directory root
  std::vector<std::string> calls;  // "job Received", "drive d1 Transferring", "progress d1"
  int64_t now = 1;

  Result<IngestJob> GetJob(const std::string& name) override {
    if (name != job.name) return Status::NotFound("no import job " + name);
    IngestJob view{job.name,      job.state,       job.storage_account,
                   job.container, job.public_key,  container_location,
                   storage_root,  storage_root_id, {}};
    for (const DriveRecord& d : job.drives)
      view.drives.push_back({d.drive_id, d.state, d.manifest_hash, d.bytes});
    return view;
  }
  Status SetJobState(const std::string&, JobState to, const std::string& message) override {
    calls.push_back(std::string("job ") + JobStateName(to));
    return TransitionJob(job, to, ++now, message);
  }
  Status UpdateDrive(const std::string&, const DriveUpdate& update) override {
    DriveRecord* drive = job.FindDrive(update.drive_id);
    if (!drive) return Status::NotFound("no drive " + update.drive_id);
    if (update.state) {
      calls.push_back("drive " + update.drive_id + " " + DriveStateName(*update.state));
      RETURN_IF_ERROR(TransitionDrive(job, *drive, *update.state, ++now, update.reason));
      drive->reason = update.reason;
    } else {
      calls.push_back("progress " + update.drive_id);
    }
    drive->bytes_succeeded = update.bytes_succeeded;
    drive->percent_complete = update.percent_complete;
    if (update.with_lists) {
      drive->missing = update.missing;
      drive->corrupt = update.corrupt;
      drive->unexpected = update.unexpected;
    }
    return Status::Ok();
  }
  DriveRecord& Drive(const std::string& id) { return *job.FindDrive(id); }
};

void WriteFile(const std::string& path, ByteView data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << path;
}

Bytes ReadFile(const std::string& path) {
  auto bytes = ReadWholeFile(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : Bytes();
}

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = GenerateSigningKey();
    service_.job.name = "seed-1";
    service_.job.storage_account = "acct";
    service_.job.container = "box";
    service_.job.public_key = Base64Encode(key_.public_key);
    service_.job.state = JobState::kShipping;
    options_.job = "seed-1";
    options_.storage_root = dir_.path() + "/storage";
    options_.report_interval = 0.01;
    options_.copy_threads = 2;
  }

  // A disk of `packs` random packs for drive `drive_id`, registered with the job.
  std::string MakeDisk(const std::string& drive_id, int packs) {
    std::string disk = dir_.path() + "/disk-" + drive_id;
    DiskManifest manifest{"seed-1", "acct", "box", std::string(64, 'a'), drive_id, 1, 1, {}};
    for (int i = 0; i < packs; ++i) {
      std::uniform_int_distribution<int> size(1, 300000), byte(0, 255);
      Bytes data(static_cast<size_t>(size(rng_)));
      for (uint8_t& b : data) b = static_cast<uint8_t>(byte(rng_));
      Id id = Sha256(data);
      WriteFile(disk + "/" + ManifestFilePath(id), data);
      manifest.files.push_back({id, data.size()});
      packs_[id.Hex()] = data;
    }
    manifests_[drive_id] = manifest;
    Bytes encoded = EncodeDiskManifest(manifest);
    WriteManifest(disk, encoded, key_);
    WriteFile(disk + "/" + kDiskLabelFile, EncodeDiskLabel({"seed-1", drive_id}));
    DriveRecord drive;
    drive.drive_id = drive_id;
    drive.manifest_hash = Sha256(encoded).Hex();
    service_.job.drives.push_back(drive);
    options_.disks.push_back(disk);
    return disk;
  }
  static void WriteManifest(const std::string& disk, ByteView encoded, const SigningKey& key) {
    WriteFile(disk + "/" + kManifestFile, encoded);
    WriteFile(disk + "/" + kManifestSignatureFile,
              AsBytes(Base64Encode(Sign(key, encoded)) + "\n"));
  }
  // Signs `manifest` as drive `drive_id`'s and records it with the job, as a
  // hostile customer (who holds the signing key) would.
  void Resign(const std::string& disk, const std::string& drive_id, const DiskManifest& manifest) {
    Bytes encoded = EncodeDiskManifest(manifest);
    WriteManifest(disk, encoded, key_);
    service_.Drive(drive_id).manifest_hash = Sha256(encoded).Hex();
    manifests_[drive_id] = manifest;
  }
  // Every string the import service was sent about `drive_id`.
  std::string SentAbout(const std::string& drive_id) {
    const DriveRecord& drive = service_.Drive(drive_id);
    std::string all = drive.reason;
    for (const auto* list : {&drive.missing, &drive.corrupt, &drive.unexpected})
      for (const std::string& item : *list) all += "\n" + item;
    return all;
  }
  std::string Container() const { return options_.storage_root + "/acct/box"; }
  std::string InContainer(const Id& id) const { return Container() + "/" + ManifestFilePath(id); }
  bool ContainerHas(const Id& id) const { return fs::exists(InContainer(id)); }
  size_t ContainerFiles() const {
    size_t n = 0;
    if (!fs::exists(Container() + "/data")) return 0;
    for (auto& entry : fs::recursive_directory_iterator(Container() + "/data"))
      n += entry.is_regular_file();
    return n;
  }
  Result<IngestReport> Run() { return Ingest(options_, service_, &progress_); }

  TempDir dir_;
  SigningKey key_;
  FakeImportService service_;
  IngestOptions options_;
  IngestProgress progress_;
  std::mt19937 rng_{42};
  std::map<std::string, Bytes> packs_;
  std::map<std::string, DiskManifest> manifests_;
};

TEST_F(IngestTest, GoodDisksCompleteAndContainerHoldsExactBytes) {
  MakeDisk("d1", 12);
  MakeDisk("d2", 7);
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->AllCompleted());
  ASSERT_EQ(report->drives.size(), 2u);
  for (const DriveReport& drive : report->drives) {
    EXPECT_EQ(drive.state, "Completed") << drive.reason;
    EXPECT_EQ(drive.files_copied, drive.files_listed);
    EXPECT_TRUE(drive.missing.empty() && drive.corrupt.empty() && drive.unexpected.empty());
  }
  EXPECT_EQ(service_.Drive("d1").state, DriveState::kCompleted);
  EXPECT_EQ(service_.Drive("d2").state, DriveState::kCompleted);
  EXPECT_EQ(service_.Drive("d1").percent_complete, 100);
  EXPECT_EQ(service_.job.state, JobState::kCompleted);
  EXPECT_EQ(report->job_state, "Completed");
  EXPECT_EQ(ContainerFiles(), packs_.size());
  for (const auto& [hex, data] : packs_) {
    auto id = Id::FromHex(hex);
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(ReadFile(InContainer(*id)), data) << hex;
  }
  EXPECT_EQ(service_.calls.front(), "job Received");
  EXPECT_NE(service_.job.events[0].message.find("package received with 2 drives"),
            std::string::npos)
      << service_.job.events[0].message;
}

TEST_F(IngestTest, FlippedBitIsCorruptAndNotCopied) {
  std::string disk = MakeDisk("d1", 6);
  const ManifestFile& victim = manifests_["d1"].files[3];
  std::string path = disk + "/" + ManifestFilePath(victim.id);
  Bytes data = ReadFile(path);
  data[data.size() / 2] ^= 0x10;
  WriteFile(path, data);

  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->AllCompleted());
  const DriveReport& drive = report->drives[0];
  EXPECT_EQ(drive.state, "CompletedMoreInfo");
  EXPECT_EQ(drive.corrupt, std::vector<std::string>{victim.id.Hex()});
  EXPECT_TRUE(drive.missing.empty());
  EXPECT_EQ(drive.files_copied, 5u);
  EXPECT_FALSE(ContainerHas(victim.id));
  EXPECT_EQ(ContainerFiles(), 5u);
  EXPECT_EQ(service_.Drive("d1").state, DriveState::kCompletedMoreInfo);
  EXPECT_EQ(service_.Drive("d1").corrupt, std::vector<std::string>{victim.id.Hex()});
  EXPECT_NE(service_.Drive("d1").reason.find("1 corrupt"), std::string::npos);
  // No temp file of the refused copy is left behind either.
  size_t entries = 0;
  for (auto& entry : fs::recursive_directory_iterator(Container()))
    entries += entry.is_regular_file();
  EXPECT_EQ(entries, 5u);
}

TEST_F(IngestTest, DeletedFileIsMissingExtraFileIsUnexpected) {
  std::string disk = MakeDisk("d1", 5);
  const ManifestFile& gone = manifests_["d1"].files[0];
  fs::remove(disk + "/" + ManifestFilePath(gone.id));
  WriteFile(disk + "/notes.txt", AsBytes("hello"));
  Bytes stray(100, 7);
  std::string stray_id = Sha256(stray).Hex();
  WriteFile(disk + "/data/" + stray_id.substr(0, 2) + "/" + stray_id, stray);

  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const DriveReport& drive = report->drives[0];
  EXPECT_EQ(drive.state, "CompletedMoreInfo");
  EXPECT_EQ(drive.missing, std::vector<std::string>{gone.id.Hex()});
  std::vector<std::string> unexpected = {"data/" + stray_id.substr(0, 2) + "/" + stray_id,
                                         "notes.txt"};
  EXPECT_EQ(drive.unexpected, unexpected);
  EXPECT_EQ(service_.Drive("d1").missing, std::vector<std::string>{gone.id.Hex()});
  EXPECT_EQ(service_.Drive("d1").unexpected, unexpected);
  EXPECT_EQ(ContainerFiles(), 4u);  // the unexpected pack is not copied
}

TEST_F(IngestTest, OnlyUnexpectedFilesStillCompletedMoreInfo) {
  std::string disk = MakeDisk("d1", 2);
  fs::create_directories(disk + "/lost+found");  // the file system's own: ignored
  WriteFile(disk + "/extra/deep/file.bin", AsBytes("x"));
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->drives[0].state, "CompletedMoreInfo");
  EXPECT_EQ(report->drives[0].unexpected, std::vector<std::string>{"extra/deep/file.bin"});
  EXPECT_EQ(ContainerFiles(), 2u);
}

TEST_F(IngestTest, EditedManifestFailsAndCopiesNothing) {
  std::string disk = MakeDisk("d1", 4);
  MakeDisk("d2", 3);
  // Two IDs swapped: same files, different bytes; the old signature stays.
  DiskManifest edited = manifests_["d1"];
  std::swap(edited.files[0].id, edited.files[1].id);
  WriteFile(disk + "/" + kManifestFile, EncodeDiskManifest(edited));

  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->AllCompleted());
  EXPECT_EQ(report->drives[0].state, "Failed");
  EXPECT_NE(report->drives[0].reason.find("manifest signature does not match the job's key"),
            std::string::npos)
      << report->drives[0].reason;
  EXPECT_EQ(report->drives[0].files_copied, 0u);
  for (const ManifestFile& file : manifests_["d1"].files) EXPECT_FALSE(ContainerHas(file.id));
  EXPECT_EQ(service_.Drive("d1").state, DriveState::kFailed);
  EXPECT_EQ(service_.Drive("d2").state, DriveState::kCompleted);
  EXPECT_EQ(ContainerFiles(), 3u);
  EXPECT_EQ(service_.job.state, JobState::kCompleted);  // every drive is final
}

TEST_F(IngestTest, ManifestOfAnotherKeyOrAnotherDriveFails) {
  std::string disk1 = MakeDisk("d1", 2);
  std::string disk2 = MakeDisk("d2", 2);
  // d1: re-signed by a key that is not the job's.
  WriteManifest(disk1, EncodeDiskManifest(manifests_["d1"]), GenerateSigningKey());
  // d2: properly signed, but not the manifest recorded for d2 at job creation.
  DiskManifest other = manifests_["d2"];
  other.files.pop_back();
  WriteManifest(disk2, EncodeDiskManifest(other), key_);
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->drives[0].state, "Failed");
  EXPECT_NE(report->drives[0].reason.find("signature"), std::string::npos);
  EXPECT_EQ(report->drives[1].state, "Failed");
  EXPECT_NE(report->drives[1].reason.find("differs from the one recorded"), std::string::npos)
      << report->drives[1].reason;
  EXPECT_EQ(ContainerFiles(), 0u);
}

TEST_F(IngestTest, ReRunSkipsWhatTheContainerHolds) {
  MakeDisk("d1", 10);
  // A first run was killed after copying some packs: the job and drive are
  // Transferring and the container holds three verified packs.
  ASSERT_TRUE(TransitionJob(service_.job, JobState::kReceived, 1, "").ok());
  ASSERT_TRUE(TransitionJob(service_.job, JobState::kTransferring, 1, "").ok());
  ASSERT_TRUE(
      TransitionDrive(service_.job, service_.Drive("d1"), DriveState::kReceived, 1, "").ok());
  ASSERT_TRUE(
      TransitionDrive(service_.job, service_.Drive("d1"), DriveState::kTransferring, 1, "").ok());
  for (int i = 0; i < 3; ++i) {
    const ManifestFile& file = manifests_["d1"].files[static_cast<size_t>(i)];
    WriteFile(InContainer(file.id), packs_[file.id.Hex()]);
  }
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->drives[0].state, "Completed");
  EXPECT_EQ(report->drives[0].files_present, 3u);
  EXPECT_EQ(report->drives[0].files_copied, 7u);
  EXPECT_EQ(ContainerFiles(), 10u);
  EXPECT_EQ(service_.job.state, JobState::kCompleted);
  // No transition was repeated (the fake would have refused it).
  EXPECT_EQ(std::count(service_.calls.begin(), service_.calls.end(), "drive d1 Transferring"), 0);

  // Running again changes nothing and still reports the drive Completed.
  service_.calls.clear();
  auto again = Run();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->AllCompleted());
  EXPECT_TRUE(again->drives[0].already_done);
  EXPECT_EQ(again->bytes_copied, 0u);
}

TEST_F(IngestTest, AbsentDriveNeverReceivedThenArrivesLate) {
  MakeDisk("d1", 3);
  MakeDisk("d2", 3);
  std::vector<std::string> both = options_.disks;
  options_.disks = {both[0]};
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->never_received, std::vector<std::string>{"d2"});
  EXPECT_EQ(service_.Drive("d2").state, DriveState::kNeverReceived);
  EXPECT_EQ(service_.job.state, JobState::kCompleted);
  EXPECT_EQ(ContainerFiles(), 3u);

  // The lost disk turns up after the job completed.
  options_.disks = {both[1]};
  auto late = Run();
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ(late->drives[0].state, "Completed");
  EXPECT_EQ(service_.Drive("d2").state, DriveState::kCompleted);
  EXPECT_EQ(service_.job.state, JobState::kCompleted);
  EXPECT_EQ(ContainerFiles(), 6u);
}

TEST_F(IngestTest, ForeignAndUnknownDisksAreSkipped) {
  MakeDisk("d1", 2);
  std::string foreign = dir_.path() + "/foreign";
  WriteFile(foreign + "/" + kDiskLabelFile, EncodeDiskLabel({"other-job", "x9"}));
  std::string unknown = dir_.path() + "/unknown";
  WriteFile(unknown + "/" + kDiskLabelFile, EncodeDiskLabel({"seed-1", "zz"}));
  std::string blank = dir_.path() + "/blank";
  fs::create_directories(blank);
  options_.disks.insert(options_.disks.end(), {foreign, unknown, blank});
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->drives.size(), 4u);
  EXPECT_EQ(report->drives[0].state, "Completed");
  EXPECT_EQ(report->drives[1].state, "");
  EXPECT_NE(report->drives[1].reason.find("belongs to job other-job"), std::string::npos);
  EXPECT_NE(report->drives[2].reason.find("has no drive zz"), std::string::npos);
  EXPECT_NE(report->drives[3].reason.find("not a ferry disk"), std::string::npos);
  EXPECT_FALSE(report->AllCompleted());  // not everything presented was ingested

  // Only foreign disks: refused before anything changes.
  service_.calls.clear();
  options_.disks = {foreign};
  EXPECT_FALSE(Run().ok());
  EXPECT_TRUE(service_.calls.empty());
}

TEST_F(IngestTest, InterruptStopsAndReRunResumes) {
  MakeDisk("d1", 4);
  std::atomic<bool> interrupt{true};
  options_.interrupt = &interrupt;
  auto report = Run();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kInterrupted);
  interrupt = false;
  auto resumed = Run();
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->drives[0].state, "Completed");
}

TEST_F(IngestTest, KilledRunsTempFilesGoAtOnceUnlessAnotherIngestIsRunning) {
  MakeDisk("d1", 3);
  fs::create_directories(Container() + "/data/ab");
  std::string temp =
      Container() + "/data/ab/" + std::string(64, 'b').replace(0, 2, "ab") + ".tmp-7";
  WriteFile(temp, Bytes(1000, 1));  // written just now
  {
    // Another ingest holds the container: a fresh temp file may be its copy in progress.
    int other = ::open(Container().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(other, 0);
    ASSERT_EQ(::flock(other, LOCK_SH), 0);
    auto report = Run();
    ::close(other);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(fs::exists(temp));
  }
  // No other ingest now: the same fresh file can only be a killed run's.
  auto again = Run();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_EQ(ContainerFiles(), packs_.size());
}

TEST_F(IngestTest, UnshippedJobIsRefused) {
  MakeDisk("d1", 1);
  service_.job.state = JobState::kCreating;
  auto report = Run();
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("is Creating"), std::string::npos);
  EXPECT_EQ(ContainerFiles(), 0u);
}

// Issue 9: a disk with data/x -> /root made the datacenter list its own files
// in the customer's report, and a pack-named link to a file outside the disk
// was copied into the container. Nothing on a disk is followed.
TEST_F(IngestTest, SymlinksOnTheDiskAreReportedNeverFollowed) {
  std::string disk = MakeDisk("d1", 3);
  std::string outside = dir_.path() + "/datacenter-secrets";
  for (int i = 0; i < 50; ++i) WriteFile(outside + "/file-" + std::to_string(i), AsBytes("x"));
  std::string secret_text = "the datacenter's own file";
  Bytes secret(secret_text.begin(), secret_text.end());
  WriteFile(outside + "/known.conf", secret);
  Id secret_id = Sha256(secret);
  // A directory link, and a listed pack that is a link to a file outside
  // whose bytes do hash to its name.
  fs::create_directory_symlink(outside, disk + "/data/x");
  fs::create_directories(disk + "/data/" + secret_id.Hex().substr(0, 2));
  fs::create_symlink(outside + "/known.conf", disk + "/" + ManifestFilePath(secret_id));
  DiskManifest manifest = manifests_["d1"];
  manifest.files.push_back({secret_id, secret.size()});
  Resign(disk, "d1", manifest);

  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const DriveReport& drive = report->drives[0];
  EXPECT_EQ(drive.state, "CompletedMoreInfo") << drive.reason;
  EXPECT_EQ(drive.files_copied, 3u);
  EXPECT_EQ(drive.corrupt, std::vector<std::string>{secret_id.Hex()});
  EXPECT_FALSE(ContainerHas(secret_id));
  EXPECT_EQ(ContainerFiles(), 3u);
  std::vector<std::string> unexpected = {
      ManifestFilePath(secret_id) + " (symbolic link, not followed)",
      "data/x (symbolic link, not followed)"};
  std::sort(unexpected.begin(), unexpected.end());
  EXPECT_EQ(drive.unexpected, unexpected);
  std::string sent = SentAbout("d1");
  EXPECT_NE(sent.find("symbolic link"), std::string::npos) << sent;
  EXPECT_EQ(sent.find("datacenter-secrets"), std::string::npos) << sent;
  EXPECT_EQ(sent.find(dir_.path()), std::string::npos) << sent;
}

TEST_F(IngestTest, SymlinkedDataDirectoryFailsTheDriveAndReadsNothingOutside) {
  std::string disk = MakeDisk("d1", 4);
  std::string elsewhere = dir_.path() + "/elsewhere";
  fs::rename(disk + "/data", elsewhere);
  fs::create_directory_symlink(elsewhere, disk + "/data");
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const DriveReport& drive = report->drives[0];
  EXPECT_EQ(drive.state, "Failed");
  EXPECT_EQ(drive.corrupt.size(), 4u);
  EXPECT_EQ(drive.unexpected, std::vector<std::string>{"data (symbolic link, not followed)"});
  EXPECT_NE(drive.reason.find("data is a symbolic link"), std::string::npos) << drive.reason;
  EXPECT_EQ(service_.Drive("d1").state, DriveState::kFailed);
  EXPECT_EQ(ContainerFiles(), 0u);
  EXPECT_EQ(SentAbout("d1").find(dir_.path()), std::string::npos) << SentAbout("d1");
}

// A fifo must not block ingest, a device must not be opened, and neither is
// read; a pack that is a directory is corrupt, its contents unexpected.
TEST_F(IngestTest, FifosDevicesAndDirectoriesAreNotRead) {
  std::string disk = MakeDisk("d1", 4);
  ASSERT_EQ(::mkfifo((disk + "/pipe").c_str(), 0644), 0);
  const ManifestFile& as_fifo = manifests_["d1"].files[0];
  const ManifestFile& as_dir = manifests_["d1"].files[1];
  fs::remove(disk + "/" + ManifestFilePath(as_fifo.id));
  ASSERT_EQ(::mkfifo((disk + "/" + ManifestFilePath(as_fifo.id)).c_str(), 0644), 0);
  fs::remove(disk + "/" + ManifestFilePath(as_dir.id));
  WriteFile(disk + "/" + ManifestFilePath(as_dir.id) + "/inside", AsBytes("y"));
  bool device = ::mknod((disk + "/zero").c_str(), S_IFCHR | 0644, makedev(1, 5)) == 0;
  // The manifest itself a fifo on a second disk: Failed, not stuck.
  std::string disk2 = MakeDisk("d2", 1);
  fs::remove(disk2 + "/" + kManifestFile);
  ASSERT_EQ(::mkfifo((disk2 + "/" + kManifestFile).c_str(), 0644), 0);

  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const DriveReport& drive = report->drives[0];
  EXPECT_EQ(drive.state, "CompletedMoreInfo");
  std::vector<std::string> corrupt = {as_fifo.id.Hex(), as_dir.id.Hex()};
  std::sort(corrupt.begin(), corrupt.end());
  std::vector<std::string> got = drive.corrupt;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, corrupt);
  std::vector<std::string> unexpected = {ManifestFilePath(as_dir.id) + "/inside",
                                         ManifestFilePath(as_fifo.id) + " (named pipe, not read)",
                                         "pipe (named pipe, not read)"};
  if (device) unexpected.push_back("zero (character device, not read)");
  std::sort(unexpected.begin(), unexpected.end());
  EXPECT_EQ(drive.unexpected, unexpected);
  EXPECT_EQ(ContainerFiles(), 2u);
  EXPECT_EQ(report->drives[1].state, "Failed");
  EXPECT_NE(report->drives[1].reason.find("ferry-manifest.json is a named pipe"), std::string::npos)
      << report->drives[1].reason;
}

TEST_F(IngestTest, HugeOrLinkedManifestFailsBeforeItIsRead) {
  std::string disk1 = MakeDisk("d1", 1);
  std::string disk2 = MakeDisk("d2", 1);
  // d1: a sparse manifest of 2 GiB; d2: a manifest that links to an endless device.
  ASSERT_EQ(::truncate((disk1 + "/" + kManifestFile).c_str(), off_t{2} << 30), 0);
  fs::remove(disk2 + "/" + kManifestFile);
  fs::create_symlink("/dev/zero", disk2 + "/" + kManifestFile);
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->drives[0].state, "Failed");
  EXPECT_NE(report->drives[0].reason.find("ferry-manifest.json is 2147483648 bytes, more than"),
            std::string::npos)
      << report->drives[0].reason;
  EXPECT_EQ(report->drives[1].state, "Failed");
  EXPECT_NE(report->drives[1].reason.find("ferry-manifest.json is a symbolic link"),
            std::string::npos)
      << report->drives[1].reason;
  EXPECT_EQ(ContainerFiles(), 0u);
  EXPECT_EQ(SentAbout("d1").find(dir_.path()), std::string::npos) << SentAbout("d1");
}

// Sizes that lie (the manifest is the customer's): a pack longer or shorter
// than listed is corrupt and not copied; names that are not packs, with bytes
// that would forge report lines or break JSON, are listed printably.
TEST_F(IngestTest, WrongSizesAndStrangeNamesAreReportedRelativeToTheDisk) {
  std::string disk = MakeDisk("d1", 4);
  DiskManifest manifest = manifests_["d1"];
  manifest.files[0].size += 1;  // the file is one byte shorter than listed
  manifest.files[1].size -= 1;  // one byte longer
  Resign(disk, "d1", manifest);
  WriteFile(disk + "/data/zz/not-a-pack", AsBytes("z"));
  WriteFile(disk + "/data/" + manifest.files[2].id.Hex().substr(0, 2) + "/short-name",
            AsBytes("z"));
  WriteFile(disk + "/evil\nline\x1b[2J\xff", AsBytes("z"));
  fs::create_directories(disk + "/empty-dir");

  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const DriveReport& drive = report->drives[0];
  EXPECT_EQ(drive.state, "CompletedMoreInfo");
  EXPECT_EQ(drive.files_copied, 2u);
  std::vector<std::string> corrupt = {manifest.files[0].id.Hex(), manifest.files[1].id.Hex()};
  std::sort(corrupt.begin(), corrupt.end());
  std::vector<std::string> got = drive.corrupt;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, corrupt);
  EXPECT_FALSE(ContainerHas(manifest.files[0].id));
  EXPECT_FALSE(ContainerHas(manifest.files[1].id));
  EXPECT_NE(drive.reason.find("bytes, the manifest lists"), std::string::npos) << drive.reason;
  std::vector<std::string> unexpected = {
      "data/" + manifest.files[2].id.Hex().substr(0, 2) + "/short-name", "data/zz/not-a-pack",
      "empty-dir/", "evil\\x0aline\\x1b[2J\\xff"};
  std::sort(unexpected.begin(), unexpected.end());
  EXPECT_EQ(drive.unexpected, unexpected);
}

TEST_F(IngestTest, DeepOrHugeTreesAreBoundedWithAClearEntry) {
  std::string disk = MakeDisk("d1", 1);
  std::string deep = disk + "/deep";
  for (int i = 0; i < 40; ++i) deep += "/d";
  fs::create_directories(deep);
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const DriveReport& drive = report->drives[0];
  EXPECT_EQ(drive.state, "CompletedMoreInfo");
  ASSERT_FALSE(drive.unexpected.empty());
  EXPECT_NE(drive.unexpected.back().find("nested deeper than 16 levels"), std::string::npos)
      << drive.unexpected.back();
  EXPECT_EQ(ContainerFiles(), 1u);
}

// A label may lie: a link to another disk's label is no label, and a label
// naming a drive whose manifest is not on this disk fails on the manifest.
TEST_F(IngestTest, LyingLabelsAreNotBelieved) {
  std::string disk1 = MakeDisk("d1", 2);
  std::string disk2 = MakeDisk("d2", 2);
  fs::remove(disk2 + "/" + kDiskLabelFile);
  fs::create_symlink(disk1 + "/" + kDiskLabelFile, disk2 + "/" + kDiskLabelFile);
  std::string disk3 = MakeDisk("d3", 2);
  WriteFile(disk3 + "/" + kDiskLabelFile, EncodeDiskLabel({"seed-1", "d1"}));  // claims d1
  options_.disks = {disk3, disk2};
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->drives[0].state, "Failed");
  EXPECT_NE(report->drives[0].reason.find("differs from the one recorded for drive d1"),
            std::string::npos)
      << report->drives[0].reason;
  EXPECT_EQ(report->drives[1].state, "");
  EXPECT_NE(report->drives[1].reason.find("symbolic link"), std::string::npos)
      << report->drives[1].reason;
  EXPECT_EQ(ContainerFiles(), 0u);
  // A label with control characters is not a label.
  WriteFile(disk3 + "/" + kDiskLabelFile, EncodeDiskLabel({"seed-1\x1b[2J", "d3"}));
  EXPECT_FALSE(ParseDiskLabel(ReadFile(disk3 + "/" + kDiskLabelFile)).ok());
}

// A direct-to-device disk also holds the staging directory's files.
TEST_F(IngestTest, StagingFilesOfADirectToDeviceDiskAreNotUnexpected) {
  std::string disk = MakeDisk("d1", 2);
  WriteFile(disk + "/staging.json", AsBytes("{}"));
  WriteFile(disk + "/diskprep.journal", AsBytes("{}\n"));
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->drives[0].state, "Completed") << report->drives[0].reason;
}

// The storage account is an object store (here the registry's memory://, the
// same path azure:// and s3:// take): the packs land below ROOT/ACCOUNT/CONTAINER
// with their exact bytes, nothing is left behind by a damaged pack, and a
// second run finds everything present and copies nothing.
TEST_F(IngestTest, IngestsIntoAnObjectStoreAndResumes) {
  options_.storage_root = "memory://ingest-object-store";
  MakeDisk("d1", 5);
  std::string disk = MakeDisk("d2", 4);
  const ManifestFile& victim = manifests_["d2"].files[1];
  Bytes damaged = ReadFile(disk + "/" + ManifestFilePath(victim.id));
  damaged[0] ^= 1;
  WriteFile(disk + "/" + ManifestFilePath(victim.id), damaged);

  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->container, "memory://ingest-object-store/acct/box");
  EXPECT_EQ(service_.Drive("d1").state, DriveState::kCompleted);
  EXPECT_EQ(service_.Drive("d2").state, DriveState::kCompletedMoreInfo);
  auto container = OpenBackend("memory://ingest-object-store/acct/box");
  ASSERT_TRUE(container.ok()) << container.status().ToString();
  auto names = ListNames(**container, ObjectKind::kData);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), packs_.size() - 1);
  for (const auto& [hex, data] : packs_) {
    auto stored = (*container)->Get({ObjectKind::kData, hex}, 0, Backend::kToEnd);
    if (hex == victim.id.Hex()) {
      EXPECT_TRUE(stored.status().IsNotFound()) << "a corrupt pack was copied";
      continue;
    }
    ASSERT_TRUE(stored.ok()) << hex << ": " << stored.status().ToString();
    EXPECT_EQ(*stored, data) << hex;
  }

  // Late: the damaged drive again (now repaired on the disk) is copied; the
  // rest is found present.
  WriteFile(disk + "/" + ManifestFilePath(victim.id), packs_[victim.id.Hex()]);
  service_.Drive("d2").state = DriveState::kTransferring;
  service_.job.state = JobState::kTransferring;
  auto again = Run();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->drives[1].files_copied, 1u);
  EXPECT_EQ(again->drives[1].files_present, 3u);
  EXPECT_EQ(*(*container)->Get({ObjectKind::kData, victim.id.Hex()}, 0, Backend::kToEnd),
            packs_[victim.id.Hex()]);
}

// Without --storage-root the datacenter ingests where the import service
// keeps the job's container; with neither, it refuses and changes nothing.
TEST_F(IngestTest, TheServiceNamesTheContainerWhenNoRootIsGiven) {
  options_.storage_root.clear();
  MakeDisk("d1", 3);
  auto refused = Run();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--storage-root"), std::string::npos)
      << refused.status().ToString();
  EXPECT_TRUE(service_.calls.empty());
  EXPECT_EQ(service_.job.state, JobState::kShipping);

  service_.container_location = *ContainerLocation(dir_.path() + "/accounts", "acct", "box");
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->container, dir_.path() + "/accounts/acct/box");
  for (const auto& [hex, data] : packs_)
    EXPECT_EQ(ReadFile(dir_.path() + "/accounts/acct/box/" + ManifestFilePath(*Id::FromHex(hex))),
              data);
}

// The README's mistake: the vault keeps its storage accounts in one
// directory, the operator ingests into another. Refused before anything
// moves, naming both places; the vault's root itself, under any path, and no
// --storage-root at all are accepted.
TEST_F(IngestTest, ARootThatIsNotTheVaultsIsRefused) {
  std::string vault_root = dir_.path() + "/vault-storage";
  auto id = EnsureStorageRootId(vault_root);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*EnsureStorageRootId(vault_root), *id);  // created once
  service_.container_location = *ContainerLocation(vault_root, "acct", "box");
  service_.storage_root = vault_root;
  service_.storage_root_id = *id;
  MakeDisk("d1", 3);

  options_.storage_root = dir_.path() + "/elsewhere";  // no marker
  auto refused = Run();
  ASSERT_FALSE(refused.ok());
  const std::string& message = refused.status().message();
  EXPECT_NE(message.find("is not the vault's storage root"), std::string::npos) << message;
  EXPECT_NE(message.find(dir_.path() + "/elsewhere"), std::string::npos) << message;
  EXPECT_NE(message.find(vault_root + "/acct/box"), std::string::npos) << message;
  EXPECT_TRUE(service_.calls.empty());
  EXPECT_FALSE(fs::exists(dir_.path() + "/elsewhere/acct"));

  // Another vault's root: its marker differs.
  ASSERT_TRUE(EnsureStorageRootId(dir_.path() + "/other-vault").ok());
  options_.storage_root = dir_.path() + "/other-vault";
  refused = Run();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("is another storage root"), std::string::npos)
      << refused.status().message();

  // The vault's root mounted under another path here (a link stands in).
  fs::create_directory_symlink(vault_root, dir_.path() + "/mounted");
  options_.storage_root = dir_.path() + "/mounted";
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const auto& [hex, data] : packs_)
    EXPECT_EQ(ReadFile(vault_root + "/acct/box/" + ManifestFilePath(*Id::FromHex(hex))), data);
}

// Without --storage-root the vault's root must be reachable here: a machine
// where that path is some other directory is refused.
TEST_F(IngestTest, TheVaultsRootMustBeOnThisMachine) {
  std::string vault_root = dir_.path() + "/vault-storage";
  ASSERT_TRUE(MakeDirectories(vault_root).ok());
  options_.storage_root.clear();
  service_.container_location = *ContainerLocation(vault_root, "acct", "box");
  service_.storage_root = vault_root;
  service_.storage_root_id = std::string(32, 'a');
  MakeDisk("d1", 3);
  auto refused = Run();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("is not on this machine"), std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(service_.calls.empty());
}

// An object store's container is the same from anywhere: another location
// is refused, the service's own accepted.
TEST_F(IngestTest, AnotherObjectStoreLocationIsRefused) {
  service_.container_location = "memory://vault-accounts/acct/box";
  options_.storage_root = "memory://other-accounts";
  MakeDisk("d1", 3);
  auto refused = Run();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("memory://vault-accounts/acct/box"), std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(service_.calls.empty());
}

TEST(StorageRootIdTest, MalformedMarkerIsAnErrorAndAbsentIsNone) {
  TempDir dir;
  EXPECT_FALSE(ReadStorageRootId(dir.path()).value().has_value());
  EXPECT_FALSE(ReadStorageRootId(dir.path() + "/absent").value().has_value());
  ASSERT_TRUE(WriteFileAtomic(dir.path() + "/" + kStorageRootIdFile, AsBytes("nonsense\n")).ok());
  EXPECT_FALSE(ReadStorageRootId(dir.path()).ok());
  EXPECT_FALSE(EnsureStorageRootId(dir.path()).ok());  // never replaced
  EXPECT_FALSE(ContainerLocation(dir.path(), kStorageRootIdFile, "box").ok());
}

TEST(IngestContainerTest, NamesMustBePlainComponents) {
  for (const auto& [account, container] : std::vector<std::pair<std::string, std::string>>{
           {"..", "c"}, {"a", "."}, {"a/b", "c"}, {"a", ""}, {"a", "c?account=x"}}) {
    auto location = ContainerLocation("/srv/accounts", account, container);
    EXPECT_FALSE(location.ok()) << account << "/" << container;
  }
  EXPECT_EQ(*ContainerLocation("azure://accounts?account=a1", "acct", "box"),
            "azure://accounts/acct/box?account=a1");
}

// Server-side copies are proven by reading the copy back: a source whose
// bytes do not hash to the name leaves nothing in the target. Between two
// memory backends there is no server-side copy, so the streamed path is
// taken and said so.
TEST(PackCopyTest, ServerSideCopyFallsBackToStreamingAndProvesTheBytes) {
  MemoryBackend from, to;
  Bytes data = RandomBytes(1000);
  Id id = Sha256(data);
  ASSERT_TRUE(from.Put({ObjectKind::kData, id.Hex()}, data).ok());
  bool server_side = true;
  auto copied = CopyVerifiedPackServerSide(from, to, id, &server_side);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(*copied, data.size());
  EXPECT_FALSE(server_side);
  EXPECT_EQ(*to.Get({ObjectKind::kData, id.Hex()}, 0, Backend::kToEnd), data);

  Bytes other = RandomBytes(100);
  Id wrong = Sha256(AsBytes("not its bytes"));
  ASSERT_TRUE(from.Put({ObjectKind::kData, wrong.Hex()}, other).ok());
  auto refused = CopyVerifiedPackServerSide(from, to, wrong, &server_side);
  EXPECT_TRUE(refused.status().IsCorruption()) << refused.status().ToString();
  EXPECT_TRUE(to.Stat({ObjectKind::kData, wrong.Hex()}).status().IsNotFound());
}

}  // namespace
}  // namespace ferry
