#include "cli/agent_credentials.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "storage/http_backend.h"
#include "storage/retry_backend.h"
#include "util/file_util.h"

namespace ferry {

Result<AgentCredentials> LoadAgentCredentials(const std::string& path) {
  auto bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status().WithContext("agent credentials");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077))
    return Status::PermissionDenied("agent credentials " + path +
                                    " can be read by other users; chmod 600 it");
  auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  AgentCredentials c;
  if (j.is_object()) {
    c.server = j.value("server", "");
    c.vault = j.value("vault", "");
    c.machine = j.value("machine", "");
    c.token = j.value("token", "");
    c.ca_file = j.value("ca_file", "");
  }
  if (c.server.empty() || c.vault.empty() || c.machine.empty() || c.token.empty())
    return Status::InvalidArgument("agent credentials " + path +
                                   " must be JSON with server, vault, machine and token");
  return c;
}

Status SaveAgentCredentials(const std::string& path, const AgentCredentials& c) {
  nlohmann::json j = {
      {"server", c.server}, {"vault", c.vault}, {"machine", c.machine}, {"token", c.token}};
  if (!c.ca_file.empty()) j["ca_file"] = c.ca_file;
  return WriteFileAtomic(path, AsBytes(j.dump(2) + "\n"), 0600);
}

Result<std::string> LoadAgentRepositoryId(const std::string& path) {
  ASSIGN_OR_RETURN(Bytes bytes, ReadWholeFile(path));
  auto j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (!j.is_object() || !j.contains("repository_id")) return std::string();
  if (!j["repository_id"].is_string())
    return Status::InvalidArgument("agent credentials " + path + ": repository_id is not a string");
  return j["repository_id"].get<std::string>();
}

Status RecordRepositoryInAgentFile(const std::string& path, const std::string& repository_id) {
  // Re-read the raw JSON rather than SaveAgentCredentials(Load…): fields this
  // version does not know must survive.
  ASSIGN_OR_RETURN(Bytes bytes, ReadWholeFile(path));
  auto j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (!j.is_object()) return Status::InvalidArgument("agent credentials " + path + " is not JSON");
  j["repository_id"] = repository_id;
  return WriteFileAtomic(path, AsBytes(j.dump(2) + "\n"), 0600)
      .WithContext("recording the repository's ID in " + path);
}

Result<std::unique_ptr<Backend>> OpenAgentBackend(const AgentCredentials& c) {
  HttpClientOptions options;
  options.server = c.server;
  options.token = c.token;
  options.ca_file = c.ca_file;
  options.label = "vault " + c.vault + ", machine " + c.machine;
  // One retry policy for every backend: RetryBackend's, not the client's.
  options.retry_seconds = 0;
  auto backend = std::make_unique<HttpBackend>(options);
  // Carries the first request across a restart of the vault, as every later one.
  RETURN_IF_ERROR(Retrier().Run([&](int) { return backend->CheckVersion(); }));
  return std::unique_ptr<Backend>(std::make_unique<RetryBackend>(std::move(backend)));
}

}  // namespace ferry
