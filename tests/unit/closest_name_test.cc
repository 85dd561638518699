// util/closest_name.h: the "did you mean" suggestion for mistyped options.
#include "util/closest_name.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(EditDistanceTest, CountsInsertionsDeletionsSubstitutionsAndSwaps) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("--taget", "--target"), 1u);  // a letter left out
  EXPECT_EQ(EditDistance("--tragets", "--target"), 2u);
  EXPECT_EQ(EditDistance("--jsno", "--json"), 1u);  // neighbours swapped: one slip
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(ClosestNameTest, SuggestsOnlyWhatIsNearEnough) {
  std::vector<std::string> options = {"--target", "--include", "--overwrite", "--json", "--repo"};
  EXPECT_EQ(ClosestName("--taget", options), "--target");
  EXPECT_EQ(ClosestName("--inculde", options), "--include");
  EXPECT_EQ(ClosestName("--jsno", options), "--json");
  EXPECT_EQ(ClosestName("--frobnicate", options), std::nullopt);
  EXPECT_EQ(ClosestName("-x", options), std::nullopt);
  EXPECT_EQ(ClosestName("--taget", {}), std::nullopt);
}

}  // namespace
}  // namespace ferry
