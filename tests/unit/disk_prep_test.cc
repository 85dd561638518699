// seed/disk_prep.h: placement across disks, resume from the journal without
// copying again, read-back catching a corrupted copy, disks of other jobs and
// with foreign files, direct-to-device mode, and the journal itself.
#include "seed/disk_prep.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <algorithm>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "crypto/hash.h"
#include "format/disk_manifest.h"
#include "seed/diskprep_journal.h"
#include "test_util.h"
#include "util/file_util.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

class FakeImportJobs : public ImportJobClient {
 public:
  Result<std::optional<ImportJobInfo>> Find(const std::string& name) override {
    auto it = jobs.find(name);
    if (it == jobs.end()) return std::optional<ImportJobInfo>();
    return std::optional<ImportJobInfo>(it->second);
  }
  Result<ImportJobInfo> Create(const ImportJobRequest& request) override {
    if (jobs.count(request.name)) return Status::AlreadyExists("job exists");
    ImportJobInfo job{request.name, "Creating", request.public_key, "Dock 7", request.drives};
    requests.push_back(request);
    jobs[request.name] = job;
    return job;
  }
  std::map<std::string, ImportJobInfo> jobs;
  std::vector<ImportJobRequest> requests;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class DiskPrepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    staging = root.path() + "/staging";
    StagingInfo info{"seed-1", "acct", "box", std::string(64, 'a'), "http://x", "v", "m"};
    ASSERT_TRUE(MakeDirectories(staging).ok());
    ASSERT_TRUE(WriteFileAtomic(staging + "/staging.json", EncodeStagingInfo(info)).ok());
    key = GenerateSigningKey();
  }

  // `count` random packs of 100–300 KiB in staging, named by their SHA-256.
  void MakePacks(int count) {
    std::mt19937_64 rng(42);
    for (int i = 0; i < count; ++i) {
      Bytes data(100 * 1024 + rng() % (200 * 1024));
      for (auto& b : data) b = static_cast<uint8_t>(rng());
      Id id = Sha256(data);
      ASSERT_TRUE(MakeDirectories(staging + "/data/" + id.Hex().substr(0, 2)).ok());
      ASSERT_TRUE(WriteFileAtomic(staging + "/" + ManifestFilePath(id), data).ok());
      packs[id] = data.size();
      total += data.size();
    }
  }

  std::string Disk(const std::string& name) {
    std::string path = root.path() + "/" + name;
    EXPECT_TRUE(MakeDirectories(path).ok());
    return path;
  }

  DiskPrepOptions Options(std::vector<std::string> disks, uint64_t max_per_disk) {
    DiskPrepOptions options;
    options.staging = staging;
    options.disks = std::move(disks);
    options.max_per_disk = max_per_disk;
    options.signing_key = key;
    return options;
  }

  Result<DiskPrepResult> Run(const DiskPrepOptions& options) {
    DiskPrepProgress progress;
    return PrepareDisks(options, hooks, jobs, progress);
  }

  // Pack files on `disk`: ID → size.
  std::map<Id, uint64_t> PacksOn(const std::string& disk) {
    std::map<Id, uint64_t> out;
    if (!fs::exists(disk + "/data")) return out;
    for (const auto& entry : fs::recursive_directory_iterator(disk + "/data"))
      if (entry.is_regular_file()) {
        auto id = Id::FromHex(entry.path().filename().string());
        EXPECT_TRUE(id.ok()) << "stray file " << entry.path();
        if (id.ok()) out[*id] = entry.file_size();
      }
    return out;
  }

  // Every pack on exactly one disk, with its bytes; each disk's manifest lists
  // exactly its files and is signed; the job has each drive with its hash.
  void ExpectShippable(const std::vector<std::string>& disks) {
    std::map<Id, int> seen;
    ASSERT_EQ(jobs.requests.size(), 1u);
    const ImportJobRequest& request = jobs.requests[0];
    EXPECT_EQ(request.public_key, Base64Encode(key.public_key));
    ASSERT_EQ(request.drives.size(), disks.size());
    for (size_t n = 0; n < disks.size(); ++n) {
      std::map<Id, uint64_t> on_disk = PacksOn(disks[n]);
      for (const auto& [id, size] : on_disk) {
        ++seen[id];
        EXPECT_EQ(size, packs[id]);
        EXPECT_EQ(Sha256(*ReadWholeFile(disks[n] + "/" + ManifestFilePath(id))), id);
      }
      std::string manifest_text = ReadText(disks[n] + "/ferry-manifest.json");
      auto manifest = ParseDiskManifest(AsBytes(manifest_text));
      ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
      auto label = ParseDiskLabel(AsBytes(ReadText(disks[n] + "/ferry-disk.json")));
      ASSERT_TRUE(label.ok());
      EXPECT_EQ(label->job, "seed-1");
      EXPECT_EQ(manifest->drive_id, label->drive_id);
      EXPECT_EQ(manifest->disk_number, static_cast<int>(n) + 1);
      EXPECT_EQ(manifest->disk_count, static_cast<int>(disks.size()));
      std::map<Id, uint64_t> listed;
      uint64_t bytes = 0;
      for (const ManifestFile& file : manifest->files) {
        listed[file.id] = file.size;
        bytes += file.size;
      }
      EXPECT_EQ(listed, on_disk);
      auto signature = Base64Decode(ReadText(disks[n] + "/ferry-manifest.sig").substr(0, 88));
      ASSERT_TRUE(signature.ok());
      EXPECT_TRUE(VerifySignature(key.public_key, AsBytes(manifest_text), *signature).ok());
      EXPECT_EQ(request.drives[n].drive_id, label->drive_id);
      EXPECT_EQ(request.drives[n].bytes, bytes);
      EXPECT_EQ(request.drives[n].manifest_hash, Sha256(AsBytes(manifest_text)).Hex());
    }
    EXPECT_EQ(seen.size(), packs.size());
    for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << id.Hex();
  }

  TempDir root;
  std::string staging;
  SigningKey key;
  DiskPrepHooks hooks;
  FakeImportJobs jobs;
  std::map<Id, uint64_t> packs;
  uint64_t total = 0;
};

// Room per disk is --max-per-disk minus the 1 MiB manifest reserve.
constexpr uint64_t kReserve = 1u << 20;

TEST_F(DiskPrepTest, PlacesPacksAcrossTwoSmallDisksLargestFirst) {
  MakePacks(14);  // ~2.7 MiB
  uint64_t room = total * 6 / 10;
  std::string d1 = Disk("d1"), d2 = Disk("d2");
  auto result = Run(Options({d1, d2}, room + kReserve));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_TRUE(result->complete);
  EXPECT_EQ(result->packs_copied, packs.size());
  ASSERT_EQ(result->disks.size(), 2u);
  uint64_t on_d1 = 0, on_d2 = 0;
  for (const auto& [id, size] : PacksOn(d1)) on_d1 += size;
  for (const auto& [id, size] : PacksOn(d2)) on_d2 += size;
  EXPECT_LE(on_d1, room);
  EXPECT_LE(on_d2, room);
  EXPECT_GT(on_d1, on_d2);  // first fit fills the first disk first
  // The largest pack went to the first disk.
  Id largest = std::max_element(packs.begin(), packs.end(), [](auto& a, auto& b) {
                 return a.second < b.second;
               })->first;
  EXPECT_TRUE(PacksOn(d1).count(largest));
  ExpectShippable({d1, d2});
  EXPECT_TRUE(jobs.jobs.count("seed-1"));
}

TEST_F(DiskPrepTest, ResumesFromTheJournalWithoutCopyingAgain) {
  MakePacks(14);
  uint64_t room = total * 6 / 10;
  std::string d1 = Disk("d1"), d2 = Disk("d2");
  // One disk is too few: what fits is copied and verified, the rest is left.
  auto first = Run(Options({d1}, room + kReserve));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->complete);
  EXPECT_GT(first->packs_left, 0u);
  EXPECT_EQ(first->packs_copied + first->packs_left, packs.size());
  EXPECT_TRUE(jobs.requests.empty());
  EXPECT_FALSE(fs::exists(d1 + "/ferry-manifest.json"));
  std::map<std::string, fs::file_time_type> mtimes;
  for (const auto& entry : fs::recursive_directory_iterator(d1 + "/data"))
    if (entry.is_regular_file()) mtimes[entry.path()] = entry.last_write_time();
  ASSERT_EQ(mtimes.size(), first->packs_copied);

  // A kill -9 left a temp file, and a finished copy the journal never heard of.
  Id unjournalled;
  for (const auto& [id, size] : packs)
    if (!PacksOn(d1).count(id)) unjournalled = id;
  std::string temp = d1 + "/data/00/" + std::string(64, '0') + ".tmp-123";
  ASSERT_TRUE(WriteFileAtomic(temp, AsBytes("partial")).ok());
  ASSERT_TRUE(MakeDirectories(d2 + "/data/" + unjournalled.Hex().substr(0, 2)).ok());
  fs::copy_file(staging + "/" + ManifestFilePath(unjournalled),
                d2 + "/" + ManifestFilePath(unjournalled));
  ASSERT_TRUE(
      WriteFileAtomic(d2 + "/ferry-disk.json", EncodeDiskLabel({"seed-1", "FD-000000000002"}))
          .ok());

  std::vector<std::string> copied;
  hooks.before_read_back = [&](const std::string& path) { copied.push_back(path); };
  auto second = Run(Options({d1, d2}, room + kReserve));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(second->complete);
  EXPECT_EQ(second->packs_already_done, first->packs_copied);
  EXPECT_EQ(second->packs_reverified, 1u);
  EXPECT_EQ(second->packs_copied, first->packs_left - 1);
  EXPECT_EQ(copied.size(), first->packs_left - 1);
  for (const std::string& path : copied) EXPECT_EQ(path.rfind(d2, 0), 0u) << path;
  for (const auto& [path, mtime] : mtimes) EXPECT_EQ(fs::last_write_time(path), mtime) << path;
  EXPECT_FALSE(fs::exists(temp));
  ExpectShippable({d1, d2});

  // A third run finds the job created and only reports it.
  auto third = Run(Options({d1, d2}, room + kReserve));
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_TRUE(third->job_existed);
  EXPECT_EQ(third->packs_copied, 0u);
  EXPECT_EQ(third->disks.size(), 2u);
  EXPECT_EQ(jobs.requests.size(), 1u);
}

TEST_F(DiskPrepTest, ReadBackCatchesACorruptedCopy) {
  MakePacks(4);
  std::string d1 = Disk("d1");
  int corrupted = 0;
  std::string victim;
  hooks.before_read_back = [&](const std::string& path) {
    if (corrupted++ != 1) return;
    victim = path;
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(1000);
    file.put('\x5a' ^ static_cast<char>(ReadText(path)[1000]));
  };
  auto result = Run(Options({d1}, 0));
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsCorruption()) << result.status().ToString();
  EXPECT_NE(result.status().message().find("disk " + d1), std::string::npos)
      << result.status().message();
  std::string name = fs::path(victim).filename().string();
  EXPECT_NE(result.status().message().find(name), std::string::npos) << result.status().message();
  EXPECT_TRUE(jobs.requests.empty());
  EXPECT_FALSE(fs::exists(d1 + "/ferry-manifest.json"));
  // Never journalled as verified.
  auto journal = DiskPrepJournal::Open(staging + "/diskprep.journal");
  ASSERT_TRUE(journal.ok());
  EXPECT_FALSE(journal->state().verified.count(*Id::FromHex(name)));

  // The bad copy is found on the next run, read back, removed and copied again.
  hooks.before_read_back = nullptr;
  std::vector<std::string> warnings;
  hooks.warn = [&](const std::string& w) { warnings.push_back(w); };
  auto again = Run(Options({d1}, 0));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->complete);
  EXPECT_EQ(Sha256(*ReadWholeFile(victim)), *Id::FromHex(name));
  ASSERT_FALSE(warnings.empty());
  ExpectShippable({d1});
}

TEST_F(DiskPrepTest, RefusesADiskOfAnotherJob) {
  MakePacks(2);
  std::string d1 = Disk("d1");
  ASSERT_TRUE(
      WriteFileAtomic(d1 + "/ferry-disk.json", EncodeDiskLabel({"other-job", "FD-0123456789ab"}))
          .ok());
  ASSERT_TRUE(WriteFileAtomic(d1 + "/keep.txt", AsBytes("theirs")).ok());
  hooks.confirm_erase = [](const std::string&, const ForeignFiles&) { return Status::Ok(); };
  auto result = Run(Options({d1}, 0));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("belongs to import job other-job"), std::string::npos)
      << result.status().message();
  EXPECT_TRUE(fs::exists(d1 + "/keep.txt"));
  EXPECT_FALSE(fs::exists(d1 + "/data"));
}

TEST_F(DiskPrepTest, ErasesForeignFilesOnlyWhenConfirmed) {
  MakePacks(2);
  std::string d1 = Disk("d1");
  ASSERT_TRUE(MakeDirectories(d1 + "/photos").ok());
  ASSERT_TRUE(WriteFileAtomic(d1 + "/photos/a.jpg", Bytes(5000, 1)).ok());
  ASSERT_TRUE(WriteFileAtomic(d1 + "/notes.txt", Bytes(10, 2)).ok());
  uint64_t asked_files = 0, asked_bytes = 0;
  std::vector<std::string> asked_examples;
  hooks.confirm_erase = [&](const std::string&, const ForeignFiles& foreign) {
    asked_files = foreign.files;
    asked_bytes = foreign.bytes;
    asked_examples = foreign.examples;
    return Status::InvalidArgument("pass --yes");
  };
  auto refused = Run(Options({d1}, 0));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "pass --yes");
  EXPECT_EQ(asked_files, 2u);
  EXPECT_EQ(asked_bytes, 5010u);
  std::sort(asked_examples.begin(), asked_examples.end());  // in the disk's listing order
  EXPECT_EQ(asked_examples, (std::vector<std::string>{"notes.txt", "photos/a.jpg"}));
  EXPECT_TRUE(fs::exists(d1 + "/notes.txt"));

  hooks.confirm_erase = [](const std::string&, const ForeignFiles&) { return Status::Ok(); };
  auto erased = Run(Options({d1}, 0));
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_FALSE(fs::exists(d1 + "/notes.txt"));
  EXPECT_FALSE(fs::exists(d1 + "/photos"));
  ExpectShippable({d1});
}

TEST_F(DiskPrepTest, DirectToDeviceOnlyReadsBackAndSigns) {
  MakePacks(3);
  auto mixed = Run(Options({staging, Disk("d1")}, 0));
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("the only --disk"), std::string::npos);

  int read_back = 0;
  hooks.before_read_back = [&](const std::string&) { ++read_back; };
  auto result = Run(Options({staging}, 0));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->direct);
  EXPECT_EQ(read_back, 3);
  EXPECT_EQ(result->packs_copied, 0u);
  ExpectShippable({staging});
}

// Issue 9, hostile disks: a disk that carries our label but whose data/ is a
// link would have had the packs written (and read back) wherever it points.
TEST_F(DiskPrepTest, RefusesADiskWhoseDataDirectoryIsALink) {
  MakePacks(2);
  std::string d1 = Disk("d1");
  std::string outside = Disk("outside");
  ASSERT_TRUE(
      WriteFileAtomic(d1 + "/" + kDiskLabelFile, EncodeDiskLabel({"seed-1", "FD-000000000001"}))
          .ok());
  fs::create_directory_symlink(outside, d1 + "/data");
  auto result = Run(Options({d1}, 0));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("data is a symbolic link, not a directory"),
            std::string::npos)
      << result.status().ToString();
  EXPECT_TRUE(fs::is_empty(outside));
}

// Erasing a foreign disk removes its links, never what they point to, and
// counts them as files; a tree deeper than the walk's bound is refused.
TEST_F(DiskPrepTest, ErasesLinksNotTheirTargetsAndRefusesEndlessTrees) {
  MakePacks(1);
  std::string d1 = Disk("d1");
  std::string outside = Disk("outside");
  ASSERT_TRUE(WriteFileAtomic(outside + "/keep.txt", Bytes(10, 3)).ok());
  fs::create_directory_symlink(outside, d1 + "/dir-link");
  ASSERT_TRUE(MakeDirectories(d1 + "/sub").ok());
  fs::create_symlink(outside + "/keep.txt", d1 + "/sub/file-link");
  ASSERT_EQ(::mkfifo((d1 + "/sub/pipe").c_str(), 0644), 0);
  uint64_t asked_files = 0;
  hooks.confirm_erase = [&](const std::string&, const ForeignFiles& foreign) {
    asked_files = foreign.files;
    return Status::Ok();
  };
  auto erased = Run(Options({d1}, 0));
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_EQ(asked_files, 3u);
  EXPECT_TRUE(fs::exists(outside + "/keep.txt"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(d1 + "/dir-link")));
  ExpectShippable({d1});

  std::string d2 = Disk("d2");
  std::string deep = d2;
  for (int i = 0; i < 140; ++i) deep += "/d";
  ASSERT_TRUE(MakeDirectories(deep).ok());
  jobs.jobs.clear();
  jobs.requests.clear();
  ASSERT_EQ(::unlink((staging + "/" + kDiskPrepJournalFile).c_str()), 0);
  auto refused = Run(Options({d2}, 0));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("nested deeper than 128 levels"), std::string::npos)
      << refused.status().ToString();
  EXPECT_TRUE(fs::exists(deep));
}

// Direct-to-device: a staged "pack" that is a link to a file elsewhere (even
// one whose bytes match its name) is not read back as if it were on the disk.
TEST_F(DiskPrepTest, DirectToDeviceRefusesALinkedPack) {
  MakePacks(2);
  const auto& [id, size] = *packs.begin();
  std::string elsewhere = root.path() + "/elsewhere.bin";
  fs::rename(staging + "/" + ManifestFilePath(id), elsewhere);
  fs::create_symlink(elsewhere, staging + "/" + ManifestFilePath(id));
  auto result = Run(Options({staging}, 0));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find(ManifestFilePath(id) + " is a symbolic link"),
            std::string::npos)
      << result.status().ToString();
  EXPECT_TRUE(jobs.requests.empty());
}

TEST_F(DiskPrepTest, RefusesAJobNameTakenByAnotherRun) {
  MakePacks(1);
  jobs.jobs["seed-1"] = ImportJobInfo{"seed-1", "Creating", "AAAA", "Dock 7", {}};
  auto result = Run(Options({Disk("d1")}, 0));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(result.status().message().find("import job seed-1 already exists"), std::string::npos);
}

TEST(DiskPrepJournalTest, CutsATornLastLineAndReplays) {
  TempDir dir;
  std::string path = dir.path() + "/diskprep.journal";
  Id id = Sha256(AsBytes("x"));
  {
    auto journal = DiskPrepJournal::Open(path);
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE(journal->AddDisk("FD-1", "/d1").ok());
    ASSERT_TRUE(journal->AddVerified("FD-1", id, 77).ok());
  }
  {
    std::ofstream torn(path, std::ios::app);
    torn << R"({"op":"verified","drive_id":"FD-1","id":"ab)";
  }
  auto journal = DiskPrepJournal::Open(path);
  ASSERT_TRUE(journal.ok()) << journal.status().ToString();
  ASSERT_EQ(journal->state().disks.size(), 1u);
  EXPECT_EQ(journal->state().verified.at(id).size, 77u);
  EXPECT_EQ(journal->state().verified.size(), 1u);
  ASSERT_TRUE(journal->AddJob("seed-1").ok());
  auto reopened = DiskPrepJournal::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_TRUE(reopened->state().job_created);

  // Damage before the last line is not a torn append: refuse to guess.
  std::string text = ReadText(path);
  text[2] = '#';
  ASSERT_TRUE(WriteFileAtomic(path, AsBytes(text)).ok());
  EXPECT_TRUE(DiskPrepJournal::Open(path).status().IsCorruption());
}

TEST(ParseByteSizeTest, AcceptsBinaryUnits) {
  EXPECT_EQ(*ParseByteSize("500M"), 500ull << 20);
  EXPECT_EQ(*ParseByteSize("2G"), 2ull << 30);
  EXPECT_EQ(*ParseByteSize("2GiB"), 2ull << 30);
  EXPECT_EQ(*ParseByteSize("1.5T"), 3ull << 39);
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_FALSE(ParseByteSize("").ok());
  EXPECT_FALSE(ParseByteSize("12X").ok());
  EXPECT_FALSE(ParseByteSize("0").ok());
  EXPECT_FALSE(ParseByteSize("G").ok());
}

}  // namespace
}  // namespace ferry
