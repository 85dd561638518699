// libFuzzer entry: ferry::fuzz::SnapshotObject.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::fuzz::SnapshotObject(ferry::ByteView(data, size));
  return 0;
}
