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
    c.version = j.at("version").get<uint32_t>();
    if (c.version != kRepositoryFormatVersion)
      return Status::Unsupported("repository format version " + std::to_string(c.version) +
                                 " is not supported by this ferry (it reads version 1)");
    ASSIGN_OR_RETURN(c.id, GetId(j, "id"));
    const auto& chunker = j.at("chunker");
    c.chunker.min_size = chunker.at("min").get<uint32_t>();
    c.chunker.average_size = chunker.at("average").get<uint32_t>();
    c.chunker.max_size = chunker.at("max").get<uint32_t>();
    RETURN_IF_ERROR(c.chunker.Validate());
    c.pack_size = j.at("pack_size").get<uint32_t>();
    c.compression_level = j.at("compression_level").get<int>();
    if (c.pack_size < (1u << 20) || c.pack_size > (128u << 20))
      return Status::Corruption("config pack_size out of range");
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("config: ") + e.what());
  }
  return c;
}

}  // namespace ferry
