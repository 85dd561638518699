// TreePrefetcher: a TreeLoader (repo/tree_walker.h) that reads trees ahead of
// the walk, in batches. When a tree is loaded, the trees of its
// subdirectories are read — and theirs, level by level, up to `lookahead`
// levels and a memory budget — with ReadPackBlobs, grouped by pack and
// coalesced: an object store then sees a few requests per level of the
// snapshot instead of one ranged GET per directory (a restore of 365
// directories from Azurite made 364 before).
//
// A tree read ahead is kept until the walk asks for it (once; a tree that
// appears at two places is read again the second time). One that cannot be
// read ahead, or does not parse, is not kept: the walk's own request for it
// then goes to Repository::LoadTree, which reports the damage as it always
// did. Not thread-safe: one walk at a time.
#pragma once

#include <unordered_map>
#include <vector>

#include "repo/repository.h"

namespace ferry {

class TreePrefetcher {
 public:
  // `lookahead`: how many levels below a loaded tree to read ahead (1: its
  // subdirectories' trees only). `budget`: the most bytes of trees (as
  // stored in the repository, decrypted) held ahead at once.
  TreePrefetcher(Repository& repository, size_t lookahead, uint64_t budget = 32 << 20)
      : repository_(repository), lookahead_(lookahead), budget_(budget) {}

  Result<Tree> Load(const Id& id);

 private:
  struct Ahead {
    Tree tree;
    uint64_t size;
  };
  // Reads ahead the trees below `tree`, wave by wave.
  void Prefetch(const Tree& tree);
  // Reads the trees `ids` (not yet held) and returns those now held.
  std::vector<Id> Fetch(const std::vector<Id>& ids);

  Repository& repository_;
  size_t lookahead_;
  uint64_t budget_;
  uint64_t held_ = 0;
  std::unordered_map<Id, Ahead, IdHash> ahead_;
};

}  // namespace ferry
