// The vault's answers: JSON documents, and errors as {"error": {"code",
// "message"}} (docs/protocol.md, "Errors"), with the mapping from a Status of
// the layers below to an HTTP status in one place.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "util/status.h"

namespace ferry {

void SendJson(httplib::Response& response, int status, const nlohmann::json& body);
void SendError(httplib::Response& response, int status, const std::string& code,
               const std::string& message);
// NotFound 404, AlreadyExists 409, InvalidArgument 400, PermissionDenied 403,
// NoSpace 507; anything else is 500 with the details in the vault's log only.
void SendStatus(httplib::Response& response, const Status& status);

}  // namespace ferry
