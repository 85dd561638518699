// libFuzzer entry: ferry::fuzz::DiskManifest.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::fuzz::DiskManifestJson(ferry::ByteView(data, size));
  return 0;
}
