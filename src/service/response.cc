#include "service/response.h"

#include <cstdio>

namespace ferry {

using nlohmann::json;

void SendJson(httplib::Response& response, int status, const json& body) {
  response.status = status;
  // Messages may quote a request's path, which may hold any bytes (%FF): those
  // are replaced, not thrown about (an exception would be a 500).
  response.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                       "application/json");
}

void SendError(httplib::Response& response, int status, const std::string& code,
               const std::string& message) {
  SendJson(response, status, {{"error", {{"code", code}, {"message", message}}}});
}

void SendStatus(httplib::Response& response, const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return SendError(response, 404, "not_found", status.message());
    case StatusCode::kAlreadyExists:
      return SendError(response, 409, "conflict", status.message());
    case StatusCode::kInvalidArgument:
      return SendError(response, 400, "bad_request", status.message());
    case StatusCode::kPermissionDenied:
      return SendError(response, 403, "forbidden", status.message());
    case StatusCode::kNoSpace:
      // Permanent for the client (no retry for minutes); the details, with
      // the vault's own paths, are for the vault's log only.
      std::fprintf(stderr, "out of space: %s\n", status.ToString().c_str());
      return SendError(response, 507, "out_of_space", "the vault is out of space");
    default:
      std::fprintf(stderr, "internal error: %s\n", status.ToString().c_str());
      return SendError(response, 500, "internal",
                       "internal error (the vault's log has the details)");
  }
}

}  // namespace ferry
