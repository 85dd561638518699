// Id: a 32-byte identifier (SHA-256 of an object's stored bytes, or the
// HMAC-SHA256 chunk ID of a blob's plaintext). Shown as 64 lower-case hex digits.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

struct Id {
  static constexpr size_t kSize = 32;
  std::array<uint8_t, kSize> bytes{};

  static Result<Id> FromHex(std::string_view hex);
  static Id FromBytes(ByteView b) {
    Id id;
    std::memcpy(id.bytes.data(), b.data(), kSize);
    return id;
  }
  std::string Hex() const { return HexEncode(bytes); }
  // The first 8 hex digits, as shown in tables.
  std::string Short() const { return Hex().substr(0, 8); }
  bool IsZero() const {
    for (uint8_t b : bytes)
      if (b) return false;
    return true;
  }
  auto operator<=>(const Id&) const = default;
};

struct IdHash {
  size_t operator()(const Id& id) const {
    // The bytes are uniformly distributed (hash or MAC outputs): any 8 will do.
    uint64_t v;
    std::memcpy(&v, id.bytes.data(), sizeof v);
    return static_cast<size_t>(v);
  }
};

inline Result<Id> Id::FromHex(std::string_view hex) {
  if (hex.size() != 2 * kSize)
    return Status::InvalidArgument("'" + std::string(hex) + "' is not a 64-digit hex ID");
  ASSIGN_OR_RETURN(Bytes raw, HexDecode(hex));
  return FromBytes(raw);
}

}  // namespace ferry
