// Cryptographically secure random bytes (OpenSSL's DRBG).
#pragma once

#include "util/bytes.h"

namespace ferry {

void RandomBytes(uint8_t* out, size_t length);
inline Bytes RandomBytes(size_t length) {
  Bytes out(length);
  RandomBytes(out.data(), length);
  return out;
}

}  // namespace ferry
