// What the three repairs (repo/repair.h) share: reading every index object
// one by one, so that a damaged one is noted instead of stopping the repair,
// and replacing the whole index with a new one. Not for use outside repair_*.cc.
#pragma once

#include <map>
#include <vector>

#include "format/index_file.h"
#include "repo/repair.h"

namespace ferry {

struct StoredIndexes {
  std::vector<Id> objects;             // every index object, damaged ones too
  std::vector<DamagedObject> damaged;  // those that could not be read
  std::map<Id, IndexedPack> packs;     // by pack ID, as the first readable index lists it
};

Result<StoredIndexes> ReadStoredIndexes(Repository& repository);

// Writes `packs` as new index objects, then removes `old_indexes`; records
// both in `report`.
Status ReplaceIndexes(Repository& repository, const std::vector<IndexedPack>& packs,
                      const std::vector<Id>& old_indexes, RepairIndexReport& report,
                      const RepairProgress& progress);

}  // namespace ferry
