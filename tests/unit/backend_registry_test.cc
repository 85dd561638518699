// Location strings pick their backend through the registry: plain paths and
// local: are directories, memory://NAME is shared by name, and an unknown or
// malformed scheme is refused with a message that says what would work.
#include "storage/backend_registry.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace ferry {
namespace {

TEST(BackendRegistryTest, ParsesSchemesAndPlainPaths) {
  auto plain = ParseStorageLocation("/srv/backup/repo");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->scheme, "local");
  EXPECT_EQ(plain->address, "/srv/backup/repo");
  auto local = ParseStorageLocation("local:relative/repo");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->scheme, "local");
  EXPECT_EQ(local->address, "relative/repo");
  auto s3 = ParseStorageLocation("s3://bucket/prefix?region=eu");
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->scheme, "s3");
  EXPECT_EQ(s3->address, "bucket/prefix?region=eu");
  EXPECT_EQ(s3->text, "s3://bucket/prefix?region=eu");
}

TEST(BackendRegistryTest, RefusesEmptyAndMalformedLocations) {
  auto empty = ParseStorageLocation("");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("FERRY_REPOSITORY"), std::string::npos);
  auto bad = ParseStorageLocation("S 3://bucket");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not a scheme name"), std::string::npos);
  EXPECT_FALSE(OpenBackend("local:").ok());
}

TEST(BackendRegistryTest, UnknownSchemesNameTheKnownOnes) {
  auto opened = OpenBackend("ftp://example/repo");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(opened.status().message().find("'ftp://'"), std::string::npos);
  EXPECT_NE(opened.status().message().find("memory://NAME"), std::string::npos);
}

TEST(BackendRegistryTest, ChildLocationsKeepSchemeAndQuery) {
  EXPECT_EQ(*StorageLocationChild("/srv/vault/", "repositories/v/m"),
            "/srv/vault/repositories/v/m");
  EXPECT_EQ(*StorageLocationChild("local:/srv", "a/b"), "local:/srv/a/b");
  EXPECT_EQ(*StorageLocationChild("memory://x", "a"), "memory://x/a");
  EXPECT_EQ(*StorageLocationChild("azure://data/p?account=acct1", "r/v/m"),
            "azure://data/p/r/v/m?account=acct1");
  EXPECT_EQ(*StorageLocationChild("s3://bucket?endpoint=http://h:9000&region=r", "a"),
            "s3://bucket/a?endpoint=http://h:9000&region=r");
  // A local path may hold a '?': it is part of the directory's name.
  EXPECT_EQ(*StorageLocationChild("/odd?dir", "a"), "/odd?dir/a");
  for (const char* bad : {"", "/abs", "a/../b", "a//b", "a/", "..", "a?x=1"})
    EXPECT_EQ(StorageLocationChild("s3://b", bad).status().code(), StatusCode::kInvalidArgument)
        << bad;
}

TEST(BackendRegistryTest, ObjectStoreAddressesAreSplitAndCheckedOneWay) {
  auto split = SplitObjectStoreAddress("bucket/a b/c/?region=eu%2D1&endpoint=http://h:9",
                                       {"endpoint", "region"});
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ(split->name, "bucket");
  EXPECT_EQ(split->prefix, "a b/c");
  EXPECT_EQ(split->parameters.at("region"), "eu-1");
  EXPECT_EQ(split->parameters.at("endpoint"), "http://h:9");
  EXPECT_TRUE(SplitObjectStoreAddress("bucket", {})->prefix.empty());
  const std::pair<const char*, const char*> refused[] = {
      {"b/x//y", "empty, '.' or '..'"},
      {"b/../y", "empty, '.' or '..'"},
      {"b/x#y", "'#'"},
      {"b?colour=blue", "unknown parameter 'colour' (region"},
      {"b?region", "has no value"},
      {"b?region=a&region=b", "region is given twice"},
      {"b?region=%zz", "region: "},
  };
  for (const auto& [address, why] : refused) {
    auto result = SplitObjectStoreAddress(address, {"region"});
    ASSERT_FALSE(result.ok()) << address;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find(why), std::string::npos)
        << address << ": " << result.status().message();
  }
  EXPECT_FALSE(SplitObjectStoreAddress("b/" + std::string(513, 'p'), {}).ok());
}

TEST(BackendRegistryTest, MemoryLocationsAreSharedByName) {
  auto first = OpenBackend("memory://shared-by-name");
  auto second = OpenBackend("memory://shared-by-name");
  auto other = OpenBackend("memory://another");
  ASSERT_TRUE(first.ok() && second.ok() && other.ok());
  ASSERT_TRUE((*first)->Put(ObjectName::Config(), AsBytes("config")).ok());
  auto read = (*second)->Get(ObjectName::Config());
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(std::string(read->begin(), read->end()), "config");
  EXPECT_TRUE((*other)->Get(ObjectName::Config()).status().IsNotFound());
  EXPECT_EQ((*first)->Location(), "memory://shared-by-name");
}

TEST(BackendRegistryTest, RegisteredFactoriesAreUsed) {
  BackendRegistry registry;
  std::string seen;
  registry.Register("test", "test://X", [&](const StorageLocation& location) {
    seen = location.address;
    return Result<std::unique_ptr<Backend>>(Status::PermissionDenied("no"));
  });
  EXPECT_EQ(registry.Open("test://abc").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(seen, "abc");
  EXPECT_EQ(registry.Schemes(), std::vector<std::string>{"test: test://X"});
}

}  // namespace
}  // namespace ferry
