#include "engine/snapshot_stats.h"

#include <utility>

#include "crypto/hash.h"
#include "repo/tree_walker.h"

namespace ferry {

Result<StatsMode> ParseStatsMode(const std::string& text) {
  if (text == "restore-size") return StatsMode::kRestoreSize;
  if (text == "files-by-contents") return StatsMode::kFilesByContents;
  if (text == "raw-data") return StatsMode::kRawData;
  return Status::InvalidArgument("'" + text +
                                 "' is not a stats mode: give restore-size, files-by-contents "
                                 "or raw-data");
}

const char* StatsModeName(StatsMode mode) {
  switch (mode) {
    case StatsMode::kRestoreSize:
      return "restore-size";
    case StatsMode::kFilesByContents:
      return "files-by-contents";
    case StatsMode::kRawData:
      return "raw-data";
  }
  return "?";
}

Status StatsCollector::Add(const Id& root, const std::atomic<bool>* cancel) {
  ++stats_.snapshots;
  std::set<std::pair<uint64_t, uint64_t>> inodes;  // restore-size: (device, inode) seen
  if (mode_ == StatsMode::kRawData) blobs_.insert({BlobType::kTree, root});
  Status failed;
  TreeWalkCallbacks callbacks;
  callbacks.node = [&](const std::string&, const Node& node) {
    switch (mode_) {
      case StatsMode::kRestoreSize: {
        ++stats_.total_file_count;
        bool first_link =
            node.links <= 1 || node.inode == 0 || inodes.insert({node.device, node.inode}).second;
        if (node.type == NodeType::kFile && first_link) stats_.total_size += node.size;
        return true;
      }
      case StatsMode::kFilesByContents: {
        if (node.type != NodeType::kFile) return node.type == NodeType::kDirectory;
        Bytes ids;
        for (const Id& id : node.content) ids.insert(ids.end(), id.bytes.begin(), id.bytes.end());
        if (contents_.insert(Sha256(ids)).second) {
          ++stats_.total_file_count;
          stats_.total_size += node.size;
        }
        return false;
      }
      case StatsMode::kRawData:
        for (const Id& id : node.content) blobs_.insert({BlobType::kData, id});
        // A tree counted before (here or in another snapshot) holds nothing new.
        return node.type == NodeType::kDirectory &&
               blobs_.insert({BlobType::kTree, node.subtree}).second;
    }
    return true;
  };
  callbacks.tree_error = [&](const std::string& path, const Id&, const Status& status) {
    if (failed.ok()) failed = status.WithContext("directory " + (path.empty() ? "/" : path));
  };
  RETURN_IF_ERROR(WalkTrees(repository_, root, callbacks, cancel));
  return failed;
}

Result<SnapshotStats> StatsCollector::Finish() const {
  SnapshotStats stats = stats_;
  if (mode_ != StatsMode::kRawData) return stats;
  for (const auto& [type, id] : blobs_) {
    auto location = repository_.FindBlob(type, id);
    if (!location)
      return Status::NotFound(std::string(type == BlobType::kTree ? "tree" : "data") + " blob " +
                              id.Hex() + " is not in the index ('ferry check' says more)");
    ++stats.total_blob_count;
    stats.total_size += location->entry.stored_length;
    stats.total_uncompressed_size += location->entry.raw_length;
  }
  if (stats.total_size > 0)
    stats.compression_ratio =
        static_cast<double>(stats.total_uncompressed_size) / static_cast<double>(stats.total_size);
  return stats;
}

}  // namespace ferry
