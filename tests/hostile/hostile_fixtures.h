// Hostile repository objects for the tests: a repository written through the
// real Repository API (so every object is correctly sealed and named) whose
// content is built to break readers that trust it: trees nested far deeper
// than any file system allows, trees and blobs that are referenced but do not
// exist, files that claim a petabyte, locks of other hosts. The unit tests use
// these functions directly; the e2e scripts through ferry_hostile_repo.
#pragma once

#include <cstdint>
#include <string>

#include "repo/repository.h"

namespace ferry::hostile {

// A snapshot of `depth` directories named "d", each inside the one before
// (/d/d/d/...). Returns the snapshot ID.
Result<Id> WriteDeepTreeSnapshot(Repository& repository, size_t depth);

// A copy of snapshot `base` whose root also holds a directory "broken-dir"
// whose tree does not exist and a 1 MiB file "broken-file" whose only data blob
// does not exist: one damaged tree and one damaged file among good entries.
Result<Id> WriteDamagedSnapshot(Repository& repository, const Id& base);

// A snapshot with one file "huge" that claims `size` bytes (its content is a
// single small blob: nothing can be restored before free space is checked).
Result<Id> WriteHugeFileSnapshot(Repository& repository, uint64_t size);

// A lock object as another process would write it (docs/format.md, "Locks").
Result<Id> WriteLock(Repository& repository, bool exclusive, const std::string& hostname,
                     int64_t pid, int64_t time_ns);

}  // namespace ferry::hostile
