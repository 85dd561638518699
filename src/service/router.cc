#include "service/router.h"

#include "service/access_log.h"
#include "service/response.h"

namespace ferry {

namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  // "/a/b/" is {"a", "b", ""}: a trailing slash is an empty last segment,
  // which only a pattern ending in "/" matches (object listings).
  std::vector<std::string> segments;
  size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  for (;;) {
    size_t slash = path.find('/', start);
    segments.push_back(path.substr(start, slash == std::string::npos ? slash : slash - start));
    if (slash == std::string::npos) return segments;
    start = slash + 1;
  }
}

bool IsParameter(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

Access Access::Public() { return Access(false, nullptr); }
Access Access::AnyToken() { return Access(true, nullptr); }
Access Access::Token(Rule rule) { return Access(true, std::move(rule)); }

Access Access::Bearer(std::function<bool(const httplib::Request&)> admit) {
  Access access(false, nullptr);
  access.admit_ = std::move(admit);
  return access;
}

Access Access::Admin() {
  return Token([](const TokenRecord& token) {
    return token.kind == TokenKind::kAdmin ? Status::Ok()
                                           : Status::PermissionDenied("this needs the admin token");
  });
}

Status RequireMachineToken(const TokenRecord& token) {
  return token.machine
             ? Status::Ok()
             : Status::PermissionDenied("the admin token has no repository; use a machine token");
}

Access Access::Machine() { return Token(RequireMachineToken); }

void Router::Add(const std::string& method, const std::string& pattern, Access access,
                 Handler handler, Body body) {
  routes_.push_back(
      {method, pattern, SplitPath(pattern), std::move(access), std::move(handler), body});
}

bool Router::Match(const Route& route, const std::vector<std::string>& path,
                   std::map<std::string, std::string>* params) {
  if (route.segments.size() != path.size()) return false;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& segment = route.segments[i];
    if (IsParameter(segment)) {
      if (path[i].empty()) return false;
      if (params) (*params)[segment.substr(1, segment.size() - 2)] = path[i];
    } else if (segment != path[i]) {
      return false;
    }
  }
  return true;
}

void Router::Install(httplib::Server& server) {
  // httplib's own routing only hands every request to Dispatch. Bodies of
  // POST, PUT and DELETE come unread (ContentReader) so that object uploads
  // stream and other bodies are read within kMaxJsonBody.
  const std::string any = ".*";
  auto read = [this](const httplib::Request& request, httplib::Response& response) {
    Dispatch(request, response, nullptr);
  };
  auto stream = [this](const httplib::Request& request, httplib::Response& response,
                       const httplib::ContentReader& reader) {
    Dispatch(request, response, &reader);
  };
  server.Get(any, read);
  server.Post(any, stream);
  server.Post(any, read);
  server.Put(any, stream);
  server.Put(any, read);
  server.Delete(any, stream);
  server.Delete(any, read);
  server.Patch(any, stream);
  server.Patch(any, read);
  server.Options(any, read);
}

bool Router::ReadBody(RequestContext& context) const {
  if (context.reader == nullptr) {
    context.body = context.request.body;
  } else {
    bool too_large = false;
    (*context.reader)([&](const char* data, size_t size) {
      if (context.body.size() + size > kMaxJsonBody) {
        too_large = true;
        return false;
      }
      context.body.append(data, size);
      return true;
    });
    if (too_large) {
      SendError(context.response, 413, "too_large",
                "request bodies other than objects are at most 64 MiB");
      return false;
    }
    context.reader = nullptr;
  }
  RequestTally::Current().bytes_in += context.body.size();
  return true;
}

void Router::Dispatch(const httplib::Request& request, httplib::Response& response,
                      const httplib::ContentReader* reader) const {
  std::vector<std::string> path = SplitPath(request.path);
  std::string method = request.method == "HEAD" ? "GET" : request.method;
  const Route* found = nullptr;
  std::string allowed;
  for (const Route& route : routes_) {
    if (!Match(route, path, nullptr)) continue;
    if (route.method == method && !found) found = &route;
    if (allowed.find(route.method) == std::string::npos)
      allowed += (allowed.empty() ? "" : ", ") + route.method;
  }
  if (!found) {
    if (allowed.empty()) return SendError(response, 404, "not_found", "no such endpoint");
    if (allowed.find("GET") != std::string::npos) allowed += ", HEAD";
    response.set_header("Allow", allowed);
    return SendError(response, 405, "method_not_allowed",
                     request.method + " is not allowed here (allowed: " + allowed + ")");
  }
  RequestContext context(request, response);
  context.route = found->pattern;
  RequestTally::Current().route = found->pattern;
  Match(*found, path, &context.params);
  if (!found->access.Admits(request))
    return SendError(response, 401, "unauthorized", "missing or unknown bearer token");
  if (found->access.needs_token()) {
    context.token = authenticator_(request, response);
    if (!context.token) return;
    Status allowed_here = found->access.Check(*context.token);
    if (!allowed_here.ok()) return SendError(response, 403, "forbidden", allowed_here.message());
  }
  context.reader = reader;
  if (found->body == Body::kRead && !ReadBody(context)) return;
  found->handler(context);
}

}  // namespace ferry
