// Datacenter ingest (src/seed/ingest.h) on fabricated disks, against a fake
// import service that applies the real job and drive state machines
// (seed/import_job.h), so an illegal transition fails the test.
#include "seed/ingest.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "crypto/hash.h"
#include "crypto/signature.h"
#include "format/disk_manifest.h"
#include "seed/import_job.h"
#include "test_util.h"
#include "util/file_util.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

class FakeImportService : public ImportService {
 public:
  ImportJob job;
  std::vector<std::string> calls;  // "job Received", "drive d1 Transferring", "progress d1"
  int64_t now = 1;

  Result<IngestJob> GetJob(const std::string& name) override {
    if (name != job.name) return Status::NotFound("no import job " + name);
    IngestJob view{job.name, job.state, job.storage_account, job.container, job.public_key, {}};
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

}  // namespace
}  // namespace ferry
