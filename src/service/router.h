// Router: the vault's routes, as restic's rest-server builds its mux. A route
// is a method, a path pattern whose {name} segments match one non-empty path
// segment each, who may call it (Access), and a handler. Dispatch runs the
// middleware in order before the handler:
//   1. route lookup: no pattern matches the path: 404 not_found; a pattern
//      matches but not for this method: 405 method_not_allowed with Allow;
//   2. authentication (service/authentication.h) on every route that needs a
//      token: the client's protocol version, the bearer token, then the
//      route's Access rule, so that handlers never repeat a check;
//   3. the body, read whole up to kMaxJsonBody unless the route streams it
//      (413 too_large past it).
// The access log and metrics (service/access_log.h) see every request,
// including those the router never receives (refused before routing).
#pragma once

#include <httplib.h>

#include <functional>
#include <string>
#include <vector>

#include "service/metadata_store.h"
#include "service/request_context.h"
#include "util/status.h"

namespace ferry {

// Request bodies other than objects are read whole into memory. The largest
// is a seed's pack list (~100 bytes a pack): 64 MiB lists a seed of 10 TB.
constexpr uint64_t kMaxJsonBody = 64ull << 20;

// Who may call a route.
class Access {
 public:
  // A rule says why a token may not call the route (PermissionDenied: 403
  // forbidden with its message), or Ok.
  using Rule = std::function<Status(const TokenRecord&)>;

  // Anyone, without a token (version, health).
  static Access Public();
  // Any valid token.
  static Access AnyToken();
  static Access Admin();
  // A machine's own tokens (machine or maintenance): the routes of its repository.
  static Access Machine();
  // Any valid token that `rule` accepts.
  static Access Token(Rule rule);
  // A bearer token that is not in the MetadataStore (the metrics token):
  // `admit` sees the request; refused requests get 401 unauthorized.
  static Access Bearer(std::function<bool(const httplib::Request&)> admit);

  bool needs_token() const { return needs_token_; }
  Status Check(const TokenRecord& token) const { return rule_ ? rule_(token) : Status::Ok(); }
  bool Admits(const httplib::Request& request) const { return !admit_ || admit_(request); }

 private:
  Access(bool needs_token, Rule rule) : needs_token_(needs_token), rule_(std::move(rule)) {}
  bool needs_token_;
  Rule rule_;
  std::function<bool(const httplib::Request&)> admit_;
};

// The Access::Machine rule, for rules that build on it.
Status RequireMachineToken(const TokenRecord& token);

// Whether a route reads its body before the handler runs or leaves it to the
// handler (RequestContext::reader).
enum class Body { kRead, kStream };

class Router {
 public:
  using Handler = std::function<void(RequestContext&)>;
  // Checks the protocol version and token of a request to a route that needs
  // one; fills in the response and returns nullopt when refused.
  using Authenticator =
      std::function<std::optional<TokenRecord>(const httplib::Request&, httplib::Response&)>;

  explicit Router(Authenticator authenticator) : authenticator_(std::move(authenticator)) {}

  // `method` is GET (which also answers HEAD), POST, PUT or DELETE.
  void Add(const std::string& method, const std::string& pattern, Access access, Handler handler,
           Body body = Body::kRead);

  // Makes this router the handler of every request `server` routes.
  // REQUIRES: the router outlives the server's use of it.
  void Install(httplib::Server& server);

  // Answers one request; `reader` is null when httplib has read the body
  // into request.body already (or there is none).
  void Dispatch(const httplib::Request& request, httplib::Response& response,
                const httplib::ContentReader* reader) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // "{name}" or a literal
    Access access;
    Handler handler;
    Body body;
  };
  static bool Match(const Route& route, const std::vector<std::string>& path,
                    std::map<std::string, std::string>* params);
  bool ReadBody(RequestContext& context) const;

  Authenticator authenticator_;
  std::vector<Route> routes_;
};

}  // namespace ferry
