#include "engine/path_pattern.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

// The expectations are restic 0.14's (internal/filter/filter_test.go and
// `restic find` on the same paths).
TEST(PathPatternTest, RelativePatternsMatchAnywhere) {
  EXPECT_TRUE(PathPattern("*.conf").Matches("/etc/a.conf"));
  EXPECT_TRUE(PathPattern("*.conf").Matches("/a.conf"));
  EXPECT_FALSE(PathPattern("*.conf").Matches("/etc/a.confx"));
  EXPECT_TRUE(PathPattern("etc/*.conf").Matches("/x/etc/a.conf"));
  EXPECT_FALSE(PathPattern("etc/*.conf").Matches("/x/etc/sub/a.conf"));
  // A matching component matches everything below it too.
  EXPECT_TRUE(PathPattern("d").Matches("/src/d"));
  EXPECT_TRUE(PathPattern("d").Matches("/src/d/e/c.txt"));
  EXPECT_TRUE(PathPattern("src/d/*").Matches("/tmp/src/d/e/c.txt"));
  EXPECT_FALSE(PathPattern("src/d/*").Matches("/tmp/src/d"));
}

TEST(PathPatternTest, AnchoredPatternsStartAtTheRoot) {
  EXPECT_TRUE(PathPattern("/etc/*.conf").Matches("/etc/a.conf"));
  EXPECT_FALSE(PathPattern("/etc/*.conf").Matches("/x/etc/a.conf"));
  EXPECT_TRUE(PathPattern("/etc").Matches("/etc/a/b"));
  EXPECT_FALSE(PathPattern("/etc").Matches("/etcetera"));
}

TEST(PathPatternTest, GlobsStayWithinOneComponent) {
  EXPECT_FALSE(PathPattern("/e*f").Matches("/e/f"));
  EXPECT_TRUE(PathPattern("/a?c").Matches("/abc"));
  EXPECT_TRUE(PathPattern("/[ab]c").Matches("/bc"));
  EXPECT_FALSE(PathPattern("/[ab]c").Matches("/cc"));
  EXPECT_TRUE(PathPattern("/\\*").Matches("/*"));
  EXPECT_FALSE(PathPattern("/\\*").Matches("/x"));
  EXPECT_TRUE(PathPattern("*").Matches("/.hidden"));
}

TEST(PathPatternTest, DoubleStarSpansDirectories) {
  EXPECT_TRUE(PathPattern("/home/**/x.txt").Matches("/home/x.txt"));
  EXPECT_TRUE(PathPattern("/home/**/x.txt").Matches("/home/a/b/x.txt"));
  EXPECT_FALSE(PathPattern("/home/**/x.txt").Matches("/srv/a/x.txt"));
  EXPECT_TRUE(PathPattern("**/*.go").Matches("/a/b/c.go"));
}

TEST(PathPatternTest, CleansThePatternAndHandlesEmpty) {
  EXPECT_TRUE(PathPattern("/a//b/./c/").Matches("/a/b/c"));
  EXPECT_TRUE(PathPattern("").Matches("/anything"));
  EXPECT_FALSE(PathPattern("x").Matches("/"));
}

TEST(PathPatternTest, IgnoreCase) {
  EXPECT_FALSE(PathPattern("*.CONF").Matches("/etc/a.conf"));
  EXPECT_TRUE(PathPattern("*.CONF", /*ignore_case=*/true).Matches("/Etc/A.conf"));
}

TEST(PathPatternTest, ChildMayMatchPrunesOnlyAnchoredPatterns) {
  EXPECT_TRUE(PathPattern("*.conf").ChildMayMatch("/usr"));
  EXPECT_TRUE(PathPattern("/etc/ssh/*.conf").ChildMayMatch("/etc"));
  EXPECT_TRUE(PathPattern("/etc/ssh/*.conf").ChildMayMatch("/etc/ssh"));
  EXPECT_FALSE(PathPattern("/etc/ssh/*.conf").ChildMayMatch("/usr"));
  EXPECT_FALSE(PathPattern("/etc/ssh/*.conf").ChildMayMatch("/etc/ssl"));
  EXPECT_TRUE(PathPattern("/home/**/x").ChildMayMatch("/home/a/b/c"));
  EXPECT_FALSE(PathPattern("/home/**/x").ChildMayMatch("/srv/a"));
}

}  // namespace
}  // namespace ferry
