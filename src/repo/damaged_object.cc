#include "repo/damaged_object.h"

namespace ferry {

std::string ObjectLabel(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kIndex:
      return "index";
    case ObjectKind::kSnapshot:
      return "snapshot";
    case ObjectKind::kLock:
      return "lock";
    case ObjectKind::kConfig:
      return "config";
    case ObjectKind::kKey:
      return "key";
    case ObjectKind::kData:
      return "pack";
  }
  return "object";
}

// Unsupported (a newer ferry's format) is authenticated and intact: skipping
// it, and letting repair remove it, would lose data an upgrade can read.
bool IsDamage(const Status& status) { return status.IsCorruption(); }

std::string DescribeSkipped(const DamagedObject& object) {
  // A key file's problem already names it (src/repo/key_files.h). The advice
  // stays neutral: a key of an unknown version may be a newer ferry's.
  if (object.kind == ObjectKind::kKey)
    return object.problem + "; ignored ('ferry key list' shows every key file, 'ferry key remove " +
           object.id.Short() + "' removes this one)";
  std::string head = ObjectLabel(object.kind) + " " + object.id.Hex() + " is damaged (" +
                     object.problem + ") and was skipped: ";
  switch (object.kind) {
    case ObjectKind::kIndex:
      return head +
             "blobs that only it lists are unknown to this run (a backup stores them again, a "
             "restore that needs them fails); 'ferry repair index' rebuilds the index from the "
             "packs";
    case ObjectKind::kSnapshot:
      return head +
             "that snapshot is not listed and cannot be restored; 'ferry repair snapshots' "
             "removes it";
    default:
      return head + "'ferry check' says what it affects";
  }
}

}  // namespace ferry
