// ferry trust show|accept-repository|accept-missing: what this machine
// remembers about the repository it uses (repo/known_repository.h,
// repo/history_guard.h), and accepting deliberate changes to it.
#include "cli/agent_credentials.h"
#include "cli/commands.h"
#include "util/clock.h"
#include "util/plural.h"

namespace ferry {

namespace {

nlohmann::json IdList(const std::set<Id>& ids) {
  nlohmann::json list = nlohmann::json::array();
  for (const Id& id : ids) list.push_back(id.Hex());
  return list;
}

// Needs no password and no storage: it reads only this machine's state.
int RunShow(const GlobalOptions& global) {
  auto location = LocationFor(global);
  if (!location.ok()) return ReportError(global, location.status());
  std::string state = StateDir(global);
  if (state.empty())
    return ReportError(global, Status::InvalidArgument(
                                   "no configuration directory (set XDG_CONFIG_HOME or HOME, or "
                                   "give --state-dir): this machine remembers nothing"));
  KnownRepositories known(state);
  auto pin = known.Find(*location);
  if (!pin.ok()) return ReportError(global, pin.status());
  std::optional<Id> agent_pin;
  if (!global.agent_file.empty()) {
    auto pinned = LoadAgentRepositoryId(global.agent_file);
    if (!pinned.ok()) return ReportError(global, pinned.status());
    if (!pinned->empty()) {
      auto id = Id::FromHex(*pinned);
      if (!id.ok()) return ReportError(global, id.status().WithContext(global.agent_file));
      agent_pin = *id;
    }
  }
  std::optional<Id> repository_id;
  if (*pin)
    repository_id = (*pin)->repository_id;
  else if (agent_pin)
    repository_id = agent_pin;
  WrittenHistory history;
  std::string history_file;
  if (repository_id) {
    HistoryGuard guard(state, *repository_id);
    history_file = guard.path();
    auto loaded = guard.Load();
    if (!loaded.ok()) return ReportError(global, loaded.status());
    history = std::move(*loaded);
  }

  if (global.json) {
    nlohmann::json out = {{"message_type", "trust"},
                          {"location", location->key},
                          {"description", location->description},
                          {"pinned_id", nullptr},
                          {"pin_file", known.PinPath(*location)},
                          {"agent_file_id", nullptr},
                          {"history_file", history_file},
                          {"snapshots", IdList(history.snapshots)},
                          {"index", IdList(history.indexes)}};
    if (*pin) {
      out["pinned_id"] = (*pin)->repository_id.Hex();
      out["pinned"] = FormatTimeRfc3339((*pin)->pinned_ns);
    }
    if (agent_pin) out["agent_file_id"] = agent_pin->Hex();
    PrintJson(out);
    return kExitOk;
  }
  Say(global, "location:   " + location->description);
  if (*pin)
    Say(global, "repository: " + (*pin)->repository_id.Hex() + " (pinned " +
                    FormatTimeRfc3339((*pin)->pinned_ns) + " in " + known.PinPath(*location) + ")");
  else
    Say(global, "repository: none pinned yet (the next command that opens it pins it)");
  if (!global.agent_file.empty())
    Say(global, "agent file: " + (agent_pin ? agent_pin->Hex() : std::string("none pinned yet")) +
                    " (" + global.agent_file + ")");
  if (!repository_id) return kExitOk;
  Say(global, "written by this machine and still expected: " +
                  Plural(history.snapshots.size(), "snapshot", "snapshots") + ", " +
                  Plural(history.indexes.size(), "index object", "index objects") + " (" +
                  history_file + ")");
  for (const Id& id : history.snapshots) Say(global, "  snapshot " + id.Hex());
  for (const Id& id : history.indexes) Say(global, "  index " + id.Hex());
  return kExitOk;
}

int RunAcceptRepository(const GlobalOptions& global, const std::string& expected) {
  auto repository = OpenRepositoryWith(global, /*load_index=*/false, TrustChecks::kNone);
  if (!repository.ok()) return ReportError(global, repository.status());
  const Id& served = (*repository)->config().id;
  auto location = LocationFor(global);
  if (!location.ok()) return ReportError(global, location.status());
  // The ID from the refusal message, when given, guards against accepting a
  // repository that changed again since the user read it.
  if (!expected.empty() && served.Hex().rfind(expected, 0) != 0)
    return ReportError(
        global, Status::InvalidArgument(location->description + " serves repository " +
                                        served.Hex() + ", not " + expected + ": nothing accepted"));
  PinRepository(global, served);
  if (global.json)
    PrintJson({{"message_type", "repository_accepted"},
               {"id", served.Hex()},
               {"location", location->description}});
  else
    Say(global,
        "this machine now expects repository " + served.Hex() + " at " + location->description);
  return kExitOk;
}

int RunAcceptMissing(const GlobalOptions& global, const std::vector<std::string>& prefixes) {
  std::string state = StateDir(global);
  if (state.empty())
    return ReportError(global, Status::InvalidArgument(
                                   "no configuration directory (set XDG_CONFIG_HOME or HOME, or "
                                   "give --state-dir): this machine remembers nothing"));
  // The pin still holds: accepting what another repository lacks makes no sense.
  auto repository = OpenRepositoryWith(global, /*load_index=*/false, TrustChecks::kPinOnly);
  if (!repository.ok()) return ReportError(global, repository.status());
  HistoryGuard guard(state, (*repository)->config().id);
  auto missing = guard.FindMissing((*repository)->backend());
  if (!missing.ok()) return ReportError(global, missing.status());

  std::vector<MissingObject> accepted;
  if (prefixes.empty()) {
    accepted = *missing;
  } else {
    for (const std::string& prefix : prefixes) {
      const MissingObject* match = nullptr;
      for (const MissingObject& object : *missing) {
        if (prefix.empty() || object.id.Hex().rfind(prefix, 0) != 0) continue;
        if (match)
          return ReportError(global, Status::InvalidArgument("'" + prefix +
                                                             "' names more than one missing "
                                                             "object: give more digits"));
        match = &object;
      }
      if (!match)
        return ReportError(global, Status::InvalidArgument("no missing object matches '" + prefix +
                                                           "' (" + std::to_string(missing->size()) +
                                                           " missing): nothing accepted"));
      accepted.push_back(*match);
    }
  }
  for (ObjectKind kind : {ObjectKind::kSnapshot, ObjectKind::kIndex}) {
    std::vector<Id> ids;
    for (const MissingObject& object : accepted)
      if (object.kind == kind) ids.push_back(object.id);
    if (Status recorded = guard.RecordRemoved(kind, ids); !recorded.ok())
      return ReportError(global, recorded);
  }
  for (const MissingObject& object : accepted) {
    if (global.json)
      PrintJson({{"message_type", "removal_accepted"},
                 {"kind", ObjectLabel(object.kind)},
                 {"id", object.id.Hex()}});
    else
      Say(global, "accepted the removal of " + ObjectLabel(object.kind) + " " + object.id.Hex());
  }
  size_t left = missing->size() - accepted.size();
  if (global.json)
    PrintJson(
        {{"message_type", "summary"}, {"accepted", accepted.size()}, {"still_missing", left}});
  else if (missing->empty())
    Say(global, "nothing this machine wrote is missing");
  else if (left)
    Say(global, Plural(left, "missing object", "missing objects") + " not accepted");
  return kExitOk;
}

}  // namespace

void AddTrustCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  CLI::App* trust = app.add_subcommand(
      "trust", "What this machine remembers about the repository, and accepting changes to it");
  trust->require_subcommand(1);

  CLI::App* show = trust->add_subcommand(
      "show", "The repository ID pinned here and the snapshots and indexes this machine wrote");
  commands.push_back({show, [&global]() -> int { return RunShow(global); }});

  auto expected = std::make_shared<std::string>();
  CLI::App* accept_repository = trust->add_subcommand(
      "accept-repository",
      "Accept that the location now serves another repository (after a deliberate re-init or "
      "restore of the repository)");
  accept_repository->add_option("ID", *expected,
                                "The new repository's ID (or a prefix), as the refusal named it");
  commands.push_back({accept_repository, [&global, expected]() -> int {
                        return RunAcceptRepository(global, *expected);
                      }});

  auto ids = std::make_shared<std::vector<std::string>>();
  CLI::App* accept_missing = trust->add_subcommand(
      "accept-missing",
      "Accept that snapshots or indexes this machine wrote were removed on purpose (all of "
      "the missing ones, or those named)");
  accept_missing->add_option("ID", *ids, "IDs (or prefixes) of the missing objects to accept");
  commands.push_back(
      {accept_missing, [&global, ids]() -> int { return RunAcceptMissing(global, *ids); }});
}

}  // namespace ferry
