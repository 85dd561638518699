#include "service/authentication.h"

#include <cstdlib>

#include "service/response.h"
#include "service/token.h"

namespace ferry {

std::optional<TokenRecord> Authenticate(MetadataStore& store, const httplib::Request& request,
                                        httplib::Response& response) {
  if (request.has_header("Ferry-Protocol")) {
    int version = std::atoi(request.get_header_value("Ferry-Protocol").c_str());
    if (version < kVaultMinClientProtocol) {
      SendError(response, 426, "client_too_old",
                "this vault needs ferry protocol " + std::to_string(kVaultMinClientProtocol) +
                    " or newer; upgrade the agent to ferry 0.1.0 or later");
      return std::nullopt;
    }
  }
  std::string header = request.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.rfind(prefix, 0) != 0) {
    SendError(response, 401, "unauthorized", "missing bearer token");
    return std::nullopt;
  }
  std::string token = header.substr(prefix.size());
  auto record = LooksLikeToken(token) ? store.FindToken(HashToken(token))
                                      : Result<TokenRecord>(Status::NotFound("bad token"));
  if (!record.ok()) {
    SendError(response, 401, "unauthorized", "unknown token");
    return std::nullopt;
  }
  return *record;
}

}  // namespace ferry
