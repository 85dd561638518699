// The agent credentials file that `ferry machine register --out` writes and
// `ferry --agent FILE` reads: which vault server, vault and machine, and the
// machine's token. Mode 0600: the token is as good as the machine's identity.
#pragma once

#include <memory>
#include <string>

#include "storage/backend.h"
#include "util/status.h"

namespace ferry {

struct AgentCredentials {
  std::string server;
  std::string vault;
  std::string machine;
  std::string token;
  std::string ca_file;  // optional, for https with a private CA
};

Result<AgentCredentials> LoadAgentCredentials(const std::string& path);
Status SaveAgentCredentials(const std::string& path, const AgentCredentials& credentials);

// The agent file's pin (repo/known_repository.h): "repository_id", the ID of
// the repository this machine found in the vault the first time (hex; ""
// until then). Written by RecordRepositoryInAgentFile, never by `machine
// register`, so a new registration starts unpinned (the config directory's
// pin still holds).
Result<std::string> LoadAgentRepositoryId(const std::string& path);
// Sets "repository_id" in the agent file at `path`, keeping every other field
// as it is (atomic rewrite, mode 0600).
Status RecordRepositoryInAgentFile(const std::string& path, const std::string& repository_id);

// The machine's repository in the vault, after checking protocol versions.
Result<std::unique_ptr<Backend>> OpenAgentBackend(const AgentCredentials& credentials);

}  // namespace ferry
