// Small POSIX file helpers shared by the layers: whole-file reads, atomic
// writes (temp file, fsync, rename, fsync directory) and errno → Status.
#pragma once

#include <cstdint>
#include <string>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

// A Status for the current errno: "open /x/y: No such file or directory".
// ENOENT maps to NotFound, EACCES/EPERM to PermissionDenied, ENOSPC to NoSpace.
Status ErrnoStatus(const std::string& what, int err);

Result<Bytes> ReadWholeFile(const std::string& path);
// Writes `data` so that a crash leaves either the old file or the new one,
// never a mix: write a temp file beside it, fsync, rename, fsync the directory.
Status WriteFileAtomic(const std::string& path, ByteView data, int mode = 0600);
// A unique temporary name beside `path` ("PATH.tmp-NNN"); never an object name.
std::string TempPathFor(const std::string& path);
// True for a name TempPathFor made (a write in progress, or cut off by a crash).
bool IsTempPath(const std::string& path);
// Removes the temp files below `root` not modified for `min_age_seconds`
// (0: all of them); errors are ignored, the files are garbage either way.
void RemoveTempFiles(const std::string& root, int64_t min_age_seconds = 0);
// mkdir -p; existing directories are fine.
Status MakeDirectories(const std::string& path, int mode = 0700);
Status SyncDirectory(const std::string& path);
// Writes all of `data` at `fd`, retrying short writes and EINTR.
Status WriteAll(int fd, ByteView data, const std::string& what);
// Reads exactly `length` bytes at `offset`; a short file is Corruption.
Status ReadAt(int fd, uint64_t offset, uint8_t* out, size_t length, const std::string& what);

}  // namespace ferry
