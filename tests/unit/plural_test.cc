// util/plural.h: counted nouns in messages.
#include "util/plural.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(PluralTest, OneIsSingularEverythingElsePlural) {
  EXPECT_EQ(Plural(0, "pack", "packs"), "0 packs");
  EXPECT_EQ(Plural(1, "pack", "packs"), "1 pack");
  EXPECT_EQ(Plural(2, "pack", "packs"), "2 packs");
  EXPECT_EQ(Plural(1, "file that is", "files that are"), "1 file that is");
  EXPECT_EQ(PluralNoun(7, "index", "indexes"), "indexes");
}

}  // namespace
}  // namespace ferry
