#include <gtest/gtest.h>

#include "crypto/random.h"
#include "format/staging_info.h"
#include "format/config.h"
#include "format/json_util.h"
#include "format/sealed_object.h"
#include "format/snapshot.h"
#include "format/tree.h"
#include "util/clock.h"

namespace ferry {
namespace {

TEST(FormatTest, TreeRoundTripKeepsEveryField) {
  Tree tree;
  Node file;
  file.name = std::string("caf\xe9", 4);  // not UTF-8
  file.type = NodeType::kFile;
  file.mode = 04755;
  file.uid = 1234;
  file.gid = 5678;
  file.user = "alice";
  file.group = "staff";
  file.mtime_ns = 1700000000123456789;
  file.ctime_ns = -5;
  file.inode = 99;
  file.device = 7;
  file.links = 3;
  file.size = 12345;
  file.content = {Id::FromBytes(RandomBytes(32)), Id::FromBytes(RandomBytes(32))};
  file.xattrs = {{"user.a", Bytes{0, 1, 2}}, {"user.b", Bytes{}}};
  Node link;
  link.name = "link";
  link.type = NodeType::kSymlink;
  link.link_target = "../x\xff";
  Node device;
  device.name = "null";
  device.type = NodeType::kCharDevice;
  device.rdev = 259;
  Node dir;
  dir.name = "sub";
  dir.type = NodeType::kDirectory;
  dir.subtree = Id::FromBytes(RandomBytes(32));
  tree.nodes = {file, link, device, dir};
  std::sort(tree.nodes.begin(), tree.nodes.end(),
            [](const Node& a, const Node& b) { return a.name < b.name; });
  Bytes encoded = EncodeTree(tree);
  auto parsed = ParseTree(encoded);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(EncodeTree(*parsed), encoded);  // deterministic and lossless
  const Node* f = nullptr;
  for (const Node& n : parsed->nodes)
    if (n.type == NodeType::kFile) f = &n;
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->name, file.name);
  EXPECT_EQ(f->mode, 04755u);
  EXPECT_EQ(f->mtime_ns, file.mtime_ns);
  EXPECT_EQ(f->content, file.content);
  EXPECT_EQ(f->xattrs, file.xattrs);
}

TEST(FormatTest, TreeRejectsHostileNames) {
  for (const char* name : {"..", ".", "a/b", ""}) {
    std::string json =
        std::string(R"({"nodes":[{"name":")") + name +
        R"(","type":"fifo","mode":0,"uid":0,"gid":0,"mtime":0,"ctime":0,"inode":0,"device":0,"links":1}]})";
    EXPECT_FALSE(ParseTree(AsBytes(json)).ok()) << name;
  }
  EXPECT_FALSE(ParseTree(AsBytes(R"({"nodes":[{"name":"a","type":"file"}]})")).ok());
  EXPECT_FALSE(ParseTree(AsBytes("{not json")).ok());
  EXPECT_FALSE(ParseTree(AsBytes(R"({"nodes":5})")).ok());
}

TEST(FormatTest, SnapshotRoundTrip) {
  Snapshot s;
  s.time_ns = 1764300000123456789;
  s.tree = Id::FromBytes(RandomBytes(32));
  s.paths = {"/home", "/etc"};
  s.hostname = "host";
  s.username = "root";
  s.tags = {"nightly"};
  s.parent = Id::FromBytes(RandomBytes(32));
  s.incomplete = true;
  s.summary.files_new = 5;
  s.summary.bytes_read = 77;
  auto parsed = ParseSnapshot(EncodeSnapshot(s));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->time_ns, s.time_ns);
  EXPECT_EQ(parsed->tree, s.tree);
  EXPECT_EQ(parsed->paths, s.paths);
  EXPECT_EQ(parsed->tags, s.tags);
  EXPECT_EQ(parsed->parent, s.parent);
  EXPECT_TRUE(parsed->incomplete);
  EXPECT_EQ(parsed->summary.files_new, 5u);
  EXPECT_EQ(parsed->summary.bytes_read, 77u);
}

TEST(FormatTest, ConfigRoundTripAndVersionCheck) {
  RepositoryConfig c;
  c.id = Id::FromBytes(RandomBytes(32));
  auto parsed = ParseConfig(EncodeConfig(c));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->id, c.id);
  EXPECT_EQ(parsed->chunker.average_size, c.chunker.average_size);
  c.version = 9;
  auto future = ParseConfig(EncodeConfig(c));
  EXPECT_EQ(future.status().code(), StatusCode::kUnsupported);
}

TEST(FormatTest, SealedObjectBindsKindAndRepository) {
  Bytes key = RandomBytes(32);
  Id repository = Id::FromBytes(RandomBytes(32));
  Bytes plain(10000, 'x');
  Bytes sealed = SealObject(key, repository, "index", plain);
  EXPECT_LT(sealed.size(), plain.size());  // compressed
  EXPECT_EQ(*OpenObject(key, repository, "index", sealed), plain);
  EXPECT_FALSE(OpenObject(key, repository, "snapshot", sealed).ok());
  EXPECT_FALSE(OpenObject(key, Id{}, "index", sealed).ok());
  EXPECT_FALSE(OpenObject(key, repository, "index", ByteView(sealed).first(20)).ok());
}

TEST(FormatTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("héllo ✓ 𝄞"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));      // truncated
}

// Found by UBSan in ParserRobustnessTest: a snapshot dated 3970 overflowed
// int64 nanoseconds (signed overflow, undefined behaviour) in ParseTimeRfc3339.
TEST(FormatTest, TimesOutsideInt64NanosecondsAreRefused) {
  int64_t nanos = 0;
  EXPECT_TRUE(ParseTimeRfc3339("2262-04-11T00:00:00Z", &nanos));
  EXPECT_TRUE(ParseTimeRfc3339("1678-01-01T00:00:00Z", &nanos));
  for (const char* time : {"3970-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
                           "2263-01-01T00:00:00Z", "0001-01-01T00:00:00Z"})
    EXPECT_FALSE(ParseTimeRfc3339(time, &nanos)) << time;
  Snapshot snapshot;
  Bytes encoded = EncodeSnapshot(snapshot);
  std::string text(encoded.begin(), encoded.end());
  size_t at = text.find("\"time\":\"");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at + 8, 4, "3970");
  auto parsed = ParseSnapshot(AsBytes(text));
  EXPECT_EQ(parsed.status().code(), StatusCode::kCorruption) << text;
}

// Found by fuzz_tree_walk (UBSan): "mtime": 7.7e116 was cast to int64_t
// (undefined behaviour) and "uid": -1 wrapped to 4294967295.
TEST(FormatTest, TreeIntegersMustBeIntegersInRange) {
  Node node;
  node.name = "f";
  Bytes encoded = EncodeTree({{node}});
  std::string good(encoded.begin(), encoded.end());
  ASSERT_TRUE(ParseTree(AsBytes(good)).ok());
  for (const auto& [field, value] :
       std::vector<std::pair<std::string, std::string>>{{"mtime", "7.77778e+116"},
                                                        {"mtime", "1.5"},
                                                        {"ctime", "18446744073709551615"},
                                                        {"uid", "-1"},
                                                        {"gid", "4294967296"},
                                                        {"mode", "\"755\""},
                                                        {"size", "-5"},
                                                        {"links", "1e3"}}) {
    std::string text = good;
    size_t at = text.find("\"" + field + "\":");
    ASSERT_NE(at, std::string::npos) << field;
    size_t start = at + field.size() + 3, end = text.find_first_of(",}", start);
    text.replace(start, end - start, value);
    auto tree = ParseTree(AsBytes(text));
    EXPECT_EQ(tree.status().code(), StatusCode::kCorruption) << text;
  }
}

// The same for snapshots and the config (get<uint32_t>() of 1e300 is
// undefined behaviour; of -1 it wraps).
TEST(FormatTest, SnapshotAndConfigIntegersMustBeIntegersInRange) {
  auto replace = [](Bytes encoded, const std::string& field, const std::string& value) {
    std::string text(encoded.begin(), encoded.end());
    size_t at = text.find("\"" + field + "\":");
    EXPECT_NE(at, std::string::npos) << field << " in " << text;
    if (at == std::string::npos) return text;
    size_t start = at + field.size() + 3, end = text.find_first_of(",}", start);
    return text.replace(start, end - start, value);
  };
  Snapshot snapshot;
  snapshot.summary.files_new = 1;
  ASSERT_TRUE(ParseSnapshot(EncodeSnapshot(snapshot)).ok());
  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"uid", "1e300"}, {"gid", "-1"}, {"files_new", "2.5"}})
    EXPECT_EQ(
        ParseSnapshot(AsBytes(replace(EncodeSnapshot(snapshot), field, value))).status().code(),
        StatusCode::kCorruption)
        << field;
  RepositoryConfig config;
  ASSERT_TRUE(ParseConfig(EncodeConfig(config)).ok());
  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"pack_size", "1e300"}, {"compression_level", "1e300"}, {"version", "-1"}})
    EXPECT_NE(ParseConfig(AsBytes(replace(EncodeConfig(config), field, value))).status().code(),
              StatusCode::kOk)
        << field;
}

}  // namespace
// Found by fuzz_staging_info: a "format" that is not a number threw out of the parser.
TEST(StagingInfoTest, AFormatThatIsNotANumberIsCorruptionNotAThrow) {
  for (const char* text : {R"({"format":"s","{20":"s","{{:{{03":""})", R"({"format":[1]})",
                           R"({"format":1.5})", R"({"format":null})"}) {
    auto parsed = ParseStagingInfo(AsBytes(text));
    EXPECT_TRUE(parsed.status().IsCorruption()) << text << ": " << parsed.status().ToString();
  }
}

}  // namespace ferry
