// libFuzzer entry: ferry::fuzz::KeyFileObject.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::fuzz::KeyFileObject(ferry::ByteView(data, size));
  return 0;
}
