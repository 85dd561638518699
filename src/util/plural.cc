#include "util/plural.h"

namespace ferry {

std::string_view PluralNoun(uint64_t n, std::string_view one, std::string_view many) {
  return n == 1 ? one : many;
}

std::string Plural(uint64_t n, std::string_view one, std::string_view many) {
  std::string text = std::to_string(n);
  text += ' ';
  text += PluralNoun(n, one, many);
  return text;
}

}  // namespace ferry
