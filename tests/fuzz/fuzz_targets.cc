#include "fuzz_targets.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <string_view>
#include <vector>

#include "format/disk_manifest.h"
#include "format/staging_info.h"

#include "format/config.h"
#include "format/index_file.h"
#include "format/key_file.h"
#include "format/pack.h"
#include "format/sealed_object.h"
#include "format/snapshot.h"
#include "format/tree.h"
#include "repo/tree_walker.h"
#include "seed/import_job.h"
#include "service/request_body.h"

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

namespace {

// A property the parser promised does not hold: a bug, as loud as a crash.
void Require(bool holds) {
  if (!holds) __builtin_trap();
}

std::string_view AsText(ByteView data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}

}  // namespace

void VaultJsonBody(ByteView data) {
  std::string_view body = AsText(data);
  auto name = ParseNameRequest(body, "VAULT");
  Require(name.ok() || name.status().code() == StatusCode::kInvalidArgument);
  auto seed = ParseSeedRegistrationRequest(body);
  if (seed.ok()) {
    Require(IsEntityName(seed->storage_account) && IsEntityName(seed->container));
    Require(seed->since_ns >= 0);
  } else {
    Require(seed.status().code() == StatusCode::kInvalidArgument);
  }
  // A vault's backup policy: what the vault accepts it stores re-encoded, and
  // the agents read back the same policy, which compiles and keeps something.
  auto policy = ParseVaultPolicy(body);
  if (policy.ok()) {
    std::string stored = EncodeVaultPolicy(*policy);
    auto again = ParseVaultPolicy(stored);
    Require(again.ok() && EncodeVaultPolicy(*again) == stored);
    auto compiled = CompileRetentionRules(policy->rules, RuleNames::kJson);
    Require(compiled.ok() && !compiled->empty());
  } else {
    Require(policy.status().code() == StatusCode::kInvalidArgument);
  }
  auto prune = ParsePruneReportRequest(body);
  Require(prune.ok() || prune.status().code() == StatusCode::kInvalidArgument);
}

void ImportJobBody(ByteView data) {
  std::string_view body = AsText(data);
  auto create = ParseCreateJobRequest(body);
  if (create.ok()) {
    Require(IsEntityName(create->name) && IsEntityName(create->storage_account) &&
            IsEntityName(create->container));
    Require(create->drives.size() <= kMaxJobDrives);
    for (size_t i = 0; i < create->drives.size(); ++i) {
      Require(IsEntityName(create->drives[i].drive_id));
      for (size_t j = 0; j < i; ++j)
        Require(create->drives[j].drive_id != create->drives[i].drive_id);
    }
    // The vault stores and serves what it accepted: encoding must not throw.
    ImportJob job;
    job.name = create->name;
    job.public_key = create->public_key;
    job.drives = create->drives;
    Require(ParseImportJob(EncodeImportJob(job)).ok());
  } else {
    Require(create.status().code() == StatusCode::kInvalidArgument);
  }
  auto ship = ParseShipJobRequest(body);
  if (ship.ok()) {
    Require(NormalizeTrackingNumber(ship->tracking_number) == ship->tracking_number);
    Require(!ship->tracking_number.empty() && ship->tracking_number.size() <= kMaxTrackingNumber);
  }
  auto state = ParseJobStateRequest(body);
  if (state.ok()) Require(ParseJobState(JobStateName(state->state)).ok());
  auto drive = ParseDriveUpdateRequest(body);
  if (drive.ok() && drive->percent_complete)
    Require(*drive->percent_complete >= 0 && *drive->percent_complete <= 100);
}

void DiskLabel(ByteView data) {
  auto label = ParseDiskLabel(data);
  if (!label.ok()) return;
  // What ingest believes is what diskprep would write again.
  Bytes encoded = EncodeDiskLabel(*label);
  auto again = ParseDiskLabel(encoded);
  Require(again.ok() && again->job == label->job && again->drive_id == label->drive_id);
  for (const std::string* field : {&label->job, &label->drive_id}) {
    Require(field->size() <= 200);  // kMaxLabelField, disk_manifest.cc
    for (char c : *field) Require(c >= 0x21 && c <= 0x7e);
  }
}

void TreeWalk(ByteView data) {
  std::vector<ByteView> blobs;
  size_t start = 0;
  for (size_t i = 0; i <= data.size() && blobs.size() < 64; ++i) {
    if (i == data.size() || data[i] == 0) {
      blobs.push_back(data.subspan(start, i - start));
      start = i + 1;
    }
  }
  // Each blob is parsed once: a walk loads the same trees again and again
  // (shared and looping subtrees), and what is fuzzed here is the walk.
  std::vector<std::optional<Result<Tree>>> parsed(blobs.size());
  auto load = [&](const Id& id) -> Result<Tree> {
    if (id.bytes[0] != 0) return Status::NotFound("no tree " + id.Hex());
    auto& tree = parsed[id.bytes[31] % blobs.size()];
    if (!tree) tree = ParseTree(blobs[id.bytes[31] % blobs.size()]);
    return *tree;
  };
  // Trees may share subtrees (and here, unlike in a repository, form cycles):
  // the walk is bounded by its depth limit, the fuzz run by a node budget.
  std::atomic<bool> cancel{false};
  size_t nodes = 0, max_depth = 0, path_bytes = 0;
  TreeWalkCallbacks callbacks;
  callbacks.enter = [&](const std::string&, const Id&, size_t depth) {
    max_depth = std::max(max_depth, depth);
    return true;
  };
  callbacks.node = [&](const std::string& path, const Node& node) {
    Require(!path.empty() && path[0] == '/');
    Require(node.name.find('/') == std::string::npos && node.name != "." && node.name != "..");
    // Paths grow with depth: bound the bytes too, so that one input costs
    // milliseconds, not seconds, and the fuzzer explores.
    path_bytes += path.size();
    if (++nodes >= 10000 || path_bytes >= (8u << 20)) cancel = true;
    return true;
  };
  callbacks.tree_error = [&](const std::string&, const Id&, const Status& status) {
    Require(!status.ok());
  };
  Status status = WalkTrees(load, Id{}, callbacks, &cancel);
  Require(status.ok() || status.code() == StatusCode::kInterrupted);
  Require(max_depth <= kMaxTreeDepth + 1);
}

}  // namespace ferry::fuzz
