#include "service/request_body.h"

#include <cstdint>
#include <nlohmann/json.hpp>

#include "crypto/signature.h"
#include "util/bytes.h"
#include "util/id.h"

namespace ferry {

namespace {

using nlohmann::json;

std::string Article(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_float:
      return "a fractional number";
    case json::value_t::number_integer:
      return value.get<int64_t>() < 0 ? "a negative number" : "a number";
    case json::value_t::number_unsigned:
      return "a number";
    default:
      return "something else";
  }
}

Status Expected(const std::string& field, const std::string& expected, const json& value) {
  return Status::InvalidArgument(field + ": expected " + expected + ", got " + Article(value));
}

// The body as a JSON object. `shape` shows what was expected, so that even a
// body that is not JSON gets an answer naming the fields.
Result<json> ParseObject(std::string_view body, const std::string& shape) {
  json document = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded())
    return Status::InvalidArgument("the body is not JSON; expected " + shape);
  if (!document.is_object())
    return Status::InvalidArgument("the body is " + Article(document) +
                                   ", not an object; expected " + shape);
  return document;
}

// Text that ends up in events, terminals and reports: no control characters
// (a newline only where `newlines`), at most `max` bytes.
Status CheckText(const std::string& field, const std::string& text, bool newlines,
                 size_t max = kMaxTextField) {
  if (text.size() > max)
    return Status::InvalidArgument(field + ": longer than " + std::to_string(max) + " bytes");
  for (unsigned char c : text)
    if ((c < 0x20 && !(newlines && c == '\n')) || c == 0x7f)
      return Status::InvalidArgument(field + ": contains a control character");
  return Status::Ok();
}

// Reads `field` of `object` into `out`, if present (else leaves it); a field
// that is required must be present.
Status GetString(const json& object, const std::string& prefix, const char* field, std::string* out,
                 bool required) {
  std::string name = prefix + field;
  auto it = object.find(field);
  if (it == object.end()) {
    if (required) return Status::InvalidArgument(name + ": missing");
    return Status::Ok();
  }
  if (!it->is_string()) return Expected(name, "a string", *it);
  *out = it->get<std::string>();
  return Status::Ok();
}

Status GetEntityName(const json& object, const std::string& prefix, const char* field,
                     std::string* out) {
  RETURN_IF_ERROR(GetString(object, prefix, field, out, /*required=*/true));
  if (!IsEntityName(*out))
    return Status::InvalidArgument(prefix + field +
                                   ": must be 1-64 characters of A-Z a-z 0-9 . _ - "
                                   "(not starting with '.')");
  return Status::Ok();
}

Status GetText(const json& object, const char* field, std::string* out, bool required,
               bool newlines) {
  RETURN_IF_ERROR(GetString(object, "", field, out, required));
  return CheckText(field, *out, newlines);
}

Status GetUnsigned(const json& object, const std::string& prefix, const char* field,
                   std::optional<uint64_t>* out) {
  auto it = object.find(field);
  if (it == object.end()) return Status::Ok();
  if (!it->is_number_unsigned()) return Expected(prefix + field, "a non-negative integer", *it);
  *out = it->get<uint64_t>();
  return Status::Ok();
}

Status GetStringList(const json& object, const char* field,
                     std::optional<std::vector<std::string>>* out) {
  auto it = object.find(field);
  if (it == object.end()) return Status::Ok();
  if (!it->is_array()) return Expected(field, "an array of strings", *it);
  std::vector<std::string> list;
  list.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const json& item = (*it)[i];
    std::string name = std::string(field) + "[" + std::to_string(i) + "]";
    if (!item.is_string()) return Expected(name, "a string", item);
    list.push_back(item.get<std::string>());
    // Paths on a disk, escaped by ingest (util/printable_name.h): as long as
    // the disk makes them, so bounded by the body only.
    RETURN_IF_ERROR(CheckText(name, list.back(), /*newlines=*/false, SIZE_MAX));
  }
  *out = std::move(list);
  return Status::Ok();
}

bool IsLowerHex64(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

bool IsEntityName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  for (char c : name)
    if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') && c != '.' &&
        c != '_' && c != '-')
      return false;
  return true;
}

Result<std::string> ParseNameRequest(std::string_view body, const std::string& what) {
  std::string shape = "{\"name\": \"" + what + "\"}";
  ASSIGN_OR_RETURN(json document, ParseObject(body, shape));
  std::string name;
  Status status = GetString(document, "", "name", &name, /*required=*/true);
  if (!status.ok()) return status.WithContext("expected " + shape);
  return name;
}

Result<SeedRegistrationRequest> ParseSeedRegistrationRequest(std::string_view body) {
  ASSIGN_OR_RETURN(json document,
                   ParseObject(body,
                               "{\"storage_account\", \"container\", \"packs\": [{\"id\", "
                               "\"size\"}], \"staging\", \"since_ns\"}"));
  SeedRegistrationRequest request;
  // The packs first: they are the request (and what a body that is no
  // registration at all is told it lacks).
  auto packs = document.find("packs");
  if (packs == document.end())
    return Status::InvalidArgument("packs: missing (an array of {\"id\", \"size\"})");
  if (!packs->is_array()) return Expected("packs", "an array of {\"id\", \"size\"}", *packs);
  request.packs.reserve(packs->size());
  for (size_t i = 0; i < packs->size(); ++i) {
    const json& item = (*packs)[i];
    std::string prefix = "packs[" + std::to_string(i) + "].";
    if (!item.is_object()) return Expected("packs[" + std::to_string(i) + "]", "an object", item);
    std::string id;
    RETURN_IF_ERROR(GetString(item, prefix, "id", &id, /*required=*/true));
    auto parsed = IsLowerHex64(id) ? Id::FromHex(id) : Result<Id>(Status::InvalidArgument(""));
    if (!parsed.ok())
      return Status::InvalidArgument(prefix + "id: must be 64 lowercase hex digits (a pack ID)");
    std::optional<uint64_t> size;
    RETURN_IF_ERROR(GetUnsigned(item, prefix, "size", &size));
    if (!size) return Status::InvalidArgument(prefix + "size: missing (bytes)");
    request.packs.push_back({*parsed, *size});
  }
  RETURN_IF_ERROR(GetEntityName(document, "", "storage_account", &request.storage_account));
  RETURN_IF_ERROR(GetEntityName(document, "", "container", &request.container));
  if (document.contains("staging")) {
    request.staging.emplace();
    RETURN_IF_ERROR(GetString(document, "", "staging", &*request.staging, /*required=*/true));
    RETURN_IF_ERROR(CheckText("staging", *request.staging, /*newlines=*/false));
  }
  if (auto it = document.find("since_ns"); it != document.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0)
      return Expected("since_ns", "a non-negative integer (nanoseconds)", *it);
    request.since_ns = it->get<int64_t>();
  }
  return request;
}

Result<CreateJobRequest> ParseCreateJobRequest(std::string_view body) {
  ASSIGN_OR_RETURN(json document,
                   ParseObject(body,
                               "{\"name\", \"storage_account\", \"container\", \"public_key\", "
                               "\"drives\": [{\"drive_id\", \"bytes\", \"manifest_hash\"}]}"));
  CreateJobRequest request;
  RETURN_IF_ERROR(GetEntityName(document, "", "name", &request.name));
  RETURN_IF_ERROR(GetEntityName(document, "", "storage_account", &request.storage_account));
  RETURN_IF_ERROR(GetEntityName(document, "", "container", &request.container));
  RETURN_IF_ERROR(GetString(document, "", "public_key", &request.public_key, /*required=*/true));
  // Ingest verifies every manifest with this key: one that is not a key would
  // fail every drive at the datacenter, weeks later, instead of here.
  auto key = request.public_key.size() <= 64 ? Base64Decode(request.public_key)
                                             : Result<Bytes>(Status::InvalidArgument(""));
  if (!key.ok() || key->size() != kSigningPublicKeySize)
    return Status::InvalidArgument(
        "public_key: not an Ed25519 public key (base64 of 32 bytes, as ferry diskprep sends)");
  auto drives = document.find("drives");
  if (drives == document.end()) return request;
  if (!drives->is_array())
    return Expected("drives", "an array of {\"drive_id\", \"bytes\", \"manifest_hash\"}", *drives);
  if (drives->size() > kMaxJobDrives)
    return Status::InvalidArgument("drives: more than " + std::to_string(kMaxJobDrives) +
                                   " drives in one job");
  for (size_t i = 0; i < drives->size(); ++i) {
    const json& item = (*drives)[i];
    std::string prefix = "drives[" + std::to_string(i) + "].";
    if (!item.is_object()) return Expected("drives[" + std::to_string(i) + "]", "an object", item);
    DriveRecord drive;
    RETURN_IF_ERROR(GetEntityName(item, prefix, "drive_id", &drive.drive_id));
    std::optional<uint64_t> bytes;
    RETURN_IF_ERROR(GetUnsigned(item, prefix, "bytes", &bytes));
    drive.bytes = bytes.value_or(0);
    RETURN_IF_ERROR(GetString(item, prefix, "manifest_hash", &drive.manifest_hash, false));
    if (!drive.manifest_hash.empty() && !IsLowerHex64(drive.manifest_hash))
      return Status::InvalidArgument(prefix +
                                     "manifest_hash: must be 64 lowercase hex digits (SHA-256)");
    for (const DriveRecord& earlier : request.drives)
      if (earlier.drive_id == drive.drive_id)
        return Status::InvalidArgument(prefix + "drive_id: drive " + drive.drive_id +
                                       " is listed twice");
    request.drives.push_back(std::move(drive));
  }
  return request;
}

Result<ShippingInfo> ParseShipJobRequest(std::string_view body) {
  ASSIGN_OR_RETURN(json document, ParseObject(body,
                                              "{\"carrier\", \"tracking_number\", "
                                              "\"return_address\", \"return_carrier_account\"}"));
  ShippingInfo shipping;
  RETURN_IF_ERROR(GetText(document, "carrier", &shipping.carrier, true, false));
  if (shipping.carrier.empty() || shipping.carrier.size() > 200)
    return Status::InvalidArgument("carrier: must be 1-200 characters (DHL, UPS, FedEx, …)");
  std::string tracking;
  RETURN_IF_ERROR(GetString(document, "", "tracking_number", &tracking, /*required=*/true));
  shipping.tracking_number = NormalizeTrackingNumber(tracking);
  bool valid =
      !shipping.tracking_number.empty() && shipping.tracking_number.size() <= kMaxTrackingNumber;
  for (char c : shipping.tracking_number)
    valid = valid && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-');
  if (!valid)
    return Status::InvalidArgument(
        "tracking_number: must be 1-64 letters, digits and dashes (spaces are ignored)");
  RETURN_IF_ERROR(GetText(document, "return_address", &shipping.return_address, false, true));
  RETURN_IF_ERROR(
      GetText(document, "return_carrier_account", &shipping.return_carrier_account, false, false));
  return shipping;
}

Result<JobStateRequest> ParseJobStateRequest(std::string_view body) {
  ASSIGN_OR_RETURN(json document, ParseObject(body, "{\"state\", \"message\"}"));
  JobStateRequest request;
  std::string state;
  RETURN_IF_ERROR(GetString(document, "", "state", &state, /*required=*/true));
  auto parsed = ParseJobState(state);
  if (!parsed.ok()) return parsed.status().WithContext("state");
  request.state = *parsed;
  RETURN_IF_ERROR(GetText(document, "message", &request.message, false, true));
  return request;
}

Result<DriveUpdateRequest> ParseDriveUpdateRequest(std::string_view body) {
  ASSIGN_OR_RETURN(json document,
                   ParseObject(body,
                               "{\"state\", \"reason\", \"bytes_succeeded\", \"percent_complete\", "
                               "\"missing\", \"corrupt\", \"unexpected\"}"));
  DriveUpdateRequest request;
  if (document.contains("state")) {
    std::string state;
    RETURN_IF_ERROR(GetString(document, "", "state", &state, /*required=*/true));
    auto parsed = ParseDriveState(state);
    if (!parsed.ok()) return parsed.status().WithContext("state");
    request.state = *parsed;
  }
  if (document.contains("reason")) {
    request.reason.emplace();
    RETURN_IF_ERROR(GetText(document, "reason", &*request.reason, true, true));
  }
  RETURN_IF_ERROR(GetUnsigned(document, "", "bytes_succeeded", &request.bytes_succeeded));
  std::optional<uint64_t> percent;
  RETURN_IF_ERROR(GetUnsigned(document, "", "percent_complete", &percent));
  if (percent) {
    if (*percent > 100) return Status::InvalidArgument("percent_complete: must be 0-100");
    request.percent_complete = static_cast<int>(*percent);
  }
  RETURN_IF_ERROR(GetStringList(document, "missing", &request.missing));
  RETURN_IF_ERROR(GetStringList(document, "corrupt", &request.corrupt));
  RETURN_IF_ERROR(GetStringList(document, "unexpected", &request.unexpected));
  return request;
}

namespace {

// An integer count of snapshots: -1 (all) or more, within an int.
Status GetCount(const json& object, const std::string& field, int* out) {
  auto it = object.find(field);
  if (it == object.end()) return Status::Ok();
  if (!it->is_number_integer() || it->get<int64_t>() < -1 || it->get<int64_t>() > 1000000)
    return Expected(field, "a number of snapshots (-1 for all, at most 1000000)", *it);
  *out = static_cast<int>(it->get<int64_t>());
  return Status::Ok();
}

Status GetPolicyText(const json& object, const std::string& field, std::string* out) {
  RETURN_IF_ERROR(GetString(object, "", field.c_str(), out, /*required=*/false));
  return CheckText(field, *out, /*newlines=*/false, kMaxPolicyText);
}

}  // namespace

Result<VaultPolicy> ParseVaultPolicy(std::string_view body) {
  ASSIGN_OR_RETURN(json document, ParseObject(body,
                                              "{\"keep_last\", \"keep_daily\", …, \"keep_within\", "
                                              "\"keep_tags\", \"prune\"}"));
  VaultPolicy policy;
  RetentionRules& rules = policy.rules;
  RETURN_IF_ERROR(GetCount(document, "keep_last", &rules.keep_last));
  for (int b = 0; b < kBucketCount; ++b) {
    std::string name = kBucketNames[b];
    RETURN_IF_ERROR(GetCount(document, "keep_" + name, &rules.keep[b]));
    RETURN_IF_ERROR(GetPolicyText(document, "keep_within_" + name, &rules.keep_within_bucket[b]));
  }
  RETURN_IF_ERROR(GetPolicyText(document, "keep_within", &rules.keep_within));
  std::optional<std::vector<std::string>> tags;
  RETURN_IF_ERROR(GetStringList(document, "keep_tags", &tags));
  if (tags) {
    if (tags->size() > kMaxPolicyTags)
      return Status::InvalidArgument("keep_tags: more than " + std::to_string(kMaxPolicyTags) +
                                     " tags");
    for (size_t i = 0; i < tags->size(); ++i)
      RETURN_IF_ERROR(CheckText("keep_tags[" + std::to_string(i) + "]", (*tags)[i],
                                /*newlines=*/false, kMaxPolicyText));
    rules.keep_tags = std::move(*tags);
  }
  if (auto it = document.find("prune"); it != document.end()) {
    if (!it->is_boolean()) return Expected("prune", "a boolean", *it);
    policy.prune = it->get<bool>();
  }
  ASSIGN_OR_RETURN(RetentionPolicy compiled, CompileRetentionRules(rules, RuleNames::kJson));
  if (compiled.empty())
    return Status::InvalidArgument(
        "keep_*: the policy keeps nothing, so it would forget every snapshot; set keep_last, "
        "keep_daily, keep_within, … ");
  return policy;
}

std::string EncodeVaultPolicy(const VaultPolicy& policy) {
  const RetentionRules& rules = policy.rules;
  json j = json::object();
  if (rules.keep_last) j["keep_last"] = rules.keep_last;
  for (int b = 0; b < kBucketCount; ++b) {
    std::string name = kBucketNames[b];
    if (rules.keep[b]) j["keep_" + name] = rules.keep[b];
    if (!rules.keep_within_bucket[b].empty())
      j["keep_within_" + name] = rules.keep_within_bucket[b];
  }
  if (!rules.keep_within.empty()) j["keep_within"] = rules.keep_within;
  if (!rules.keep_tags.empty()) j["keep_tags"] = rules.keep_tags;
  j["prune"] = policy.prune;
  return j.dump();
}

Result<PruneReportRequest> ParsePruneReportRequest(std::string_view body) {
  ASSIGN_OR_RETURN(json document, ParseObject(body,
                                              "{\"bytes_freed\", \"packs_removed\", "
                                              "\"packs_repacked\", \"bytes_repacked\", "
                                              "\"snapshots_removed\"}"));
  PruneReportRequest report;
  struct Field {
    const char* name;
    uint64_t* out;
    bool required;
  };
  for (const Field& field : {Field{"bytes_freed", &report.bytes_freed, true},
                             Field{"packs_removed", &report.packs_removed, true},
                             Field{"packs_repacked", &report.packs_repacked, false},
                             Field{"bytes_repacked", &report.bytes_repacked, false},
                             Field{"snapshots_removed", &report.snapshots_removed, false}}) {
    std::optional<uint64_t> value;
    RETURN_IF_ERROR(GetUnsigned(document, "", field.name, &value));
    if (!value && field.required)
      return Status::InvalidArgument(std::string(field.name) + ": missing");
    if (value) *field.out = *value;
  }
  return report;
}

}  // namespace ferry
