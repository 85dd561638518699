#include "format/disk_manifest.h"

#include <utility>

#include "crypto/random.h"
#include "format/json_util.h"

namespace ferry {

namespace {

constexpr int kManifestFormat = 1;
constexpr size_t kMaxLabelField = 200;

Result<std::string> GetString(const nlohmann::json& object, const std::string& key,
                              const std::string& what) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string() || it->get<std::string>().empty())
    return Status::Corruption(what + ": field '" + key + "' is missing or not a string");
  return it->get<std::string>();
}

Result<int64_t> GetInteger(const nlohmann::json& object, const std::string& key,
                           const std::string& what) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer())
    return Status::Corruption(what + ": field '" + key + "' is missing or not an integer");
  return it->get<int64_t>();
}

// A JSON object of format 1: both files on a disk start this way.
Result<nlohmann::json> ParseVersionedObject(ByteView json, const std::string& what) {
  ASSIGN_OR_RETURN(nlohmann::json document, ParseJson(json, what));
  if (!document.is_object()) return Status::Corruption(what + " is not a JSON object");
  ASSIGN_OR_RETURN(int64_t format, GetInteger(document, "format", what));
  if (format != kManifestFormat)
    return Status::Corruption(what + " has format " + std::to_string(format) +
                              "; this ferry reads format 1");
  return document;
}

}  // namespace

std::string ManifestFilePath(const Id& id) {
  std::string hex = id.Hex();
  return "data/" + hex.substr(0, 2) + "/" + hex;
}

bool IsPackPrefix(const std::string& name) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  return name.size() == 2 && hex(name[0]) && hex(name[1]);
}

Bytes EncodeDiskLabel(const DiskLabel& label) {
  nlohmann::json document = {
      {"format", kManifestFormat}, {"job", label.job}, {"drive_id", label.drive_id}};
  std::string text = document.dump(2) + "\n";
  return Bytes(text.begin(), text.end());
}

Result<DiskLabel> ParseDiskLabel(ByteView json) {
  const std::string what = std::string("disk label ") + kDiskLabelFile;
  ASSIGN_OR_RETURN(nlohmann::json document, ParseVersionedObject(json, what));
  DiskLabel label;
  ASSIGN_OR_RETURN(label.job, GetString(document, "job", what));
  ASSIGN_OR_RETURN(label.drive_id, GetString(document, "drive_id", what));
  for (const auto& [key, value] : {std::pair{"job", &label.job}, {"drive_id", &label.drive_id}}) {
    bool printable = value->size() <= kMaxLabelField;
    for (char c : *value) printable = printable && c >= 0x21 && c <= 0x7e;
    if (!printable)
      return Status::Corruption(what + ": field '" + key +
                                "' is not up to 200 printable characters without spaces");
  }
  return label;
}

Bytes EncodeDiskManifest(const DiskManifest& manifest) {
  nlohmann::json files = nlohmann::json::array();
  for (const ManifestFile& file : manifest.files)
    files.push_back({{"id", file.id.Hex()}, {"size", file.size}});
  // nlohmann::json orders keys alphabetically, so the encoding is deterministic.
  nlohmann::json document = {{"format", kManifestFormat},
                             {"job", manifest.job},
                             {"storage_account", manifest.storage_account},
                             {"container", manifest.container},
                             {"repository", manifest.repository},
                             {"drive_id", manifest.drive_id},
                             {"disk_number", manifest.disk_number},
                             {"disk_count", manifest.disk_count},
                             {"files", files}};
  std::string text = document.dump(1) + "\n";
  return Bytes(text.begin(), text.end());
}

Result<DiskManifest> ParseDiskManifest(ByteView json) {
  const std::string what = std::string("manifest ") + kManifestFile;
  ASSIGN_OR_RETURN(nlohmann::json document, ParseVersionedObject(json, what));
  DiskManifest manifest;
  ASSIGN_OR_RETURN(manifest.job, GetString(document, "job", what));
  ASSIGN_OR_RETURN(manifest.storage_account, GetString(document, "storage_account", what));
  ASSIGN_OR_RETURN(manifest.container, GetString(document, "container", what));
  ASSIGN_OR_RETURN(manifest.repository, GetString(document, "repository", what));
  ASSIGN_OR_RETURN(manifest.drive_id, GetString(document, "drive_id", what));
  ASSIGN_OR_RETURN(int64_t number, GetInteger(document, "disk_number", what));
  ASSIGN_OR_RETURN(int64_t count, GetInteger(document, "disk_count", what));
  if (count < 1 || count > 10000 || number < 1 || number > count)
    return Status::Corruption(what + ": disk " + std::to_string(number) + " of " +
                              std::to_string(count) + " is not a disk of a set");
  manifest.disk_number = static_cast<int>(number);
  manifest.disk_count = static_cast<int>(count);
  auto files = document.find("files");
  if (files == document.end() || !files->is_array())
    return Status::Corruption(what + ": field 'files' is missing or not a list");
  if (files->size() > kMaxManifestFiles)
    return Status::Corruption(what + " lists " + std::to_string(files->size()) + " files");
  uint64_t total = 0;
  for (const auto& entry : *files) {
    if (!entry.is_object()) return Status::Corruption(what + ": a file entry is not an object");
    ManifestFile file;
    ASSIGN_OR_RETURN(file.id, GetId(entry, "id"));
    auto size = entry.find("size");
    if (size == entry.end() || !size->is_number_unsigned())
      return Status::Corruption(what + ": file " + file.id.Hex() + " has no size");
    file.size = size->get<uint64_t>();
    if (file.size > kMaxDiskBytes - total)
      return Status::Corruption(what + ": its files' sizes add up to more than any disk holds");
    total += file.size;
    manifest.files.push_back(file);
  }
  return manifest;
}

std::string NewDriveId() {
  Bytes random = RandomBytes(6);
  return "FD-" + HexEncode(random);
}

}  // namespace ferry
