#include "engine/snapshot_dump.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "repo/tree_lookup.h"
#include "repository_fixture.h"
#include "tree_builder.h"

namespace ferry {
namespace {

class SnapshotDumpTest : public RepositoryFixture {
 protected:
  std::string Output() const { return dir_.path() + "/out"; }
  int OpenOutput() { return ::open(Output().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600); }
  std::string ReadOutput() {
    auto bytes = ReadWholeFile(Output());
    EXPECT_TRUE(bytes.ok());
    return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : "";
  }
};

TEST_F(SnapshotDumpTest, FileBytesAreTheContents) {
  auto repository = Init();
  std::string content = "a file of several five-byte blobs\n";
  Id root = BuildTestTree(*repository, {{"/etc/fstab", {content}}});
  ASSERT_TRUE(repository->Flush().ok());
  auto node = LookupPath(*repository, root, "/etc/fstab");
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  int fd = OpenOutput();
  ASSERT_TRUE(DumpFile(*repository, *node, fd).ok());
  ::close(fd);
  EXPECT_EQ(ReadOutput(), content);
}

TEST_F(SnapshotDumpTest, LookupNamesWhatIsMissing) {
  auto repository = Init();
  Id root = BuildTestTree(*repository, {{"/etc/fstab", {"x"}}});
  ASSERT_TRUE(repository->Flush().ok());
  auto missing = LookupPath(*repository, root, "/etc/passwd");
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find("/etc/passwd"), std::string::npos);
  EXPECT_FALSE(LookupPath(*repository, root, "/etc/fstab/below").ok());
  auto top = LookupPath(*repository, root, "/");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->subtree, root);
}

TEST_F(SnapshotDumpTest, ShortDataIsCorruption) {
  auto repository = Init();
  Id root = BuildTestTree(*repository, {{"/f", {"12345"}}});
  ASSERT_TRUE(repository->Flush().ok());
  auto node = LookupPath(*repository, root, "/f");
  ASSERT_TRUE(node.ok());
  node->size = 9;  // as a hostile tree would say
  int fd = OpenOutput();
  Status status = DumpFile(*repository, *node, fd);
  ::close(fd);
  EXPECT_EQ(status.code(), StatusCode::kCorruption) << status.ToString();
}

TEST_F(SnapshotDumpTest, DirectoryIsATarOfEverythingBelow) {
  auto repository = Init();
  Id root = BuildTestTree(*repository, {{"/srv/d/a.txt", {"alpha contents"}},
                                        {"/srv/d/e/b.txt", {"beta"}},
                                        {"/srv/d/link", {"a.txt", NodeType::kSymlink, 0777}},
                                        {"/srv/other", {"not dumped"}}});
  ASSERT_TRUE(repository->Flush().ok());
  auto node = LookupPath(*repository, root, "/srv/d");
  ASSERT_TRUE(node.ok());
  int fd = OpenOutput();
  ASSERT_TRUE(DumpTar(*repository, "/srv/d", *node, fd).ok());
  ::close(fd);

  archive* reader = archive_read_new();
  archive_read_support_format_tar(reader);
  ASSERT_EQ(archive_read_open_filename(reader, Output().c_str(), 10240), ARCHIVE_OK);
  std::vector<std::string> seen;
  archive_entry* entry = nullptr;
  while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(entry);
    std::string data(static_cast<size_t>(archive_entry_size(entry)), '\0');
    if (!data.empty()) archive_read_data(reader, data.data(), data.size());
    if (archive_entry_filetype(entry) == AE_IFLNK) data = archive_entry_symlink(entry);
    seen.push_back(name + "=" + data);
  }
  archive_read_free(reader);
  EXPECT_EQ(seen, (std::vector<std::string>{"srv/d/a.txt=alpha contents", "srv/d/e/=",
                                            "srv/d/e/b.txt=beta", "srv/d/link=a.txt"}));
}

}  // namespace
}  // namespace ferry
