#include "format/json_util.h"

namespace ferry {

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t length = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    uint32_t code = length == 1 ? c : c & (0x7f >> length);
    for (size_t k = 1; k < length; ++k) {
      unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next >> 6) != 2) return false;
      code = code << 6 | (next & 0x3f);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF, as JSON must.
    if ((length == 2 && code < 0x80) || (length == 3 && code < 0x800) ||
        (length == 4 && (code < 0x10000 || code > 0x10ffff)) || (code >= 0xd800 && code <= 0xdfff))
      return false;
    i += length;
  }
  return true;
}

void PutByteString(nlohmann::json& object, const std::string& key, const std::string& value) {
  if (IsValidUtf8(value))
    object[key] = value;
  else
    object[key + "_b64"] = Base64Encode(AsBytes(value));
}

Result<std::string> GetByteString(const nlohmann::json& object, const std::string& key) {
  if (auto it = object.find(key); it != object.end()) {
    if (!it->is_string()) return Status::Corruption("field '" + key + "' is not a string");
    return it->get<std::string>();
  }
  if (auto it = object.find(key + "_b64"); it != object.end()) {
    if (!it->is_string()) return Status::Corruption("field '" + key + "_b64' is not a string");
    // Corruption, not Base64Decode's InvalidArgument: the document is what is wrong.
    auto raw = Base64Decode(it->get<std::string>());
    if (!raw.ok()) return Status::Corruption("field '" + key + "_b64': " + raw.status().message());
    return std::string(raw->begin(), raw->end());
  }
  return std::string();
}

Result<nlohmann::json> ParseJson(ByteView text, const std::string& what) {
  nlohmann::json document = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (document.is_discarded()) return Status::Corruption(what + " is not valid JSON");
  return document;
}

Result<Id> GetId(const nlohmann::json& object, const std::string& key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string())
    return Status::Corruption("field '" + key + "' is missing or not a string");
  auto id = Id::FromHex(it->get<std::string>());
  if (!id.ok()) return Status::Corruption("field '" + key + "': " + id.status().message());
  return id;
}

Result<int64_t> GetInteger(const nlohmann::json& object, const std::string& key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer())  // unsigned ones too
    return Status::Corruption("field '" + key + "' is missing or not an integer");
  if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t{INT64_MAX})
    return Status::Corruption("field '" + key + "' is out of range");
  return it->get<int64_t>();
}

Result<uint64_t> GetUnsigned(const nlohmann::json& object, const std::string& key, uint64_t max) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_unsigned())
    return Status::Corruption("field '" + key + "' is missing or not a non-negative integer");
  if (it->get<uint64_t>() > max) return Status::Corruption("field '" + key + "' is out of range");
  return it->get<uint64_t>();
}

}  // namespace ferry
