// libFuzzer entry: ferry::fuzz::DiskLabel.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::fuzz::DiskLabel(ferry::ByteView(data, size));
  return 0;
}
