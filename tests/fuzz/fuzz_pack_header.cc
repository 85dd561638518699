// libFuzzer entry: ferry::fuzz::PackHeader.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::fuzz::PackHeader(ferry::ByteView(data, size));
  return 0;
}
