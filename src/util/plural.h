// Counted nouns for messages: "1 file", "2 files", "0 packs". Every count a
// user reads goes through here, so that no message says "1 snapshots".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry {

// "N one" when n is 1, else "N many" ("1 pack", "3 packs").
std::string Plural(uint64_t n, std::string_view one, std::string_view many);

// The noun alone, as Plural chooses it: for counts printed elsewhere
// (aligned columns, printf).
std::string_view PluralNoun(uint64_t n, std::string_view one, std::string_view many);

}  // namespace ferry
