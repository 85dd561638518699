#include "repo/tree_prefetcher.h"

#include <algorithm>
#include <map>
#include <unordered_set>

#include "repo/pack_reader.h"

namespace ferry {

Result<Tree> TreePrefetcher::Load(const Id& id) {
  Result<Tree> tree = Status::NotFound("");
  if (auto it = ahead_.find(id); it != ahead_.end()) {
    held_ -= it->second.size;
    tree = std::move(it->second.tree);
    ahead_.erase(it);
  } else {
    tree = repository_.LoadTree(id);
    if (!tree.ok()) return tree;
  }
  Prefetch(*tree);
  return tree;
}

void TreePrefetcher::Prefetch(const Tree& tree) {
  std::unordered_set<Id, IdHash> tried;  // in this call: a damaged tree is tried once
  std::unordered_set<Id, IdHash> wave;
  auto add_subtrees = [&](const Tree& parent) {
    for (const Node& node : parent.nodes)
      if (node.type == NodeType::kDirectory && !ahead_.count(node.subtree) &&
          !tried.count(node.subtree))
        wave.insert(node.subtree);
  };
  add_subtrees(tree);
  for (size_t level = 0; level < lookahead_ && !wave.empty() && held_ < budget_; ++level) {
    std::vector<Id> ids(wave.begin(), wave.end());
    tried.insert(ids.begin(), ids.end());
    wave.clear();
    for (const Id& id : Fetch(ids)) add_subtrees(ahead_.at(id).tree);
  }
}

std::vector<Id> TreePrefetcher::Fetch(const std::vector<Id>& ids) {
  std::map<Id, IndexedPack> packs;
  for (const Id& id : ids) {
    auto location = repository_.FindBlob(BlobType::kTree, id);
    if (!location) continue;  // the walk's Load reports it
    IndexedPack& pack = packs[location->pack_id];
    pack.pack_id = location->pack_id;
    pack.salt = location->salt;
    pack.blobs.push_back(location->entry);
  }
  std::vector<Id> held;
  for (auto& [pack_id, pack] : packs) {
    std::sort(pack.blobs.begin(), pack.blobs.end(),
              [](const PackEntry& a, const PackEntry& b) { return a.offset < b.offset; });
    ReadPackBlobs(repository_, pack, [&](size_t index, Result<Bytes> plain) -> Status {
      if (!plain.ok() || held_ + plain->size() > budget_) return Status::Ok();
      auto tree = ParseTree(*plain);
      if (!tree.ok()) return Status::Ok();
      const Id& id = pack.blobs[index].id;
      held_ += plain->size();
      ahead_.emplace(id, Ahead{std::move(*tree), plain->size()});
      held.push_back(id);
      return Status::Ok();
    }).IgnoreError();  // the visitor never stops it
  }
  return held;
}

}  // namespace ferry
