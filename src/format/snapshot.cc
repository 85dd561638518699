#include "format/snapshot.h"

#include "format/json_util.h"
#include "util/clock.h"

namespace ferry {

Bytes EncodeSnapshot(const Snapshot& s) {
  nlohmann::json j;
  j["time"] = FormatTimeRfc3339(s.time_ns);
  j["tree"] = s.tree.Hex();
  nlohmann::json paths = nlohmann::json::array();
  for (const auto& path : s.paths) {
    nlohmann::json p;
    PutByteString(p, "path", path);
    paths.push_back(std::move(p));
  }
  j["paths"] = std::move(paths);
  PutByteString(j, "hostname", s.hostname);
  PutByteString(j, "username", s.username);
  j["uid"] = s.uid;
  j["gid"] = s.gid;
  j["tags"] = s.tags;
  j["excludes"] = s.excludes;
  if (s.parent) j["parent"] = s.parent->Hex();
  j["incomplete"] = s.incomplete;
  j["program_version"] = s.program_version;
  j["summary"] = {{"files_new", s.summary.files_new},
                  {"files_changed", s.summary.files_changed},
                  {"files_unmodified", s.summary.files_unmodified},
                  {"dirs", s.summary.dirs},
                  {"bytes_total", s.summary.bytes_total},
                  {"bytes_read", s.summary.bytes_read},
                  {"data_added", s.summary.data_added},
                  {"warnings", s.summary.warnings}};
  std::string text = j.dump();
  return Bytes(text.begin(), text.end());
}

Result<Snapshot> ParseSnapshot(ByteView json) {
  ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(json, "snapshot"));
  Snapshot s;
  try {
    if (!ParseTimeRfc3339(j.at("time").get<std::string>(), &s.time_ns))
      return Status::Corruption("snapshot has an invalid time");
    ASSIGN_OR_RETURN(s.tree, GetId(j, "tree"));
    for (const auto& p : j.at("paths")) {
      ASSIGN_OR_RETURN(std::string path, GetByteString(p, "path"));
      s.paths.push_back(std::move(path));
    }
    ASSIGN_OR_RETURN(s.hostname, GetByteString(j, "hostname"));
    ASSIGN_OR_RETURN(s.username, GetByteString(j, "username"));
    // GetUnsigned, not get<uint32_t>(): a fraction or 1e300 cast to an
    // integer is undefined behaviour (json_util.h).
    ASSIGN_OR_RETURN(uint64_t uid, GetUnsigned(j, "uid", UINT32_MAX));
    ASSIGN_OR_RETURN(uint64_t gid, GetUnsigned(j, "gid", UINT32_MAX));
    s.uid = static_cast<uint32_t>(uid);
    s.gid = static_cast<uint32_t>(gid);
    s.tags = j.at("tags").get<std::vector<std::string>>();
    s.excludes = j.value("excludes", std::vector<std::string>{});
    if (j.contains("parent")) {
      ASSIGN_OR_RETURN(Id parent, GetId(j, "parent"));
      s.parent = parent;
    }
    s.incomplete = j.value("incomplete", false);
    s.program_version = j.value("program_version", "");
    if (auto it = j.find("summary"); it != j.end()) {
      const auto& m = *it;
      for (auto [key, field] : {std::pair{"files_new", &s.summary.files_new},
                                {"files_changed", &s.summary.files_changed},
                                {"files_unmodified", &s.summary.files_unmodified},
                                {"dirs", &s.summary.dirs},
                                {"bytes_total", &s.summary.bytes_total},
                                {"bytes_read", &s.summary.bytes_read},
                                {"data_added", &s.summary.data_added},
                                {"warnings", &s.summary.warnings}})
        if (m.contains(key)) {
          ASSIGN_OR_RETURN(*field, GetUnsigned(m, key));
        }
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("snapshot: ") + e.what());
  }
  return s;
}

}  // namespace ferry
