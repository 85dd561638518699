// libFuzzer entry: ferry::fuzz::ConfigObject.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::fuzz::ConfigObject(ferry::ByteView(data, size));
  return 0;
}
