// Index objects: which pack holds which blob (docs/format.md, "Index").
//
//   plaintext = "FRYI" ‖ version:u32 (=1) ‖ pack_count:u32 ‖ pack × pack_count
//   pack      = pack_id[32] ‖ salt[32] ‖ blob_count:u32 ‖ blob × blob_count
//   blob      = type:u8 ‖ compression:u8 ‖ reserved:u16 ‖ offset:u32 ‖ stored_length:u32 ‖
//               raw_length:u32 ‖ id[32]
//
// The pack's salt is repeated here so that reading one blob takes one ranged
// read of the pack, not two.
#pragma once

#include <array>
#include <vector>

#include "format/pack.h"

namespace ferry {

struct IndexedPack {
  Id pack_id;
  std::array<uint8_t, kPackSaltSize> salt{};
  std::vector<PackEntry> blobs;
};

Bytes EncodeIndex(const std::vector<IndexedPack>& packs);
Result<std::vector<IndexedPack>> ParseIndex(ByteView plaintext);

}  // namespace ferry
