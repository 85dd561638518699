// libFuzzer entry: ferry::fuzz::ImportJobBody.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::fuzz::ImportJobBody(ferry::ByteView(data, size));
  return 0;
}
