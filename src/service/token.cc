#include "service/token.h"

#include "crypto/hash.h"
#include "crypto/random.h"
#include "storage/backend.h"

namespace ferry {

std::string GenerateToken() { return HexEncode(RandomBytes(32)); }

Id HashToken(const std::string& token) { return Sha256(AsBytes(token)); }

bool LooksLikeToken(const std::string& token) { return IsObjectId(token); }

}  // namespace ferry
