#include "repo/snapshot_filter.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace ferry {

namespace {

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

std::vector<std::string> Sorted(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  return values;
}

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// Newest first; equal times by ID, so that the order never depends on listing order.
bool Newer(const SnapshotEntry& a, const SnapshotEntry& b) {
  if (a.snapshot.time_ns != b.snapshot.time_ns) return a.snapshot.time_ns > b.snapshot.time_ns;
  return b.id < a.id;
}

}  // namespace

bool SnapshotFilter::Matches(const Snapshot& snapshot) const {
  if (!hosts.empty() && !Contains(hosts, snapshot.hostname)) return false;
  if (!tags.empty()) {
    bool any = false;
    for (const std::string& entry : tags) {
      std::vector<std::string> wanted = SplitCommas(entry);
      bool all = std::all_of(wanted.begin(), wanted.end(),
                             [&](const std::string& tag) { return Contains(snapshot.tags, tag); });
      if (all) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  for (const std::string& path : paths)
    if (!Contains(snapshot.paths, path)) return false;
  return true;
}

std::string SnapshotFilter::Describe() const {
  std::vector<std::string> parts;
  if (!hosts.empty()) parts.push_back("host " + Join(hosts, " or "));
  if (!tags.empty()) parts.push_back("tags " + Join(tags, " or "));
  if (!paths.empty()) parts.push_back("paths " + Join(paths, " and "));
  return Join(parts, ", ");
}

std::vector<SnapshotEntry> FilterSnapshots(const std::vector<SnapshotEntry>& snapshots,
                                           const SnapshotFilter& filter) {
  std::vector<SnapshotEntry> kept;
  for (const SnapshotEntry& entry : snapshots)
    if (filter.Matches(entry.snapshot)) kept.push_back(entry);
  return kept;
}

std::vector<SnapshotEntry> LatestSnapshots(const std::vector<SnapshotEntry>& snapshots,
                                           size_t count) {
  std::map<std::pair<std::string, std::vector<std::string>>, std::vector<SnapshotEntry>> groups;
  for (const SnapshotEntry& entry : snapshots)
    groups[{entry.snapshot.hostname, Sorted(entry.snapshot.paths)}].push_back(entry);
  std::vector<SnapshotEntry> kept;
  for (auto& [key, entries] : groups) {
    std::sort(entries.begin(), entries.end(), Newer);
    for (size_t i = 0; i < entries.size() && i < count; ++i) kept.push_back(entries[i]);
  }
  std::sort(kept.begin(), kept.end(),
            [](const SnapshotEntry& a, const SnapshotEntry& b) { return Newer(b, a); });
  return kept;
}

std::vector<SnapshotGroup> GroupSnapshots(const std::vector<SnapshotEntry>& snapshots,
                                          const GroupBy& group_by) {
  using Key = std::tuple<std::string, std::vector<std::string>, std::vector<std::string>>;
  std::map<Key, SnapshotGroup> groups;
  for (const SnapshotEntry& entry : snapshots) {
    Key key{group_by.host ? entry.snapshot.hostname : "",
            group_by.paths ? Sorted(entry.snapshot.paths) : std::vector<std::string>{},
            group_by.tags ? Sorted(entry.snapshot.tags) : std::vector<std::string>{}};
    SnapshotGroup& group = groups[key];
    std::tie(group.host, group.paths, group.tags) = key;
    group.entries.push_back(entry);
  }
  std::vector<SnapshotGroup> result;
  for (auto& [key, group] : groups) {
    std::sort(group.entries.begin(), group.entries.end(),
              [](const SnapshotEntry& a, const SnapshotEntry& b) { return Newer(b, a); });
    result.push_back(std::move(group));
  }
  return result;
}

Result<SnapshotEntry> SelectSnapshotFrom(const std::vector<SnapshotEntry>& snapshots,
                                         const std::string& selector,
                                         const SnapshotFilter& filter) {
  if (selector == "latest") {
    const SnapshotEntry* newest = nullptr;
    for (const SnapshotEntry& entry : snapshots)
      if (filter.Matches(entry.snapshot) && (!newest || Newer(entry, *newest))) newest = &entry;
    if (newest) return *newest;
    if (filter.empty()) return Status::NotFound("the repository has no snapshots yet");
    return Status::NotFound("no snapshot of " + filter.Describe() +
                            " ('ferry snapshots' lists them all)");
  }
  const SnapshotEntry* match = nullptr;
  for (const SnapshotEntry& entry : snapshots) {
    if (entry.id.Hex().rfind(selector, 0) != 0) continue;
    if (match) return Status::InvalidArgument("snapshot prefix '" + selector + "' is ambiguous");
    match = &entry;
  }
  if (!match || selector.empty()) return Status::NotFound("no snapshot matches '" + selector + "'");
  return *match;
}

}  // namespace ferry
