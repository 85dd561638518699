#include "fuzz_targets.h"

#include "format/disk_manifest.h"
#include "format/staging_info.h"

#include "format/config.h"
#include "format/index_file.h"
#include "format/key_file.h"
#include "format/pack.h"
#include "format/sealed_object.h"
#include "format/snapshot.h"
#include "format/tree.h"

namespace ferry::fuzz {

namespace {
const Bytes kKey(32, 7);
}

void PackHeader(ByteView data) {
  PackKeys keys{kKey, Id{}};
  if (data.size() < kPackTrailerSize) return;
  auto length = ParsePackTrailer(data.last(kPackTrailerSize), data.size());
  if (!length.ok()) return;
  ByteView header = data.subspan(data.size() - kPackTrailerSize - *length, *length);
  DecryptPackHeader(keys, data.first(std::min(data.size(), kPackSaltSize)), header, data.size())
      .status()
      .IgnoreError();
}

void IndexObject(ByteView data) { ParseIndex(data).status().IgnoreError(); }
void DiskManifestJson(ByteView data) {
  ParseDiskManifest(data).status().IgnoreError();
  ParseDiskLabel(data).status().IgnoreError();
}
void StagingInfoJson(ByteView data) { ParseStagingInfo(data).status().IgnoreError(); }
void TreeObject(ByteView data) { ParseTree(data).status().IgnoreError(); }
void SnapshotObject(ByteView data) { ParseSnapshot(data).status().IgnoreError(); }
void ConfigObject(ByteView data) { ParseConfig(data).status().IgnoreError(); }
void KeyFileObject(ByteView data) { ParseKeyFile(data).status().IgnoreError(); }
void SealedObject(ByteView data) { OpenObject(kKey, Id{}, "index", data).status().IgnoreError(); }

}  // namespace ferry::fuzz
