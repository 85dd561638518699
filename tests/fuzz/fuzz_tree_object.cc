// libFuzzer entry: ferry::fuzz::TreeObject.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::fuzz::TreeObject(ferry::ByteView(data, size));
  return 0;
}
