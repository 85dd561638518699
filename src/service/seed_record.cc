#include "service/seed_record.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ferry {

namespace {

nlohmann::json IdList(const std::vector<Id>& ids) {
  nlohmann::json list = nlohmann::json::array();
  for (const Id& id : ids) list.push_back(id.Hex());
  return list;
}

Result<std::vector<Id>> ParseIdList(const nlohmann::json& document, const char* key) {
  std::vector<Id> ids;
  if (!document.contains(key)) return ids;
  if (!document[key].is_array()) return Status::Corruption(std::string("seed: ") + key);
  for (const auto& item : document[key]) {
    if (!item.is_string()) return Status::Corruption(std::string("seed: ") + key);
    ASSIGN_OR_RETURN(Id id, Id::FromHex(item.get<std::string>()));
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

const char* SeedStateName(SeedState state) {
  switch (state) {
    case SeedState::kAwaiting:
      return "awaiting";
    case SeedState::kAdopting:
      return "adopting";
    case SeedState::kAdopted:
      return "adopted";
    case SeedState::kCleanedUp:
      return "cleaned-up";
  }
  return "?";
}

size_t AddSeedPacks(SeedRecord& seed, const std::vector<SeedPack>& packs) {
  size_t before = seed.packs.size();
  seed.packs.insert(seed.packs.end(), packs.begin(), packs.end());
  auto by_id = [](const SeedPack& a, const SeedPack& b) { return a.id < b.id; };
  std::stable_sort(seed.packs.begin(), seed.packs.end(), by_id);
  seed.packs.erase(std::unique(seed.packs.begin(), seed.packs.end(),
                               [](const SeedPack& a, const SeedPack& b) { return a.id == b.id; }),
                   seed.packs.end());
  return seed.packs.size() - before;
}

std::string EncodeSeedRecord(const SeedRecord& seed) {
  nlohmann::json packs = nlohmann::json::array();
  for (const SeedPack& pack : seed.packs) packs.push_back({pack.id.Hex(), pack.size});
  return nlohmann::json{{"job", seed.job},
                        {"storage_account", seed.storage_account},
                        {"container", seed.container},
                        {"registered_ns", seed.registered_ns},
                        {"since_ns", seed.since_ns},
                        {"staging", seed.staging},
                        {"state", SeedStateName(seed.state)},
                        {"packs", packs},
                        {"adopted_ns", seed.adopted_ns},
                        {"packs_from_container", seed.packs_from_container},
                        {"bytes_from_container", seed.bytes_from_container},
                        {"missing", IdList(seed.missing)},
                        {"corrupt", IdList(seed.corrupt)}}
      .dump();
}

Result<SeedRecord> ParseSeedRecord(const std::string& json) {
  auto document = nlohmann::json::parse(json, nullptr, false);
  if (!document.is_object()) return Status::Corruption("seed record is not a JSON object");
  try {
    SeedRecord seed;
    seed.job = document.at("job").get<std::string>();
    seed.storage_account = document.at("storage_account").get<std::string>();
    seed.container = document.at("container").get<std::string>();
    seed.registered_ns = document.at("registered_ns").get<int64_t>();
    seed.since_ns = document.value("since_ns", seed.registered_ns);
    seed.staging = document.value("staging", "");
    std::string state = document.at("state").get<std::string>();
    bool known = false;
    for (SeedState s :
         {SeedState::kAwaiting, SeedState::kAdopting, SeedState::kAdopted, SeedState::kCleanedUp})
      if (state == SeedStateName(s)) seed.state = s, known = true;
    if (!known) return Status::Corruption("seed record: unknown state " + state);
    for (const auto& pack : document.at("packs")) {
      ASSIGN_OR_RETURN(Id id, Id::FromHex(pack.at(0).get<std::string>()));
      seed.packs.push_back({id, pack.at(1).get<uint64_t>()});
    }
    seed.adopted_ns = document.value("adopted_ns", int64_t{0});
    seed.packs_from_container = document.value("packs_from_container", uint64_t{0});
    seed.bytes_from_container = document.value("bytes_from_container", uint64_t{0});
    ASSIGN_OR_RETURN(seed.missing, ParseIdList(document, "missing"));
    ASSIGN_OR_RETURN(seed.corrupt, ParseIdList(document, "corrupt"));
    return seed;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("seed record: ") + e.what());
  }
}

}  // namespace ferry
