// RepairSnapshots (repo/repair.h): snapshots rewritten without what is gone.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "repo/history_guard.h"
#include "repo/repair.h"

namespace ferry {

namespace {

bool IsGone(const Status& status) { return IsDamage(status) || status.IsNotFound(); }

// What rewriting one tree gave: its new ID (the old one if nothing changed)
// and the changes below it, with paths relative to it.
struct Outcome {
  Id tree;
  bool changed = false;
  std::vector<std::string> changes;
  size_t height = 1;  // levels of trees, itself included
  bool cut = false;   // directories were removed for lying too deep
};

// Rewrites trees bottom-up without recursion (trees come from outside and may
// nest without end; repo/tree_walker.h): an explicit stack of the trees being
// rebuilt, one per level. A tree shared by several snapshots or directories
// is rewritten once — unless, where it is met again, it would reach deeper
// than kMaxTreeDepth, or was cut off at that depth before.
class TreeRewriter {
 public:
  TreeRewriter(Repository& repository, bool dry_run) : repository_(repository), dry_run_(dry_run) {}

  Result<Outcome> Rewrite(const Id& root) {
    std::optional<Outcome> done;
    RETURN_IF_ERROR(Open(root, &done));
    if (done) return *done;
    while (!frames_.empty()) {
      Frame& frame = frames_.back();
      if (frame.next == frame.tree.nodes.size()) {
        Outcome outcome{frame.id, frame.changed, std::move(frame.changes), frame.height, frame.cut};
        if (frame.changed) {
          ASSIGN_OR_RETURN(outcome.tree, Store(frame.out));
        }
        if (outcome.cut)
          cut_memo_[{frame.id, frames_.size()}] = outcome;
        else
          memo_[frame.id] = outcome;
        frames_.pop_back();
        if (frames_.empty()) return outcome;
        Apply(frames_.back(), outcome);
        continue;
      }
      Node node = frame.tree.nodes[frame.next++];
      if (node.type == NodeType::kDirectory && frames_.size() >= kMaxTreeDepth) {
        // Its tree would lie deeper than any reader walks (and its node
        // cannot be kept without one).
        frame.changes.push_back(node.name +
                                ": a directory nested deeper than 2048 levels; removed");
        frame.changed = true;
        frame.cut = true;
        continue;
      }
      if (node.type == NodeType::kDirectory) {
        frame.out.nodes.push_back(std::move(node));
        std::optional<Outcome> child;
        RETURN_IF_ERROR(Open(frame.out.nodes.back().subtree, &child));
        // Else Open pushed the child's frame, and Apply runs when it is done.
        if (child) Apply(frames_.back(), *child);
        continue;
      }
      if (node.type == NodeType::kFile) TruncateAtMissing(frame, node);
      frame.out.nodes.push_back(std::move(node));
    }
    return Status::Internal("tree rewrite ended without its root");
  }

 private:
  struct Frame {
    Id id;
    Tree tree;
    size_t next = 0;
    Tree out;
    bool changed = false;
    std::vector<std::string> changes;
    size_t height = 1;
    bool cut = false;
  };

  // The outcome of the directory just appended to `parent.out`.
  static void Apply(Frame& parent, const Outcome& child) {
    Node& node = parent.out.nodes.back();
    node.subtree = child.tree;
    parent.height = std::max(parent.height, child.height + 1);
    parent.cut = parent.cut || child.cut;
    if (!child.changed) return;
    parent.changed = true;
    // A change of the directory itself starts with ": ".
    for (const std::string& change : child.changes)
      parent.changes.push_back(node.name + (change.rfind(": ", 0) == 0 ? "" : "/") + change);
  }

  // Either the outcome is known at once (in `done`: seen before, or the tree
  // is gone) or a frame for it is pushed.
  Status Open(const Id& id, std::optional<Outcome>* done) {
    size_t depth = frames_.size() + 1;
    if (auto seen = memo_.find(id);
        seen != memo_.end() && depth + seen->second.height - 1 <= kMaxTreeDepth) {
      *done = seen->second;
      return Status::Ok();
    }
    if (auto seen = cut_memo_.find({id, depth}); seen != cut_memo_.end()) {
      *done = seen->second;
      return Status::Ok();
    }
    auto tree = repository_.LoadTree(id);
    if (!tree.ok()) {
      if (!IsGone(tree.status())) return tree.status();
      ASSIGN_OR_RETURN(Id empty, Store(Tree{}));
      *done = Outcome{empty,
                      true,
                      {": directory listing (tree " + id.Hex() + ") cannot be loaded (" +
                       tree.status().message() + "); now an empty directory"}};
      memo_[id] = **done;
      return Status::Ok();
    }
    Frame frame;
    frame.id = id;
    frame.tree = std::move(*tree);
    frames_.push_back(std::move(frame));
    return Status::Ok();
  }

  // A file keeps the content before its first missing blob, and its size says
  // how much that is, so that the next backup reads the file again.
  void TruncateAtMissing(Frame& frame, Node& node) {
    uint64_t kept_bytes = 0;
    for (size_t i = 0; i < node.content.size(); ++i) {
      auto location = repository_.FindBlob(BlobType::kData, node.content[i]);
      if (location) {
        kept_bytes += location->entry.raw_length;
        continue;
      }
      frame.changes.push_back(node.name + ": truncated to " + std::to_string(kept_bytes) + " of " +
                              std::to_string(node.size) + " bytes (data blob " +
                              node.content[i].Hex() + " is missing)");
      node.content.resize(i);
      node.size = kept_bytes;
      frame.changed = true;
      return;
    }
  }

  Result<Id> Store(const Tree& tree) {
    if (dry_run_) return repository_.BlobId(EncodeTree(tree));
    return repository_.SaveTree(tree);
  }

  Repository& repository_;
  bool dry_run_;
  std::vector<Frame> frames_;
  std::unordered_map<Id, Outcome, IdHash> memo_;
  std::map<std::pair<Id, size_t>, Outcome> cut_memo_;  // by tree and depth
};

}  // namespace

Result<RepairSnapshotsReport> RepairSnapshots(Repository& repository,
                                              const RepairSnapshotsOptions& options,
                                              const RepairProgress& progress) {
  RepairSnapshotsReport report;
  ASSIGN_OR_RETURN(std::vector<std::string> names,
                   ListNames(repository.backend(), ObjectKind::kSnapshot));
  TreeRewriter rewriter(repository, options.dry_run);
  std::vector<Snapshot> repaired;
  for (const std::string& name : names) {
    auto id = Id::FromHex(name);
    if (!id.ok()) continue;
    progress("checking snapshot " + name.substr(0, 8));
    auto snapshot = repository.LoadSnapshot(*id);
    if (!snapshot.ok()) {
      if (snapshot.status().IsNotFound()) continue;  // removed since the listing
      if (!IsDamage(snapshot.status())) return snapshot.status();
      report.removed_damaged.push_back({ObjectKind::kSnapshot, *id, snapshot.status().message()});
      continue;
    }
    ASSIGN_OR_RETURN(Outcome outcome, rewriter.Rewrite(snapshot->tree));
    if (!outcome.changed) {
      ++report.snapshots_intact;
      continue;
    }
    RewrittenSnapshot rewritten;
    rewritten.original = *id;
    for (const std::string& change : outcome.changes) rewritten.changes.push_back("/" + change);
    report.rewritten.push_back(std::move(rewritten));
    snapshot->tree = outcome.tree;
    if (std::find(snapshot->tags.begin(), snapshot->tags.end(), "repaired") == snapshot->tags.end())
      snapshot->tags.push_back("repaired");
    repaired.push_back(std::move(*snapshot));
  }
  if (options.dry_run) return report;

  // Trees before the snapshots that reference them, the new snapshots before
  // the removal of the old ones.
  RETURN_IF_ERROR(repository.Flush().WithContext("storing repaired trees"));
  for (size_t i = 0; i < repaired.size(); ++i) {
    ASSIGN_OR_RETURN(report.rewritten[i].repaired, repository.SaveSnapshot(repaired[i]));
  }
  auto remove = [&](const Id& id) -> Status {
    Status removed = repository.backend().Remove({ObjectKind::kSnapshot, id.Hex()});
    if (removed.ok() || removed.IsNotFound()) return Status::Ok();
    return removed.WithContext("removing snapshot " + id.Hex());
  };
  std::vector<Id> doomed;
  for (const DamagedObject& damaged : report.removed_damaged) doomed.push_back(damaged.id);
  if (options.forget)
    for (const RewrittenSnapshot& rewritten : report.rewritten)
      doomed.push_back(rewritten.original);
  RETURN_IF_ERROR(RecordRemovalsAhead(repository.backend(), ObjectKind::kSnapshot, doomed));
  for (const DamagedObject& damaged : report.removed_damaged) RETURN_IF_ERROR(remove(damaged.id));
  if (options.forget) {
    for (RewrittenSnapshot& rewritten : report.rewritten) {
      RETURN_IF_ERROR(remove(rewritten.original));
      rewritten.original_removed = true;
    }
  }
  return report;
}

}  // namespace ferry
