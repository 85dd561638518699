// The pieces of offline seeding below the CLI: signatures, the disk and
// staging formats, seed records, the fallback backend, staging checks, and
// repairing lost packs from staging or from the source files.
#include <gtest/gtest.h>

#include <fstream>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "crypto/signature.h"
#include "engine/archiver.h"
#include "format/disk_manifest.h"
#include "format/staging_info.h"
#include "seed/pack_copy.h"
#include "seed/seed_repair.h"
#include "seed/staging.h"
#include "service/seed_record.h"
#include "storage/fallback_backend.h"
#include "storage/local_backend.h"
#include "test_util.h"
#include "util/file_util.h"

namespace ferry {
namespace {

const Argon2Params kFastKdf{1, 8 << 20};

void WriteFile(const std::string& path, ByteView data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

TEST(SignatureTest, VerifiesOnlyTheSignedBytesWithTheRightKey) {
  SigningKey key = GenerateSigningKey();
  Bytes message = {1, 2, 3, 4};
  Bytes signature = Sign(key, message);
  EXPECT_TRUE(VerifySignature(key.public_key, message, signature).ok());
  Bytes edited = message;
  edited[0] ^= 1;
  EXPECT_EQ(VerifySignature(key.public_key, edited, signature).code(), StatusCode::kCorruption);
  SigningKey other = GenerateSigningKey();
  EXPECT_FALSE(VerifySignature(other.public_key, message, signature).ok());
  EXPECT_FALSE(VerifySignature(key.public_key, message, ByteView(signature).first(10)).ok());
}

TEST(SignatureTest, KeyFileRoundTripAndDamage) {
  TempDir dir;
  std::string path = dir.path() + "/key.json";
  EXPECT_TRUE(LoadSigningKey(path).status().IsNotFound());
  auto created = LoadOrCreateSigningKey(path);
  ASSERT_TRUE(created.ok());
  auto loaded = LoadOrCreateSigningKey(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->public_key, created->public_key);
  EXPECT_EQ(loaded->secret_key, created->secret_key);
  WriteFile(path, AsBytes("{\"type\": \"ed25519\", \"public_key\": \"AAAA\"}"));
  EXPECT_EQ(LoadSigningKey(path).status().code(), StatusCode::kCorruption);
}

TEST(DiskManifestTest, RoundTripAndRejections) {
  DiskManifest manifest{"seed-nov", "acct1", "seeding", std::string(64, 'a'), "FD-0a1b", 2, 3, {}};
  manifest.files = {{Sha256(AsBytes("x")), 17}, {Sha256(AsBytes("y")), 1u << 24}};
  Bytes encoded = EncodeDiskManifest(manifest);
  EXPECT_EQ(EncodeDiskManifest(manifest), encoded);  // deterministic: signatures cover it
  auto parsed = ParseDiskManifest(encoded);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->job, "seed-nov");
  EXPECT_EQ(parsed->drive_id, "FD-0a1b");
  EXPECT_EQ(parsed->disk_number, 2);
  EXPECT_EQ(parsed->disk_count, 3);
  ASSERT_EQ(parsed->files.size(), 2u);
  EXPECT_EQ(parsed->files[1].id, manifest.files[1].id);
  EXPECT_EQ(parsed->files[1].size, 1u << 24);
  EXPECT_EQ(ManifestFilePath(manifest.files[0].id).substr(0, 8),
            "data/" + manifest.files[0].id.Hex().substr(0, 2) + "/");

  manifest.disk_number = 4;  // disk 4 of 3
  auto bad = ParseDiskManifest(EncodeDiskManifest(manifest));
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_NE(bad.status().message().find("disk 4 of 3"), std::string::npos);
  std::string text(encoded.begin(), encoded.end());
  text.replace(text.find(manifest.files[0].id.Hex()), 64, "../../etc/passwd");
  EXPECT_FALSE(ParseDiskManifest(AsBytes(text)).ok());
  EXPECT_FALSE(ParseDiskManifest(AsBytes("[]")).ok());

  auto label = ParseDiskLabel(EncodeDiskLabel({"seed-nov", "FD-0a1b"}));
  ASSERT_TRUE(label.ok());
  EXPECT_EQ(label->job, "seed-nov");
  EXPECT_FALSE(ParseDiskLabel(AsBytes("{\"format\": 1, \"job\": \"x\"}")).ok());
}

TEST(StagingTest, PrepareRefusesAnotherJobOrRepository) {
  TempDir dir;
  StagingInfo info{"seed-nov", "acct1", "seeding", "r1", "http://vault", "v", "m"};
  ASSERT_TRUE(PrepareStaging(dir.path() + "/s", info).ok());
  auto read = ReadStagingInfo(dir.path() + "/s");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->container, "seeding");
  EXPECT_TRUE(PrepareStaging(dir.path() + "/s", info).ok());  // a resumed backup
  StagingInfo other = info;
  other.job = "seed-dec";
  Status refused = PrepareStaging(dir.path() + "/s", other);
  EXPECT_EQ(refused.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(refused.message().find("belongs to job seed-nov"), std::string::npos);
  other = info;
  other.repository = "r2";
  EXPECT_FALSE(PrepareStaging(dir.path() + "/s", other).ok());
  EXPECT_TRUE(ReadStagingInfo(dir.path()).status().IsNotFound());
}

TEST(StagingTest, EstimateAndSpaceCheck) {
  TempDir dir;
  ASSERT_TRUE(MakeDirectories(dir.path() + "/src/sub").ok());
  WriteFile(dir.path() + "/src/random", RandomBytes(1 << 20));
  WriteFile(dir.path() + "/src/sub/zeros", Bytes(4 << 20, 'z'));
  WriteFile(dir.path() + "/src/skip.tmp", RandomBytes(1 << 20));
  ExcludeFilter excludes;
  excludes.Add("*.tmp");
  auto estimate = EstimateSeedSize({dir.path() + "/src"}, excludes, false, 2);
  ASSERT_TRUE(estimate.ok());
  EXPECT_EQ(estimate->files, 2u);
  EXPECT_EQ(estimate->file_bytes, 5u << 20);
  // Random data stays, the zeros nearly vanish: about 1 MiB of 5.
  EXPECT_LT(estimate->estimated_bytes, 2u << 20);
  EXPECT_GT(estimate->estimated_bytes, 1u << 20);
  EXPECT_TRUE(CheckStagingSpace(dir.path(), *estimate, 0).ok());
  SeedSizeEstimate huge = *estimate;
  huge.estimated_bytes = uint64_t{1} << 60;
  Status refused = CheckStagingSpace(dir.path(), huge, 0);
  EXPECT_EQ(refused.code(), StatusCode::kNoSpace);
  EXPECT_NE(refused.message().find("free, about"), std::string::npos);
  EXPECT_TRUE(CheckStagingSpace(dir.path(), huge, huge.estimated_bytes).ok());  // all staged
}

// The fooling file of issue 9: its first MiB is zeros, the rest random. A
// sample of the first MiB only estimated 3.2 KiB for 56 MiB.
TEST(StagingTest, EstimateSamplesAcrossTheWholeFile) {
  TempDir dir;
  ASSERT_TRUE(MakeDirectories(dir.path() + "/src").ok());
  Bytes data(1 << 20, 0);
  Bytes random = RandomBytes(23 << 20);
  data.insert(data.end(), random.begin(), random.end());
  WriteFile(dir.path() + "/src/zeros-then-random", data);
  auto estimate = EstimateSeedSize({dir.path() + "/src"}, ExcludeFilter(), false, 2);
  ASSERT_TRUE(estimate.ok());
  EXPECT_EQ(estimate->file_bytes, 24u << 20);
  // 23 of its 24 MiB do not compress; the windows see mostly those.
  EXPECT_GT(estimate->estimated_bytes, 18u << 20) << estimate->compression_ratio;
  EXPECT_LT(estimate->estimated_bytes, 26u << 20);

  // And the other way round: random first, then a long run of zeros.
  Bytes reversed = RandomBytes(1 << 20);
  reversed.resize(24u << 20, 0);
  WriteFile(dir.path() + "/src/zeros-then-random", reversed);
  estimate = EstimateSeedSize({dir.path() + "/src"}, ExcludeFilter(), false, 2);
  ASSERT_TRUE(estimate.ok());
  EXPECT_LT(estimate->estimated_bytes, 8u << 20) << estimate->compression_ratio;
}

TEST(SeedRecordTest, RoundTripAndDedup) {
  SeedRecord seed;
  seed.job = "seed-nov";
  seed.storage_account = "acct1";
  seed.container = "seeding";
  seed.registered_ns = 5;
  seed.since_ns = 3;
  seed.staging = "/mnt/staging";
  Id a = Sha256(AsBytes("a")), b = Sha256(AsBytes("b"));
  EXPECT_EQ(AddSeedPacks(seed, {{a, 10}, {b, 20}}), 2u);
  EXPECT_EQ(AddSeedPacks(seed, {{b, 20}}), 0u);
  seed.missing = {a};
  auto parsed = ParseSeedRecord(EncodeSeedRecord(seed));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->packs.size(), 2u);
  EXPECT_EQ(parsed->since_ns, 3);
  EXPECT_EQ(parsed->staging, "/mnt/staging");
  EXPECT_EQ(parsed->missing, std::vector<Id>{a});
  EXPECT_FALSE(ParseSeedRecord("{\"job\": 1}").ok());
}

TEST(FallbackBackendTest, ReadsPacksFromTheFallbackAndWritesToThePrimary) {
  TempDir dir;
  auto primary = std::make_unique<LocalBackend>(dir.path() + "/vault");
  auto staging = std::make_unique<LocalBackend>(dir.path() + "/staging");
  ASSERT_TRUE(primary->Create().ok());
  ASSERT_TRUE(staging->CreateDataDirectories().ok());
  Bytes in_vault = RandomBytes(100), in_staging = RandomBytes(200);
  Id vault_id = Sha256(in_vault), staging_id = Sha256(in_staging);
  ASSERT_TRUE(primary->Put({ObjectKind::kData, vault_id.Hex()}, in_vault).ok());
  ASSERT_TRUE(staging->Put({ObjectKind::kData, staging_id.Hex()}, in_staging).ok());
  Backend* staging_raw = staging.get();
  FallbackBackend backend(std::move(primary), std::move(staging));
  auto got = backend.Get({ObjectKind::kData, staging_id.Hex()}, 10, 20);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, Bytes(in_staging.begin() + 10, in_staging.begin() + 30));
  EXPECT_EQ(*backend.Stat({ObjectKind::kData, staging_id.Hex()}), 200u);
  std::vector<std::string> names;
  ASSERT_TRUE(backend
                  .List(ObjectKind::kData,
                        [&](const std::string& name, uint64_t) {
                          names.push_back(name);
                          return Status::Ok();
                        })
                  .ok());
  EXPECT_EQ(names.size(), 2u);
  // Only packs fall back; every write goes to the primary.
  EXPECT_TRUE(backend.Stat({ObjectKind::kSnapshot, staging_id.Hex()}).status().IsNotFound());
  Bytes more = RandomBytes(10);
  ASSERT_TRUE(backend.Put({ObjectKind::kData, Sha256(more).Hex()}, more).ok());
  EXPECT_TRUE(staging_raw->Stat({ObjectKind::kData, Sha256(more).Hex()}).status().IsNotFound());
  EXPECT_TRUE(backend.primary().Stat({ObjectKind::kData, Sha256(more).Hex()}).ok());
}

TEST(PackCopyTest, CopiesOnlyWhatMatchesItsName) {
  TempDir dir;
  LocalBackend from(dir.path() + "/from"), to(dir.path() + "/to");
  ASSERT_TRUE(from.CreateDataDirectories().ok());
  ASSERT_TRUE(to.CreateDataDirectories().ok());
  Bytes pack = RandomBytes(3 << 20);
  Id id = Sha256(pack);
  ASSERT_TRUE(from.Put({ObjectKind::kData, id.Hex()}, pack).ok());
  auto copied = CopyVerifiedPack(from, to, id);
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(*copied, pack.size());
  EXPECT_EQ(*to.Get({ObjectKind::kData, id.Hex()}, 0, Backend::kToEnd), pack);
  EXPECT_TRUE(CopyVerifiedPack(from, to, Sha256(AsBytes("none"))).status().IsNotFound());
  Bytes damaged = pack;
  damaged[12345] ^= 0x10;
  Id other = Sha256(RandomBytes(8));
  ASSERT_TRUE(from.Put({ObjectKind::kData, other.Hex()}, damaged).ok());
  EXPECT_EQ(CopyVerifiedPack(from, to, other).status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(to.Stat({ObjectKind::kData, other.Hex()}).status().IsNotFound());
}

// An offline backup into a local repository whose data packs go to staging;
// then the packs are "lost" and repaired.
class SeedRepairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = dir_.path() + "/src";
    ASSERT_TRUE(MakeDirectories(source_ + "/d").ok());
    WriteFile(source_ + "/big", RandomBytes(6 << 20));
    Bytes text;
    for (int i = 0; i < 200000; ++i) {
      std::string line = "line " + std::to_string(i) + "\n";
      text.insert(text.end(), line.begin(), line.end());
    }
    WriteFile(source_ + "/d/text", text);
    WriteFile(source_ + "/d/small", RandomBytes(1000));
    auto repository =
        Repository::Init(std::make_unique<LocalBackend>(dir_.path() + "/repo"), "pw", kFastKdf);
    ASSERT_TRUE(repository.ok());
    repository_ = std::move(*repository);
    staging_ = std::make_unique<LocalBackend>(dir_.path() + "/staging");
    ASSERT_TRUE(staging_->CreateDataDirectories().ok());
    repository_->SetDataPackDestination(staging_.get());
    BackupOptions options;
    options.paths = {source_};
    BackupProgress progress;
    auto result = RunBackup(*repository_, options, progress, [](const std::string&) {});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    auto staged = ListStagedPacks(dir_.path() + "/staging");
    ASSERT_TRUE(staged.ok());
    ASSERT_GE(staged->size(), 1u);
    for (const StagedPack& pack : *staged) {
      packs_.push_back(pack.id);
      auto bytes = staging_->Get({ObjectKind::kData, pack.id.Hex()}, 0, Backend::kToEnd);
      ASSERT_TRUE(bytes.ok());
      originals_.push_back(*bytes);
      EXPECT_TRUE(repository_->backend()
                      .Stat({ObjectKind::kData, pack.id.Hex()})
                      .status()
                      .IsNotFound());  // data packs went to staging only
    }
  }

  TempDir dir_;
  std::string source_;
  std::unique_ptr<Repository> repository_;
  std::unique_ptr<LocalBackend> staging_;
  std::vector<Id> packs_;
  std::vector<Bytes> originals_;
};

TEST_F(SeedRepairTest, FromStaging) {
  auto report = RepairMissingPacks(*repository_, repository_->backend(), packs_,
                                   dir_.path() + "/staging", {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->size(), packs_.size());
  for (size_t i = 0; i < packs_.size(); ++i) {
    EXPECT_EQ((*report)[i].source, RepairSource::kStaging);
    EXPECT_EQ(*repository_->backend().Get({ObjectKind::kData, packs_[i].Hex()}), originals_[i]);
  }
}

TEST_F(SeedRepairTest, RebuildsByteIdenticalPacksFromTheSource) {
  std::filesystem::remove_all(dir_.path() + "/staging");
  auto report = RepairMissingPacks(*repository_, repository_->backend(), packs_,
                                   dir_.path() + "/staging", {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (size_t i = 0; i < packs_.size(); ++i) {
    EXPECT_EQ((*report)[i].source, RepairSource::kSource) << (*report)[i].detail;
    EXPECT_EQ(*repository_->backend().Get({ObjectKind::kData, packs_[i].Hex()}), originals_[i]);
  }
}

TEST_F(SeedRepairTest, ChangedSourceIsReportedNotHidden) {
  std::filesystem::remove_all(dir_.path() + "/staging");
  WriteFile(source_ + "/big", RandomBytes(6 << 20));  // the only copy of its blobs
  auto report = RepairMissingPacks(*repository_, repository_->backend(), packs_,
                                   dir_.path() + "/staging", {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  size_t lost = 0;
  for (const PackRepair& repair : *report) {
    if (repair.source != RepairSource::kUnrecoverable) continue;
    ++lost;
    EXPECT_NE(repair.detail.find(source_ + "/big changed since the backup"), std::string::npos)
        << repair.detail;
    EXPECT_TRUE(
        repository_->backend().Stat({ObjectKind::kData, repair.pack.Hex()}).status().IsNotFound());
  }
  EXPECT_GE(lost, 1u);
}

TEST(PackBuilderTest, SameSaltAndBlobsGiveTheSamePack) {
  Bytes key(32, 3);
  PackKeys keys{key, Id{}};
  Bytes blob = RandomBytes(50000);
  PackBuilder first(keys), second(keys);
  first.AddBlob(BlobType::kData, Sha256(blob), blob, 2);
  Bytes salt;
  std::vector<PackEntry> entries;
  BufferBytes original = first.Finish(&entries, &salt);
  second.UseSalt(salt);
  second.AddBlob(BlobType::kData, Sha256(blob), blob, 2);
  BufferBytes rebuilt = second.Finish(nullptr, nullptr);
  EXPECT_EQ(Sha256(original), Sha256(rebuilt));
}

}  // namespace
}  // namespace ferry
