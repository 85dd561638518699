// The closest of a set of names to a mistyped one ("--taget" → "--target"),
// for "did you mean" suggestions. Distance is Damerau–Levenshtein (optimal
// string alignment): a swap of two neighbouring letters costs one edit, as it
// is one slip of the fingers.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

// Edits (insert, delete, substitute, swap neighbours) that turn `a` into `b`.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate nearest to `typed`, if it is near enough to be what was
// meant: at most a third of the typed length in edits (and at least one), so
// that "--x" suggests nothing rather than "--json". Ties go to the earlier
// candidate.
std::optional<std::string> ClosestName(std::string_view typed,
                                       const std::vector<std::string>& candidates);

}  // namespace ferry
