#include "format/staging_info.h"

#include "format/json_util.h"

namespace ferry {

namespace {
constexpr int kStagingFormat = 1;
}

Bytes EncodeStagingInfo(const StagingInfo& info) {
  nlohmann::json document = {{"format", kStagingFormat},
                             {"job", info.job},
                             {"storage_account", info.storage_account},
                             {"container", info.container},
                             {"repository", info.repository},
                             {"server", info.server},
                             {"vault", info.vault},
                             {"machine", info.machine}};
  std::string text = document.dump(2) + "\n";
  return Bytes(text.begin(), text.end());
}

Result<StagingInfo> ParseStagingInfo(ByteView json) {
  const std::string what = kStagingInfoFile;
  ASSIGN_OR_RETURN(nlohmann::json document, ParseJson(json, what));
  if (!document.is_object()) return Status::Corruption(what + " is not a JSON object");
  // value("format", 0) would throw on a "format" that is not a number (found by fuzz_staging_info).
  auto format = document.find("format");
  if (format == document.end() || !format->is_number_integer() || *format != kStagingFormat)
    return Status::Corruption(what + " is not a staging description of format 1");
  StagingInfo info;
  for (auto [key, field] : {std::pair{"job", &info.job},
                            {"storage_account", &info.storage_account},
                            {"container", &info.container},
                            {"repository", &info.repository},
                            {"server", &info.server},
                            {"vault", &info.vault},
                            {"machine", &info.machine}}) {
    auto it = document.find(key);
    if (it == document.end() || !it->is_string() || it->get<std::string>().empty())
      return Status::Corruption(what + ": field '" + key + "' is missing or empty");
    *field = it->get<std::string>();
  }
  return info;
}

}  // namespace ferry
