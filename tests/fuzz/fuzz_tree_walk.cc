// libFuzzer entry: ferry::fuzz::TreeWalk.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::fuzz::TreeWalk(ferry::ByteView(data, size));
  return 0;
}
