// The vault's administration API (docs/protocol.md, "Administration") for the
// `ferry vault` and `ferry machine` commands: JSON requests with the admin token.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include <CLI/CLI.hpp>

#include "storage/http_client.h"

namespace ferry {

struct AdminFlags {
  std::string server = "http://127.0.0.1:8470";
  std::string admin_token_file;  // else FERRY_ADMIN_TOKEN
  std::string ca_file;           // for https with a private CA
  // Said when the server refuses the token (401): which token it was and
  // what to check. Empty: AdminRequest says it for the admin token.
  std::string refused_token_hint;
};

// A token file's first line (ferry serve's admin.token, an operator token file).
Result<std::string> ReadTokenFile(const std::string& path);
// The token in `file` if one is given, else in the environment variable
// `env`; else InvalidArgument(`missing`), which says how to get one.
Result<std::string> ReadToken(const std::string& file, const char* env, const std::string& missing);

// Adds --server and --admin-token-file to a command.
void AddAdminFlags(CLI::App& command, AdminFlags& flags);

// Sends a request with `token` and returns the JSON answer of a 2xx response.
Result<nlohmann::json> AdminRequestWithToken(const AdminFlags& flags, const std::string& token,
                                             const std::string& method, const std::string& path,
                                             const nlohmann::json& body = nullptr);
// The same with the admin token (--admin-token-file or FERRY_ADMIN_TOKEN).
Result<nlohmann::json> AdminRequest(const AdminFlags& flags, const std::string& method,
                                    const std::string& path, const nlohmann::json& body = nullptr);

}  // namespace ferry
