// Entry points that feed arbitrary bytes to each parser of outside data.
// Used by the libFuzzer binaries (FERRY_FUZZ=ON with clang) and by
// parser_robustness_test, which runs them on mutated valid inputs in every build.
#pragma once

#include "util/bytes.h"

namespace ferry::fuzz {

void PackHeader(ByteView data);   // trailer + header of a pack
void IndexObject(ByteView data);  // index plaintext
void TreeObject(ByteView data);   // tree JSON
void SnapshotObject(ByteView data);
void ConfigObject(ByteView data);
void KeyFileObject(ByteView data);
void SealedObject(ByteView data);      // encrypted envelope
void DiskManifestJson(ByteView data);  // manifest and label JSON on a shipped disk
void StagingInfoJson(ByteView data);   // staging.json
void VaultJsonBody(ByteView data);     // JSON bodies of /vault/v1 (vaults, machines, seeds)
void ImportJobBody(ByteView data);     // JSON bodies of /import/v1 (create, ship, state, drive)
void DiskLabel(ByteView data);         // ferry-disk.json on a shipped disk
// WalkTrees over hostile trees: the input is up to 64 tree blobs separated by
// NUL bytes; any tree ID whose first byte is 0 names blob (last byte % count).
void TreeWalk(ByteView data);

}  // namespace ferry::fuzz
