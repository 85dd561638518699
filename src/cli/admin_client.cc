#include "cli/admin_client.h"

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "storage/http_backend.h"
#include "util/file_util.h"

namespace ferry {

void AddAdminFlags(CLI::App& command, AdminFlags& flags) {
  command.add_option("--server", flags.server, "Vault server URL (default http://127.0.0.1:8470)")
      ->envname("FERRY_SERVER");
  command
      .add_option("--admin-token-file", flags.admin_token_file,
                  "File holding the admin token (DATA/admin.token of ferry serve)")
      ->envname("FERRY_ADMIN_TOKEN_FILE");
  command
      .add_option("--ca-file", flags.ca_file,
                  "CA certificate (PEM) to verify an https server with a private CA")
      ->envname("FERRY_CA_FILE");
}

Result<std::string> ReadTokenFile(const std::string& path) {
  ASSIGN_OR_RETURN(Bytes bytes, ReadWholeFile(path));
  std::string token(bytes.begin(), bytes.end());
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  return token;
}

Result<std::string> ReadToken(const std::string& file, const char* env,
                              const std::string& missing) {
  if (!file.empty()) return ReadTokenFile(file);
  if (const char* token = std::getenv(env); token && *token) return std::string(token);
  return Status::InvalidArgument(missing);
}

namespace {
Result<std::string> AdminToken(const AdminFlags& flags) {
  return ReadToken(flags.admin_token_file, "FERRY_ADMIN_TOKEN",
                   "this needs the vault's admin token: set FERRY_ADMIN_TOKEN or pass "
                   "--admin-token-file (ferry serve wrote it to DATA/admin.token)");
}

// Which admin token was refused, and what to check.
std::string RefusedAdminToken(const AdminFlags& flags) {
  std::string which = flags.admin_token_file.empty()
                          ? "the admin token in FERRY_ADMIN_TOKEN"
                          : "the admin token in " + flags.admin_token_file +
                                " (--admin-token-file or FERRY_ADMIN_TOKEN_FILE)";
  return which +
         " was refused: check that it is the admin.token in the --data directory of the "
         "ferry serve at " +
         flags.server;
}
}  // namespace

Result<nlohmann::json> AdminRequest(const AdminFlags& flags, const std::string& method,
                                    const std::string& path, const nlohmann::json& body) {
  ASSIGN_OR_RETURN(std::string token, AdminToken(flags));
  AdminFlags with_hint = flags;
  if (with_hint.refused_token_hint.empty()) with_hint.refused_token_hint = RefusedAdminToken(flags);
  return AdminRequestWithToken(with_hint, token, method, path, body);
}

Result<nlohmann::json> AdminRequestWithToken(const AdminFlags& flags, const std::string& token,
                                             const std::string& method, const std::string& path,
                                             const nlohmann::json& body) {
  HttpClientOptions options;
  options.server = flags.server;
  options.token = token;
  options.ca_file = flags.ca_file;
  options.retry_seconds = 10;
  options.label = "vault server";
  options.unauthorized_hint = flags.refused_token_hint.empty()
                                  ? "the token was refused: check it and --server (FERRY_SERVER)"
                                  : flags.refused_token_hint;
  HttpClient client(options);
  std::string text = body.is_null() ? "" : body.dump();
  HttpRequest request{method, path, AsBytes(text), "", body.is_null() ? "" : "application/json",
                      nullptr};
  ASSIGN_OR_RETURN(HttpResponse response, client.Perform(request));
  if (response.status / 100 != 2) return client.ErrorFor(request, response);
  auto document = nlohmann::json::parse(response.body.begin(), response.body.end(), nullptr, false);
  if (document.is_discarded())
    return Status::Corruption(flags.server + " answered with something that is not JSON");
  return document;
}

}  // namespace ferry
