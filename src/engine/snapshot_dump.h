// SnapshotDump: what `ferry dump` writes: one file's contents, read blob by
// blob (never the whole file in memory), or a directory and everything below
// it as a tar archive (libarchive, PAX format: long names, xattrs, large
// files). As restic's dump, entries are named by their path in the snapshot
// without the leading '/', the dumped directory itself has no entry, and
// hard links are written as separate files.
#pragma once

#include <atomic>
#include <string>

#include "repo/repository.h"

namespace ferry {

// Writes the contents of file `node` to `fd`. Corruption if the blobs do not
// add up to the node's size (the bytes written so far stay written: the
// caller says the output is incomplete).
Status DumpFile(Repository& repository, const Node& node, int fd,
                const std::atomic<bool>* cancel = nullptr);

// Writes directory `node` (at `path` in the snapshot) and all below it to
// `fd` as a tar archive.
Status DumpTar(Repository& repository, const std::string& path, const Node& node, int fd,
               const std::atomic<bool>* cancel = nullptr);

}  // namespace ferry
