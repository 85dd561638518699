// Restore reads the repository pack by pack (engine/file_restorer.h): each
// pack once, in few large reads, whatever the number of blobs and files; a
// damaged blob or an unreadable pack fails exactly the files that need it; a
// blob repeated within a file or shared between files is written everywhere
// it belongs; holes stay holes; a cancel leaves no temporary files.
#include "engine/file_restorer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "counting_backend.h"
#include "crypto/random.h"
#include "engine/restorer.h"
#include "repository_fixture.h"

namespace ferry {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

constexpr int kSmallFiles = 150;

class FileRestorerTest : public RepositoryFixture {
 protected:
  void SetUp() override {
    auto repository = Init();
    ASSERT_TRUE(repository);
    // Pack 1: A and B. Pack 2: C, a block of zeros and the small files' blobs.
    Id a = Save(*repository, "A", RandomBytes(300 << 10));
    Id b = Save(*repository, "B", RandomBytes(200 << 10));
    ASSERT_TRUE(repository->Flush().ok());
    Id c = Save(*repository, "C", RandomBytes(100 << 10));
    Id zeros = Save(*repository, "Z", Bytes(64 << 10, 0));
    std::vector<Id> small;
    for (int i = 0; i < kSmallFiles; ++i)
      small.push_back(Save(*repository, "S" + std::to_string(i), RandomBytes(500 + 17 * i)));
    ASSERT_TRUE(repository->Flush().ok());

    File("a", {a});
    File("b", {b});
    File("big", {a, a, a, c, b});  // 1.2 MB: O_DIRECT; A three times
    File("d", {c});
    File("e", {});
    for (int i = 0; i < kSmallFiles; ++i) {
      char name[8];
      std::snprintf(name, sizeof name, "s%03d", i);
      File(name, {small[i]});
    }
    File("sparse", {zeros, a, zeros});
    File("z-shares", {c, small[0]});

    Tree root;
    for (const auto& [name, node] : nodes_) root.nodes.push_back(node);
    auto tree = repository->SaveTree(root);
    ASSERT_TRUE(tree.ok());
    ASSERT_TRUE(repository->Flush().ok());
    Snapshot snapshot;
    snapshot.time_ns = 1700000000000000000;
    snapshot.tree = *tree;
    snapshot.paths = {"/"};
    auto id = repository->SaveSnapshot(snapshot);
    ASSERT_TRUE(id.ok());
    snapshot_ = snapshot;

    auto counting = std::make_unique<CountingBackend>(std::make_unique<LocalBackend>(Location()));
    counting_ = counting.get();
    auto opened = Repository::Open(std::move(counting), "pw");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    repository_ = std::move(*opened);
    ASSERT_TRUE(repository_->LoadIndex().ok());
    pack_of_a_ = repository_->FindBlob(BlobType::kData, a)->pack_id;
    pack_of_c_ = repository_->FindBlob(BlobType::kData, c)->pack_id;
    ASSERT_NE(pack_of_a_, pack_of_c_);
    target_ = dir_.path() + "/target";
  }

  Id Save(Repository& repository, const std::string& name, Bytes plain) {
    Id id = repository.BlobId(plain);
    EXPECT_TRUE(repository.SaveBlob(BlobType::kData, id, plain).ok());
    blobs_[id] = std::move(plain);
    blob_names_[id] = name;
    return id;
  }

  void File(const std::string& name, const std::vector<Id>& content) {
    Node node;
    node.name = name;
    node.type = NodeType::kFile;
    node.mode = 0644;
    node.links = 1;
    node.mtime_ns = 1700000000000000000;
    node.content = content;
    Bytes expected;
    for (const Id& id : content)
      expected.insert(expected.end(), blobs_[id].begin(), blobs_[id].end());
    node.size = expected.size();
    nodes_[name] = node;
    expected_[name] = std::move(expected);
  }

  Result<RestoreResult> Restore(int threads = 0) {
    RestoreOptions options;
    options.target = target_;
    options.threads = threads;
    options.cancel = &cancel_;
    return RunRestore(*repository_, snapshot_, options, progress_,
                      [&](const std::string& message) { warnings_.push_back(message); });
  }

  // The files that use a blob named `blob` ("A", "S0"…).
  std::vector<std::string> FilesUsing(const std::set<std::string>& blobs) {
    std::vector<std::string> files;
    for (const auto& [name, node] : nodes_)
      if (std::any_of(node.content.begin(), node.content.end(),
                      [&](const Id& id) { return blobs.count(blob_names_[id]); }))
        files.push_back(name);
    return files;
  }
  std::vector<std::string> FailedFiles(const RestoreResult& result) {
    std::vector<std::string> files;
    for (const std::string& failure : result.failures) {
      EXPECT_EQ(failure[0], '/') << failure;
      files.push_back(failure.substr(1, failure.find(": not restored: ") - 1));
    }
    return files;
  }
  // Every file not in `failed` is restored byte for byte; the failed ones
  // and any temporary file are absent.
  void ExpectRestoredExcept(const std::vector<std::string>& failed) {
    for (const auto& [name, content] : expected_) {
      std::string path = target_ + "/" + name;
      bool should_fail = std::find(failed.begin(), failed.end(), name) != failed.end();
      if (should_fail) {
        EXPECT_FALSE(std::filesystem::exists(path)) << name;
        continue;
      }
      auto restored = ReadWholeFile(path);
      ASSERT_TRUE(restored.ok()) << name << ": " << restored.status().ToString();
      EXPECT_TRUE(*restored == content) << name;
    }
    for (const auto& entry : std::filesystem::directory_iterator(target_))
      EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr(".ferry-restore")));
  }

  std::map<Id, Bytes> blobs_;
  std::map<Id, std::string> blob_names_;
  std::map<std::string, Node> nodes_;  // by name: a tree's order
  std::map<std::string, Bytes> expected_;
  Snapshot snapshot_;
  std::unique_ptr<Repository> repository_;
  CountingBackend* counting_ = nullptr;
  Id pack_of_a_, pack_of_c_;
  std::string target_;
  std::atomic<bool> cancel_{false};
  RestoreProgress progress_;
  std::vector<std::string> warnings_;
};

TEST_F(FileRestorerTest, EveryPackIsReadOnceWhateverTheNumberOfBlobs) {
  auto result = Restore();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->failures.empty()) << ::testing::PrintToString(result->failures);
  ExpectRestoredExcept({});
  EXPECT_EQ(result->files, expected_.size());
  // 154 distinct blobs in 2 packs: one read each (blob by blob it was 154).
  EXPECT_EQ(counting_->content_reads(), 2u);
  EXPECT_EQ(progress_.files_done, expected_.size());
  EXPECT_EQ(progress_.bytes_done, progress_.bytes_total);

  // The zeros around A stayed holes.
  struct stat st;
  ASSERT_EQ(::stat((target_ + "/sparse").c_str(), &st), 0);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, expected_["sparse"].size());
}

TEST_F(FileRestorerTest, OneWorkerRestoresTheSame) {
  auto result = Restore(1);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->failures.empty()) << ::testing::PrintToString(result->failures);
  ExpectRestoredExcept({});
}

TEST_F(FileRestorerTest, ADamagedBlobInACoalescedRangeFailsExactlyTheFilesThatNeedIt) {
  auto location = repository_->FindBlob(BlobType::kData, nodes_["a"].content[0]);
  FlipInPlace(ObjectKind::kData, location->pack_id,
              location->entry.offset + location->entry.stored_length / 2);
  auto result = Restore();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::vector<std::string> failed = FilesUsing({"A"});
  EXPECT_THAT(FailedFiles(*result), UnorderedElementsAreArray(failed));
  for (const std::string& failure : result->failures)
    EXPECT_THAT(failure, HasSubstr(nodes_["a"].content[0].Hex()));
  ExpectRestoredExcept(failed);  // B, in the same read as A, is fine
  EXPECT_EQ(counting_->content_reads(), 2u);
}

TEST_F(FileRestorerTest, APackThatCannotBeReadFailsOnlyTheFilesWithBlobsInIt) {
  counting_->FailReadsOf(pack_of_c_.Hex());
  auto result = Restore();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::set<std::string> in_pack = {"C", "Z"};
  for (int i = 0; i < kSmallFiles; ++i) in_pack.insert("S" + std::to_string(i));
  std::vector<std::string> failed = FilesUsing(in_pack);
  EXPECT_THAT(FailedFiles(*result), UnorderedElementsAreArray(failed));
  for (const std::string& failure : result->failures)
    EXPECT_THAT(failure, HasSubstr("reading pack " + pack_of_c_.Hex()));
  ExpectRestoredExcept(failed);
  EXPECT_TRUE(std::filesystem::exists(target_ + "/a"));
  EXPECT_TRUE(std::filesystem::exists(target_ + "/e"));
}

TEST_F(FileRestorerTest, ACancelMidwayLeavesNoTemporaryFiles) {
  // One worker reads A's pack first (file "a" needs it first): "big" and
  // "sparse" are then written in part, and the cancel comes with the second
  // pack's read.
  int reads = 0;
  counting_->OnContentRead([&] {
    if (++reads == 2) cancel_ = true;
  });
  auto result = Restore(1);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInterrupted);
  EXPECT_EQ(reads, 2);
  EXPECT_TRUE(std::filesystem::exists(target_ + "/a"));  // complete before the cancel
  for (const auto& entry : std::filesystem::directory_iterator(target_))
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr(".ferry-restore")));
}

}  // namespace
}  // namespace ferry
