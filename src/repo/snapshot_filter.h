// SnapshotFilter: which snapshots a command considers (--host, --tag,
// --path), and the views `ferry snapshots` gives of them (--latest N per host
// and paths, --group-by), with restic's rules so that a restic user's flags
// select the same snapshots:
//
//   hosts   the snapshot's host is one of them
//   tags    each entry is a comma-separated list ("a,b"): the snapshot has
//           every tag of at least one entry
//   paths   the snapshot has every one of these paths
//
// An empty list does not filter. `latest` (restore, ls, dump, …) is the
// newest snapshot the filter lets through.
#pragma once

#include <string>
#include <vector>

#include "repo/repository.h"
#include "repo/retention_policy.h"

namespace ferry {

struct SnapshotFilter {
  std::vector<std::string> hosts;
  std::vector<std::string> tags;
  std::vector<std::string> paths;

  bool empty() const { return hosts.empty() && tags.empty() && paths.empty(); }
  bool Matches(const Snapshot& snapshot) const;
  // "host h, tag t, path p" for messages; "" when empty.
  std::string Describe() const;
};

// The snapshots of `snapshots` the filter lets through, in their order.
std::vector<SnapshotEntry> FilterSnapshots(const std::vector<SnapshotEntry>& snapshots,
                                           const SnapshotFilter& filter);

// The `count` newest snapshots of each host and set of paths (restic's
// --latest), oldest first overall. Equal times are ordered by ID.
std::vector<SnapshotEntry> LatestSnapshots(const std::vector<SnapshotEntry>& snapshots,
                                           size_t count);

struct SnapshotGroup {
  std::string host;                    // empty unless grouped by host
  std::vector<std::string> paths;      // sorted; empty unless grouped by paths
  std::vector<std::string> tags;       // sorted; empty unless grouped by tags
  std::vector<SnapshotEntry> entries;  // oldest first
};

// Groups alike in what `group_by` chooses, ordered by (host, paths, tags).
std::vector<SnapshotGroup> GroupSnapshots(const std::vector<SnapshotEntry>& snapshots,
                                          const GroupBy& group_by);

// "latest" (the newest the filter lets through) or a unique ID prefix of a
// snapshot in `snapshots` (the filter does not apply: an ID names one
// snapshot). NotFound or InvalidArgument (ambiguous) otherwise.
Result<SnapshotEntry> SelectSnapshotFrom(const std::vector<SnapshotEntry>& snapshots,
                                         const std::string& selector, const SnapshotFilter& filter);

}  // namespace ferry
