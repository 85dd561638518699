// Hostile trees (issue 9): trees nested deeper than any file system allows, a
// damaged tree or file among good ones, a file larger than the target's free
// space. Readers must neither crash nor give up on everything else.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "engine/archiver.h"
#include "engine/restorer.h"
#include "hostile_fixtures.h"
#include "repo/checker.h"
#include "storage/local_backend.h"
#include "test_util.h"

namespace ferry {
namespace {

using ::testing::HasSubstr;

const Argon2Params kFastKdf{1, 8 << 20};

class HostileTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto repository =
        Repository::Init(std::make_unique<LocalBackend>(dir_.path() + "/repo"), "pw", kFastKdf);
    ASSERT_TRUE(repository.ok()) << repository.status().ToString();
    repository_ = std::move(*repository);
  }

  Result<RestoreResult> Restore(const Id& snapshot_id, const std::string& target) {
    auto snapshot = repository_->LoadSnapshot(snapshot_id);
    if (!snapshot.ok()) return snapshot.status();
    RestoreOptions options;
    options.target = target;
    return RunRestore(*repository_, *snapshot, options, progress_,
                      [&](const std::string& message) { warnings_.push_back(message); });
  }

  std::string Warnings() const {
    std::string all;
    for (const std::string& warning : warnings_) all += warning + "\n";
    return all;
  }

  TempDir dir_;
  std::unique_ptr<Repository> repository_;
  RestoreProgress progress_;
  std::vector<std::string> warnings_;
};

// 20,000 levels overflowed the stack of every recursive walk (SIGSEGV).
TEST_F(HostileTreeTest, DeepTreeIsRefusedPastTheMaximumDepthNotACrash) {
  auto snapshot_id = hostile::WriteDeepTreeSnapshot(*repository_, 20000);
  ASSERT_TRUE(snapshot_id.ok()) << snapshot_id.status().ToString();

  auto report = CheckRepository(*repository_, {}, [](const std::string&) {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->ok());
  std::string errors;
  for (const std::string& error : report->errors) errors += error + "\n";
  EXPECT_THAT(errors, HasSubstr("nested deeper than 2048"));

  auto result = Restore(*snapshot_id, dir_.path() + "/target");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_THAT(Warnings(), HasSubstr("nested deeper than 2048"));
  struct stat st;
  EXPECT_EQ(::lstat((dir_.path() + "/target/d/d/d").c_str(), &st), 0);
}

class RestoreDamageTest : public HostileTreeTest {
 protected:
  // A real backup of a small tree: /…/source/{a.txt, sub/b.bin}.
  Id BackUp() {
    source_ = dir_.path() + "/source";
    std::filesystem::create_directories(source_ + "/sub");
    std::ofstream(source_ + "/a.txt") << "hello";
    std::ofstream(source_ + "/sub/b.bin") << std::string(3 << 20, 'b');
    BackupOptions options;
    options.paths = {source_};
    BackupProgress progress;
    auto result = RunBackup(*repository_, options, progress, [](const std::string&) {});
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? result->snapshot_id : Id{};
  }
  std::string source_;
};

TEST_F(RestoreDamageTest, OneDamagedTreeOrFileDoesNotAbortTheRestore) {
  auto damaged = hostile::WriteDamagedSnapshot(*repository_, BackUp());
  ASSERT_TRUE(damaged.ok()) << damaged.status().ToString();
  std::string target = dir_.path() + "/target";
  auto result = Restore(*damaged, target);
  ASSERT_TRUE(result.ok()) << result.status().ToString();

  // Everything else is there, complete.
  std::ifstream restored(target + source_ + "/sub/b.bin");
  std::string content((std::istreambuf_iterator<char>(restored)), {});
  EXPECT_EQ(content, std::string(3 << 20, 'b'));
  EXPECT_TRUE(std::filesystem::exists(target + source_ + "/a.txt"));
  // What could not be restored is named, with its reason.
  EXPECT_THAT(Warnings(), HasSubstr("/broken-dir"));
  EXPECT_THAT(Warnings(), HasSubstr("/broken-file"));
  ASSERT_EQ(result->failures.size(), 2u) << Warnings();
  // No full-size file of holes that looks complete.
  EXPECT_FALSE(std::filesystem::exists(target + "/broken-file"));
  for (const auto& entry : std::filesystem::recursive_directory_iterator(target))
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr(".ferry-restore")));
}

TEST_F(RestoreDamageTest, FreeSpaceIsCheckedBeforeAnythingIsWritten) {
  auto huge = hostile::WriteHugeFileSnapshot(*repository_, uint64_t{1} << 50);
  ASSERT_TRUE(huge.ok()) << huge.status().ToString();
  std::string target = dir_.path() + "/target";
  auto result = Restore(*huge, target);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNoSpace) << result.status().ToString();
  EXPECT_THAT(result.status().message(), HasSubstr(std::to_string(uint64_t{1} << 50)));
  EXPECT_THAT(result.status().message(), HasSubstr(target));
  EXPECT_FALSE(std::filesystem::exists(target + "/huge"));
}

}  // namespace
}  // namespace ferry
