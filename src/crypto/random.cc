#include "crypto/random.h"

#include <openssl/rand.h>

#include <cstdlib>

namespace ferry {

void RandomBytes(uint8_t* out, size_t length) {
  // A failing DRBG must never be papered over with weak randomness.
  if (RAND_bytes(out, static_cast<int>(length)) != 1) std::abort();
}

}  // namespace ferry
