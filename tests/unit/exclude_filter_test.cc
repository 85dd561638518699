#include "engine/exclude_filter.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"

namespace ferry {
namespace {

TEST(ExcludeFilterTest, NamePatternsMatchAnywhereAndPathPatternsWholePaths) {
  ExcludeFilter filter;
  filter.Add("*.tmp");
  filter.Add("/home/*/.cache");
  EXPECT_TRUE(filter.Excluded("/a/b/x.tmp", "x.tmp"));
  EXPECT_FALSE(filter.Excluded("/a/b/x.tmpl", "x.tmpl"));
  EXPECT_TRUE(filter.Excluded("/home/alice/.cache", ".cache"));
  EXPECT_FALSE(filter.Excluded("/home/alice/sub/.cache", ".cache"));
}

TEST(ExcludeFilterTest, ReadsPatternFiles) {
  TempDir dir;
  std::string path = dir.path() + "/excludes";
  std::ofstream(path) << "# comment\n\n  *.o\n/srv/cache/\n";
  ExcludeFilter filter;
  ASSERT_TRUE(filter.AddFromFile(path).ok());
  EXPECT_EQ(filter.patterns(), (std::vector<std::string>{"*.o", "/srv/cache"}));
  EXPECT_TRUE(filter.AddFromFile(dir.path() + "/missing").IsNotFound());
}

}  // namespace
}  // namespace ferry
