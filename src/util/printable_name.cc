#include "util/printable_name.h"

#include <cstdint>
#include <cstdio>

namespace ferry {

namespace {

// The length of the well-formed UTF-8 sequence of two or more bytes starting
// at `i` (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF),
// or 0.
size_t Utf8Sequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  uint8_t b = byte(i);
  if (b >= 0xC2 && b <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    uint8_t b1 = byte(i + 1);
    if (b == 0xE0 && b1 < 0xA0) return 0;   // overlong
    if (b == 0xED && b1 >= 0xA0) return 0;  // surrogate
    // C1 controls (U+0080–U+009F) are two-byte; nothing to exclude here.
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    uint8_t b1 = byte(i + 1);
    if (b == 0xF0 && b1 < 0x90) return 0;   // overlong
    if (b == 0xF4 && b1 >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::string PrintableName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size();) {
    auto b = static_cast<uint8_t>(name[i]);
    if (b >= 0x20 && b < 0x7F && b != '\\') {
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    size_t n = b >= 0x80 ? Utf8Sequence(name, i) : 0;
    // U+0080–U+009F (C1 controls, encoded C2 80–C2 9F) act on terminals too.
    bool c1 = n == 2 && b == 0xC2 && static_cast<uint8_t>(name[i + 1]) < 0xA0;
    if (n > 0 && !c1) {
      out.append(name.substr(i, n));
      i += n;
      continue;
    }
    char escaped[5];
    std::snprintf(escaped, sizeof escaped, "\\x%02x", b);
    out += escaped;
    ++i;
  }
  return out;
}

}  // namespace ferry
