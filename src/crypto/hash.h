// SHA-256 (object names) and HMAC-SHA256 (chunk IDs), via OpenSSL.
#pragma once

#include <memory>

#include "util/bytes.h"
#include "util/id.h"

namespace ferry {

Id Sha256(ByteView data);

// Incremental SHA-256, for hashing a pack while it is written.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void Update(ByteView data);
  // Returns the digest; the stream restarts empty.
  Id Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// HMAC-SHA256 with a 32-byte key.
Id HmacSha256(ByteView key, ByteView data);

}  // namespace ferry
