// libFuzzer entry: ferry::fuzz::StagingInfo.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::fuzz::StagingInfoJson(ferry::ByteView(data, size));
  return 0;
}
