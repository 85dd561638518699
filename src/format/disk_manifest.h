// What `ferry diskprep` writes on every shipping disk besides the packs, and
// what `ferry datacenter ingest` checks (docs/seeding.md, "Disks"):
//
//   DISK/ferry-disk.json       label: which job and drive this disk belongs to
//   DISK/data/XX/ID            packs, named by their SHA-256 as in a repository
//   DISK/ferry-manifest.json   the manifest: job, disk n of N, drive ID, files
//   DISK/ferry-manifest.sig    Ed25519 signature over the manifest's exact bytes
//
// Files are listed by ID and size only; their path follows from the ID, so a
// manifest cannot name a path outside the disk's data directory.
#pragma once

#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/id.h"
#include "util/status.h"

namespace ferry {

constexpr char kDiskLabelFile[] = "ferry-disk.json";
constexpr char kManifestFile[] = "ferry-manifest.json";
constexpr char kManifestSignatureFile[] = "ferry-manifest.sig";

// A 16 TB disk of 16 MiB packs holds about a million; more is not a manifest of ours.
constexpr size_t kMaxManifestFiles = 4u << 20;
// EncodeDiskManifest spends at most 118 bytes per file (ID, a 20-digit size,
// indentation): a manifest larger than this is refused before it is read.
constexpr uint64_t kMaxManifestBytes = 512u << 20;
static_assert(kMaxManifestFiles * 118 + 4096 < kMaxManifestBytes);
// The label and the signature are a few hundred bytes.
constexpr uint64_t kMaxLabelBytes = 64u << 10;
// What one disk can hold, far above any real one: listed sizes summing past
// it are a lie (and would overflow a sum).
constexpr uint64_t kMaxDiskBytes = uint64_t{1} << 50;

struct DiskLabel {
  std::string job;
  std::string drive_id;
};

struct ManifestFile {
  Id id;  // the SHA-256 of the file's bytes, and its name
  uint64_t size = 0;
};

struct DiskManifest {
  std::string job;
  std::string storage_account;
  std::string container;
  std::string repository;  // repository ID, hex
  std::string drive_id;
  int disk_number = 0;  // 1-based
  int disk_count = 0;
  std::vector<ManifestFile> files;
};

// "data/3f/3f2a…": where a listed file lives on the disk.
std::string ManifestFilePath(const Id& id);
// True for the name of a data/XX directory: two lowercase hex digits.
bool IsPackPrefix(const std::string& name);

Bytes EncodeDiskLabel(const DiskLabel& label);
Result<DiskLabel> ParseDiskLabel(ByteView json);

// Deterministic JSON (the signature covers these exact bytes).
Bytes EncodeDiskManifest(const DiskManifest& manifest);
// Checks every field; a malformed manifest is Corruption naming the problem.
// The label's job and drive ID are at most 200 bytes of printable ASCII: they
// end up in reports, terminals and URLs.
Result<DiskManifest> ParseDiskManifest(ByteView json);

// A drive ID for a disk without a serial number we can read: "FD-" and 12 hex digits.
std::string NewDriveId();

}  // namespace ferry
