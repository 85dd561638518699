// Helpers for the JSON encodings (trees, snapshots, config, key files):
// byte strings that may not be UTF-8 (file names) and checked field access
// that turns a malformed document into a Corruption status, not an exception.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "util/bytes.h"
#include "util/id.h"
#include "util/status.h"

namespace ferry {

bool IsValidUtf8(std::string_view text);

// Stores `value` under `key` when it is UTF-8, else base64 under `key + "_b64"`.
void PutByteString(nlohmann::json& object, const std::string& key, const std::string& value);
// Reads what PutByteString wrote; missing → empty string.
Result<std::string> GetByteString(const nlohmann::json& object, const std::string& key);

// Parses JSON text; syntax errors become Corruption naming `what`.
Result<nlohmann::json> ParseJson(ByteView text, const std::string& what);

Result<Id> GetId(const nlohmann::json& object, const std::string& key);

// Integer fields that must be JSON integers within range. nlohmann's get<T>()
// casts whatever number it finds: a fraction or 1e300 into an integer type is
// undefined behaviour (UBSan, found by fuzzing tree walks), -1 into uint32_t
// wraps. Missing, another type, a fraction or out of range → Corruption.
Result<int64_t> GetInteger(const nlohmann::json& object, const std::string& key);
Result<uint64_t> GetUnsigned(const nlohmann::json& object, const std::string& key,
                             uint64_t max = UINT64_MAX);

}  // namespace ferry
