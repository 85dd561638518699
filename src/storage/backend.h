// Backend: where repository objects live (local directory now; the vault over
// HTTP, Azure Blob and S3 later). The interface is deliberately small; retries,
// caching and verification are wrappers around a Backend, not new methods.
//
// Contract every implementation must meet (tests/unit/backend_test.cc):
//  - Put stores the whole object atomically: a reader or a crash sees the old
//    object or the new one, never a part. Putting an existing object replaces it.
//  - Get reads `length` bytes from `offset` (kToEnd: to the end); reading past
//    the end of the object is Corruption (it is shorter than its reader
//    expects), not a short read.
//  - List reports every complete object of a kind, never a temporary.
//  - PutIfAbsent stores the object only if no object has the name, atomically
//    where the service can (write-once); otherwise AlreadyExists.
//  - Remove of a missing object returns NotFound.
//  - All methods are safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/status.h"

namespace ferry {

enum class ObjectKind { kConfig, kKey, kData, kIndex, kSnapshot, kLock };
const char* ObjectKindName(
    ObjectKind kind);  // "config", "keys", "data", "index", "snapshots", "locks"

struct ObjectName {
  ObjectKind kind;
  std::string name;  // 64 hex digits, or "config"
  // A data pack that holds trees, not file contents: metadata every backup
  // and restore reads, which a local cache keeps (CacheBackend). Index and
  // snapshot objects are metadata by their kind.
  bool metadata = false;

  static ObjectName Config() { return {ObjectKind::kConfig, "config"}; }
  // Relative path in the repository layout: "data/3f/3f2a…", "snapshots/9c…", "config".
  std::string Path() const;
};

// Writes one object piece by piece (streamed uploads, large downloads into a
// backend). Nothing is visible under the object's name until Commit succeeds;
// destroying a writer without Commit discards what was written.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Status Write(ByteView data) = 0;
  virtual Status Commit() = 0;
};

// What a backend moved; for network backends, the bytes that crossed the wire.
struct BackendStats {
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t requests = 0;
};

class Backend {
 public:
  static constexpr uint64_t kToEnd = UINT64_MAX;

  virtual ~Backend() = default;

  // Prepares an empty repository layout. Fails with AlreadyExists if a config exists.
  virtual Status Create() = 0;
  virtual Status Put(const ObjectName& name, ByteView data) = 0;
  // Write-once Put: AlreadyExists if the name is taken. The default (Stat,
  // then Put) leaves a window in which two writers both succeed; backends
  // whose service has a conditional write override it.
  virtual Status PutIfAbsent(const ObjectName& name, ByteView data);
  virtual Result<Bytes> Get(const ObjectName& name, uint64_t offset = 0,
                            uint64_t length = kToEnd) = 0;
  // Size in bytes; NotFound if the object does not exist.
  virtual Result<uint64_t> Stat(const ObjectName& name) = 0;
  // Calls `visit(name, size)` for each object of `kind`; a non-OK return stops the walk.
  virtual Status List(
      ObjectKind kind,
      const std::function<Status(const std::string& name, uint64_t size)>& visit) = 0;
  virtual Status Remove(const ObjectName& name) = 0;

  // Streaming forms of Put and Get, for objects that should not be held whole
  // in memory. The defaults buffer (Put on Commit; one Get); backends that can
  // stream override them.
  virtual Result<std::unique_ptr<ObjectWriter>> OpenWriter(const ObjectName& name);
  virtual Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                            const std::function<Status(ByteView)>& sink);
  // Copies `name` from `source` inside the storage service (Azure Copy Blob,
  // S3 CopyObject), so that its bytes never pass through ferry. Unsupported
  // when the two backends are not on one service that can copy between them;
  // the caller then streams the object itself (CopyObject below does both).
  // The copy is not verified here: a caller that must trust it reads it back.
  virtual Status CopyFrom(Backend& source, const ObjectName& name);
  // The backend under any decorators (retry, cache…), so that a server-side
  // copy can recognise a source of its own kind however it is wrapped.
  virtual Backend& Undecorated() { return *this; }
  // Where this backend points, for messages ("/srv/backup/repo").
  virtual std::string Location() const = 0;
  // Traffic so far; local backends report nothing.
  virtual BackendStats stats() const { return {}; }
};

// The names of every object of `kind`.
Result<std::vector<std::string>> ListNames(Backend& backend, ObjectKind kind);

// Copies `name` from `source` into `target`: server-side where the two share
// a service (Backend::CopyFrom), streamed through this process otherwise.
// `server_side`, if given, tells which way it went.
Status CopyObject(Backend& source, Backend& target, const ObjectName& name,
                  bool* server_side = nullptr);

// Get through ReadStream, for backends whose reads are streams (HTTP stores):
// the bytes gathered in memory.
Result<Bytes> GetByStreaming(Backend& backend, const ObjectName& name, uint64_t offset,
                             uint64_t length);

// True if `name` is 64 lower-case hex digits (object IDs); temp files are not.
bool IsObjectId(const std::string& name);

}  // namespace ferry
