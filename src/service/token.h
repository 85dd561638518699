// Bearer tokens of the vault service: 32 random bytes, hex-encoded. Only their
// SHA-256 is stored, so a stolen database does not grant access.
#pragma once

#include <string>

#include "util/id.h"

namespace ferry {

std::string GenerateToken();
// SHA-256 of the token text; tokens that are not 64 hex digits never match.
Id HashToken(const std::string& token);
bool LooksLikeToken(const std::string& token);

}  // namespace ferry
