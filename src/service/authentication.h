// The authentication middleware of the vault's router: the client's protocol
// version (426 client_too_old) and its bearer token (401 unauthorized), looked
// up by its SHA-256 in the MetadataStore. The token's role, and for machine
// tokens its vault and machine, go into the request's context.
#pragma once

#include <httplib.h>

#include <optional>

#include "service/metadata_store.h"

namespace ferry {

constexpr int kVaultProtocol = 1;
constexpr int kVaultMinClientProtocol = 1;

// On failure the response is filled in and nullopt is returned. The token is
// never logged, and a wrong one is answered like a missing one.
std::optional<TokenRecord> Authenticate(MetadataStore& store, const httplib::Request& request,
                                        httplib::Response& response);

}  // namespace ferry
