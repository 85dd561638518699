// Rollback and omission (issue 9): a storage that drops a snapshot or an index
// this machine wrote is noticed; deliberate removals are not reported.
#include "repo/history_guard.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include <sys/stat.h>

#include "crypto/random.h"
#include "repo/known_repository.h"
#include "repo/repository.h"
#include "storage/local_backend.h"
#include "test_util.h"
#include "util/file_util.h"

namespace ferry {
namespace {

const Argon2Params kFastKdf{1, 8 << 20};

uint64_t InodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}
const char kPassword[] = "history-guard-test-password";

// A storage that refuses every write after `fail_puts` is set.
class RefusingBackend : public LocalBackend {
 public:
  using LocalBackend::LocalBackend;
  Status Put(const ObjectName& name, ByteView data) override {
    if (fail_puts) return Status::IOError("refused");
    return LocalBackend::Put(name, data);
  }
  bool fail_puts = false;
};

class HistoryGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto local = std::make_unique<RefusingBackend>(RepoDir());
    local_ = local.get();
    auto recording = std::make_unique<HistoryRecordingBackend>(std::move(local));
    recording_ = recording.get();
    auto repository = Repository::Init(std::move(recording), kPassword, kFastKdf);
    ASSERT_TRUE(repository.ok()) << repository.status().ToString();
    repository_ = std::move(*repository);
    guard_ = std::make_shared<HistoryGuard>(State(), repository_->config().id);
    recording_->Attach(guard_, [this](const Status& status) { errors_.push_back(status); });
  }
  std::string RepoDir() { return dir_.path() + "/repo"; }
  std::string State() { return dir_.path() + "/state"; }

  // One backup's worth of writes: a pack, its index object, a snapshot.
  Id Backup() {
    Bytes data = RandomBytes(1000);
    EXPECT_TRUE(repository_->SaveBlob(BlobType::kData, repository_->BlobId(data), data).ok());
    EXPECT_TRUE(repository_->Flush().ok());
    Snapshot snapshot;
    snapshot.time_ns = ++time_;
    snapshot.paths = {"/x"};
    auto id = repository_->SaveSnapshot(snapshot);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return *id;
  }
  // What the storage lists, bypassing the recording backend.
  std::vector<std::string> Listed(ObjectKind kind) {
    LocalBackend plain(RepoDir());
    return *ListNames(plain, kind);
  }
  // The storage loses (or hides) an object behind the machine's back.
  void Drop(ObjectKind kind, const std::string& name) {
    LocalBackend plain(RepoDir());
    ASSERT_TRUE(plain.Remove({kind, name}).ok());
  }
  std::vector<MissingObject> Missing() {
    LocalBackend plain(RepoDir());
    auto missing = guard_->FindMissing(plain);
    EXPECT_TRUE(missing.ok()) << missing.status().ToString();
    return missing.ok() ? *missing : std::vector<MissingObject>{};
  }

  TempDir dir_;
  RefusingBackend* local_ = nullptr;
  HistoryRecordingBackend* recording_ = nullptr;
  std::unique_ptr<Repository> repository_;
  std::shared_ptr<HistoryGuard> guard_;
  std::vector<Status> errors_;
  int64_t time_ = 0;
};

TEST_F(HistoryGuardTest, RemembersTheSnapshotsAndIndexesItWrote) {
  Id snapshot = Backup();
  auto history = HistoryGuard(State(), repository_->config().id).Load();  // persisted
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  EXPECT_EQ(history->snapshots, std::set<Id>{snapshot});
  ASSERT_EQ(Listed(ObjectKind::kIndex).size(), 1u);
  EXPECT_EQ(history->indexes, std::set<Id>{*Id::FromHex(Listed(ObjectKind::kIndex)[0])});
  EXPECT_TRUE(Missing().empty());
  EXPECT_TRUE(errors_.empty());
}

TEST_F(HistoryGuardTest, ADroppedNewestSnapshotIsMissing) {
  Backup();
  Id newest = Backup();
  Drop(ObjectKind::kSnapshot, newest.Hex());
  std::vector<MissingObject> missing = Missing();
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].kind, ObjectKind::kSnapshot);
  EXPECT_EQ(missing[0].id, newest);

  Status error = HistoryMissingError("/srv/repo", repository_->config().id, missing);
  EXPECT_EQ(error.code(), StatusCode::kHistoryMissing);
  EXPECT_NE(error.message().find("snapshot " + newest.Hex()), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("ferry trust accept-missing"), std::string::npos);
}

TEST_F(HistoryGuardTest, ADroppedIndexIsMissing) {
  Backup();
  std::string index = Listed(ObjectKind::kIndex)[0];
  Backup();
  Drop(ObjectKind::kIndex, index);
  std::vector<MissingObject> missing = Missing();
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].kind, ObjectKind::kIndex);
  EXPECT_EQ(missing[0].id.Hex(), index);
}

TEST_F(HistoryGuardTest, RemovalsThroughTheRepositoryAreDeliberate) {
  Id snapshot = Backup();
  std::string index = Listed(ObjectKind::kIndex)[0];
  // What forget, prune and repair do: remove through the repository's backend.
  ASSERT_TRUE(repository_->backend().Remove({ObjectKind::kSnapshot, snapshot.Hex()}).ok());
  ASSERT_TRUE(repository_->backend().Remove({ObjectKind::kIndex, index}).ok());
  EXPECT_TRUE(Missing().empty());
  auto history = guard_->Load();
  EXPECT_TRUE(history->snapshots.empty());
  EXPECT_TRUE(history->indexes.empty());
}

// forget of many snapshots: one write of the record (with its fsyncs), not one per snapshot.
TEST_F(HistoryGuardTest, RemovalsRecordedAheadWriteTheRecordOnce) {
  std::vector<Id> snapshots = {Backup(), Backup(), Backup()};
  // Each atomic write creates the new file while the old one still exists: a new inode.
  auto inode = [&] { return InodeOf(guard_->path()); };
  ASSERT_TRUE(RecordRemovalsAhead(repository_->backend(), ObjectKind::kSnapshot, snapshots).ok());
  EXPECT_TRUE(guard_->Load()->snapshots.empty());
  const uint64_t after_ahead = inode();
  for (const Id& id : snapshots)
    ASSERT_TRUE(repository_->backend().Remove({ObjectKind::kSnapshot, id.Hex()}).ok());
  EXPECT_EQ(inode(), after_ahead);
  EXPECT_TRUE(Missing().empty());
  EXPECT_TRUE(Listed(ObjectKind::kSnapshot).empty());
  // A record that changes is still written.
  Id next = Backup();
  EXPECT_NE(inode(), after_ahead);
  EXPECT_EQ(guard_->Load()->snapshots, std::set<Id>{next});
  // A backend that records nothing: nothing to do, and no error.
  LocalBackend plain(RepoDir());
  EXPECT_TRUE(RecordRemovalsAhead(plain, ObjectKind::kSnapshot, {next}).ok());
  EXPECT_EQ(guard_->Load()->snapshots, std::set<Id>{next});
}

TEST_F(HistoryGuardTest, RecordRemovedAcceptsRemovalsMadeOtherwise) {
  Id kept = Backup();
  Id removed = Backup();
  Drop(ObjectKind::kSnapshot, removed.Hex());
  ASSERT_EQ(Missing().size(), 1u);
  ASSERT_TRUE(guard_->RecordRemoved(ObjectKind::kSnapshot, {removed}).ok());
  EXPECT_TRUE(Missing().empty());
  // Harmless to repeat, or to name what this machine never wrote.
  ASSERT_TRUE(guard_->RecordRemoved(ObjectKind::kSnapshot, {removed, Id{}}).ok());
  EXPECT_EQ(guard_->Load()->snapshots, std::set<Id>{kept});
  // And a later loss of the kept one is still noticed.
  Drop(ObjectKind::kSnapshot, kept.Hex());
  ASSERT_EQ(Missing().size(), 1u);
  EXPECT_EQ(Missing()[0].id, kept);
}

TEST_F(HistoryGuardTest, WhatTheStorageRefusedIsNotRemembered) {
  local_->fail_puts = true;
  Snapshot snapshot;
  snapshot.paths = {"/x"};
  EXPECT_FALSE(repository_->SaveSnapshot(snapshot).ok());
  local_->fail_puts = false;
  EXPECT_TRUE(guard_->Load()->snapshots.empty());
  EXPECT_TRUE(Missing().empty());  // a false alarm would follow otherwise
}

TEST_F(HistoryGuardTest, ConcurrentRecordsAreNotLost) {
  // Two processes (or threads) recording at once each read-modify-write the
  // file under the trust lock; none may overwrite the other's record.
  std::vector<std::thread> threads;
  std::vector<Id> ids(40);
  for (Id& id : ids) id = Id::FromBytes(RandomBytes(Id::kSize));
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      // Separate guards, as separate processes would have.
      HistoryGuard guard(State(), repository_->config().id);
      for (size_t i = t; i < ids.size(); i += 4)
        EXPECT_TRUE(guard.RecordWritten(ObjectKind::kSnapshot, ids[i]).ok());
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(guard_->Load()->snapshots, std::set<Id>(ids.begin(), ids.end()));
}

TEST_F(HistoryGuardTest, TheStateHoldsIdsOnly) {
  Backup();
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(State())) {
    if (!entry.is_regular_file() || entry.path().filename() == "lock") continue;
    ++files;
    Bytes bytes = *ReadWholeFile(entry.path().string());
    std::string text(bytes.begin(), bytes.end());
    EXPECT_EQ(text.find(kPassword), std::string::npos) << entry.path();
    auto j = nlohmann::json::parse(text);
    for (const auto& [key, value] : j.items())
      EXPECT_TRUE(key == "version" || key == "repository_id" || key == "snapshots" ||
                  key == "index")
          << entry.path() << " has " << key;
    EXPECT_EQ(std::filesystem::status(entry.path()).permissions() &
                  (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
              std::filesystem::perms::none);
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(HistoryGuardTest, ADamagedRecordIsAnErrorNotAnEmptyHistory) {
  Backup();
  std::ofstream(guard_->path()) << "[1,2";
  auto missing = guard_->FindMissing(repository_->backend());
  EXPECT_EQ(missing.status().code(), StatusCode::kCorruption);
  EXPECT_NE(missing.status().message().find(guard_->path()), std::string::npos);
}

TEST_F(HistoryGuardTest, AFailedRecordIsReportedNotFatal) {
  // The trust directory cannot be written: the snapshot is stored all the
  // same, and the failure goes to the error callback.
  std::filesystem::remove_all(State());
  std::ofstream(State()) << "a file where the directory should be";
  Snapshot snapshot;
  snapshot.paths = {"/x"};
  auto id = repository_->SaveSnapshot(snapshot);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(Listed(ObjectKind::kSnapshot).size(), 1u);
  EXPECT_EQ(errors_.size(), 1u);
}

}  // namespace
}  // namespace ferry
