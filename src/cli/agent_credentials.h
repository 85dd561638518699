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

// The machine's repository in the vault, after checking protocol versions.
Result<std::unique_ptr<Backend>> OpenAgentBackend(const AgentCredentials& credentials);

}  // namespace ferry
