#include "crypto/subkeys.h"

#include "crypto/kdf.h"

namespace ferry {

Subkeys DeriveSubkeys(ByteView master_key) {
  Subkeys keys;
  keys.data = Hkdf(master_key, {}, "ferry data key v1", 32);
  keys.mac = Hkdf(master_key, {}, "ferry chunk mac v1", 32);
  keys.chunker = Hkdf(master_key, {}, "ferry chunker seed v1", 32);
  return keys;
}

}  // namespace ferry
