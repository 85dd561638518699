// libFuzzer entry: ferry::fuzz::SealedObject.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::fuzz::SealedObject(ferry::ByteView(data, size));
  return 0;
}
