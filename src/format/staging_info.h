// STAGING/staging.json: what makes a staging directory self-describing, so
// that `ferry diskprep --staging DIR` needs nothing else, even on another
// machine (docs/seeding.md, "Staging"). It never holds a token or a key.
#pragma once

#include <string>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

constexpr char kStagingInfoFile[] = "staging.json";

struct StagingInfo {
  std::string job;
  std::string storage_account;
  std::string container;
  std::string repository;  // repository ID, hex
  std::string server;      // the vault server the snapshots went to
  std::string vault;
  std::string machine;
};

Bytes EncodeStagingInfo(const StagingInfo& info);
Result<StagingInfo> ParseStagingInfo(ByteView json);

}  // namespace ferry
