// RequestContext: what the router and its middleware learned about one
// request, handed to the route's handler: the path parameters by name, the
// caller's token (its role, and for machine tokens its vault and machine),
// and the body, read within its limit unless the route streams it.
#pragma once

#include <httplib.h>

#include <map>
#include <optional>
#include <string>

#include "service/metadata_store.h"

namespace ferry {

struct RequestContext {
  RequestContext(const httplib::Request& request, httplib::Response& response)
      : request(request), response(response) {}

  const httplib::Request& request;
  httplib::Response& response;
  // The route's pattern ("/vault/v1/vaults/{vault}"), as metrics name it.
  std::string route;
  std::map<std::string, std::string> params;
  // Set by the authentication middleware on every route that needs a token;
  // handlers of such routes may rely on it.
  std::optional<TokenRecord> token;
  // The body of a route that does not stream it (docs/protocol.md: at most
  // 64 MiB); empty when there was none.
  std::string body;
  // The body of a streaming route (object uploads), not yet read; null when
  // the request has none.
  const httplib::ContentReader* reader = nullptr;

  // REQUIRES: the route's pattern has {name}.
  const std::string& Param(const std::string& name) const { return params.at(name); }
  // REQUIRES: the route needs a token.
  const TokenRecord& Token() const { return *token; }
};

}  // namespace ferry
