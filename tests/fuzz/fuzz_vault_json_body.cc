// libFuzzer entry: ferry::fuzz::VaultJsonBody.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::fuzz::VaultJsonBody(ferry::ByteView(data, size));
  return 0;
}
