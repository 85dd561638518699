#include "format/config.h"

#include "format/json_util.h"

namespace ferry {

Bytes EncodeConfig(const RepositoryConfig& c) {
  nlohmann::json j = {{"version", c.version},
                      {"id", c.id.Hex()},
                      {"chunker",
                       {{"min", c.chunker.min_size},
                        {"average", c.chunker.average_size},
                        {"max", c.chunker.max_size}}},
                      {"pack_size", c.pack_size},
                      {"compression_level", c.compression_level}};
  std::string text = j.dump();
  return Bytes(text.begin(), text.end());
}

Result<RepositoryConfig> ParseConfig(ByteView json) {
  ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(json, "config"));
  RepositoryConfig c;
  try {
    // GetUnsigned, not get<uint32_t>(): a fraction or 1e300 cast to an
    // integer is undefined behaviour (json_util.h).
    ASSIGN_OR_RETURN(uint64_t version, GetUnsigned(j, "version", UINT32_MAX));
    c.version = static_cast<uint32_t>(version);
    if (c.version != kRepositoryFormatVersion)
      return Status::Unsupported("repository format version " + std::to_string(c.version) +
                                 " is not supported by this ferry (it reads version 1)");
    ASSIGN_OR_RETURN(c.id, GetId(j, "id"));
    const auto& chunker = j.at("chunker");
    ASSIGN_OR_RETURN(uint64_t min_size, GetUnsigned(chunker, "min", UINT32_MAX));
    ASSIGN_OR_RETURN(uint64_t average_size, GetUnsigned(chunker, "average", UINT32_MAX));
    ASSIGN_OR_RETURN(uint64_t max_size, GetUnsigned(chunker, "max", UINT32_MAX));
    c.chunker.min_size = static_cast<uint32_t>(min_size);
    c.chunker.average_size = static_cast<uint32_t>(average_size);
    c.chunker.max_size = static_cast<uint32_t>(max_size);
    RETURN_IF_ERROR(c.chunker.Validate());
    ASSIGN_OR_RETURN(uint64_t pack_size, GetUnsigned(j, "pack_size", UINT32_MAX));
    c.pack_size = static_cast<uint32_t>(pack_size);
    ASSIGN_OR_RETURN(int64_t level, GetInteger(j, "compression_level"));
    if (level < -131072 || level > 22)  // zstd's range
      return Status::Corruption("config compression_level out of range");
    c.compression_level = static_cast<int>(level);
    if (c.pack_size < (1u << 20) || c.pack_size > (128u << 20))
      return Status::Corruption("config pack_size out of range");
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("config: ") + e.what());
  }
  return c;
}

}  // namespace ferry
