// libFuzzer entry: ferry::fuzz::IndexObject.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::fuzz::IndexObject(ferry::ByteView(data, size));
  return 0;
}
