#include "util/bytes.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <openssl/evp.h>

namespace ferry {

std::string HexEncode(ByteView data) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(data.size() * 2);
  for (size_t i = 0; i < data.size(); ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseDecimalDigits(std::string_view text, uint64_t* value) {
  if (text.empty() || text.size() > 19) return false;  // < 10^19 fits in uint64_t
  uint64_t result = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    result = result * 10 + static_cast<uint64_t>(c - '0');
  }
  *value = result;
  return true;
}

Result<Bytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return Status::InvalidArgument("hex string has odd length");
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexDigitValue(hex[2 * i]);
    int lo = HexDigitValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return Status::InvalidArgument("not a hex string: '" + std::string(hex) + "'");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string Base64Encode(ByteView data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

namespace {
int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

// Strict RFC 4648 section 4 (the alphabet EVP_EncodeBlock writes): '=' only as
// the last one or two characters, no whitespace, and the unused bits of the
// last group zero. Every byte string then has exactly one encoding, so no
// field can carry hidden bytes or be altered without changing its meaning,
// and a decoder in another language reads exactly what ferry reads.
Result<Bytes> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0)
    return Status::InvalidArgument("base64 text has a bad length (" + std::to_string(text.size()) +
                                   " characters, not a multiple of 4)");
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  Bytes out;
  out.reserve(3 * text.size() / 4);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    size_t used = last ? 4 - padding : 4;  // characters that carry bits in this group
    uint32_t group = 0;
    for (size_t k = 0; k < 4; ++k) {
      int value = k < used ? Base64Value(text[i + k]) : 0;
      if (value < 0)
        return Status::InvalidArgument("not valid base64: character " + std::to_string(i + k) +
                                       " is not in the base64 alphabet");
      group = group << 6 | static_cast<uint32_t>(value);
    }
    out.push_back(static_cast<uint8_t>(group >> 16));
    if (used > 2) out.push_back(static_cast<uint8_t>(group >> 8));
    if (used > 3) out.push_back(static_cast<uint8_t>(group));
    // With padding, the last character's low bits are not part of any byte.
    uint32_t unused_bits = used == 2 ? group & 0xffff : used == 3 ? group & 0xff : 0;
    if (unused_bits != 0)
      return Status::InvalidArgument("not canonical base64: the padding bits are not zero");
  }
  return out;
}

std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return buffer;
}

Result<uint64_t> ParseByteSize(const std::string& text) {
  const std::string problem = "'" + text + "' is not a size (examples: 500M, 2G, 1.5T, 4096)";
  size_t end = 0;
  while (end < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.'))
    ++end;
  if (end == 0) return Status::InvalidArgument(problem);
  double value = std::strtod(text.substr(0, end).c_str(), nullptr);
  std::string unit = text.substr(end);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() == 3 && unit.substr(1) == "IB") unit = unit.substr(0, 1);
  if (unit.size() == 2 && unit[1] == 'B') unit = unit.substr(0, 1);
  const std::string units = "BKMGTP";
  if (unit.size() > 1 || (unit.size() == 1 && units.find(unit[0]) == std::string::npos))
    return Status::InvalidArgument(problem);
  int power = unit.empty() ? 0 : static_cast<int>(units.find(unit[0]));
  double bytes = std::floor(value * std::pow(1024.0, power));
  if (!(bytes >= 1) || bytes > 9.0e18) return Status::InvalidArgument(problem);
  return static_cast<uint64_t>(bytes);
}

}  // namespace ferry
