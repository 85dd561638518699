// What a client or a load balancer asks before anything else: the vault's
// protocol version (docs/protocol.md, "Versions") and its health.
#include <nlohmann/json.hpp>

#include "service/authentication.h"
#include "service/handlers.h"
#include "service/response.h"

namespace ferry {

void AddHealthRoutes(Router& router, VaultState& state) {
  router.Add("GET", "/vault/v1/version", Access::Public(), [](RequestContext& context) {
    SendJson(context.response, 200,
             {{"server", "ferry 0.1.0"},
              {"protocol", kVaultProtocol},
              {"min_client_protocol", kVaultMinClientProtocol}});
  });
  // For load balancers and systemd: 200 while this server takes requests and
  // its database answers, 503 once a shutdown has begun (take it out of the
  // pool) or when the database does not answer.
  router.Add("GET", "/healthz", Access::Public(), [&state](RequestContext& context) {
    if (state.stopping) return SendJson(context.response, 503, {{"status", "stopping"}});
    // A lookup that finds nothing proves the database answers.
    auto probe = state.store().FindVault("");
    if (!probe.ok() && !probe.status().IsNotFound()) {
      std::fprintf(stderr, "health check: %s\n", probe.status().ToString().c_str());
      return SendJson(context.response, 503, {{"status", "database unavailable"}});
    }
    SendJson(context.response, 200, {{"status", "ok"}});
  });
}

}  // namespace ferry
