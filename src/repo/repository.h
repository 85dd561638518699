// Repository: an encrypted, content-addressed store of blobs in packs, plus the
// sealed objects around them (config, keys, index, snapshots). It knows blobs,
// packs and snapshots; it does not know files (the engine does).
//
// Thread safety: after Open, LoadBlob, SaveBlob and the index are safe to use
// from several threads. Init/Open/LoadIndex/Flush are called by one thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "crypto/kdf.h"
#include "crypto/subkeys.h"
#include "format/config.h"
#include "format/index_file.h"
#include "format/key_file.h"
#include "format/snapshot.h"
#include "format/tree.h"
#include "repo/damaged_object.h"
#include "repo/master_index.h"
#include "storage/backend.h"

namespace ferry {

class PackWriter;

struct SnapshotEntry {
  Id id;
  Snapshot snapshot;
};

struct KeyInfo {
  Id id;
  KeyFile key_file;      // meaningful only when problem is OK
  bool current = false;  // the key this process opened the repository with
  // Not OK for a key file that is damaged, refused or of an unknown version
  // (StoredKeyFile::problem): listed so that it can be seen and removed.
  Status problem;
};

class Repository {
 public:
  ~Repository();

  // Creates a new repository in `backend` with one key for `password`.
  static Result<std::unique_ptr<Repository>> Init(std::unique_ptr<Backend> backend,
                                                  std::string_view password,
                                                  const Argon2Params& kdf = {});
  // Opens an existing repository: NoRepository if there is none. Key files
  // are read as src/repo/key_files.h says; those that are damaged, refused or
  // unknown are skipped and recorded in damaged() (kind kKey) while the others
  // are tried. WrongPassword only if at least one key file is intact and none
  // opens with `password`; if none is intact, Corruption (or Unsupported)
  // naming each.
  static Result<std::unique_ptr<Repository>> Open(std::unique_ptr<Backend> backend,
                                                  std::string_view password);

  Backend& backend() { return *backend_; }
  const RepositoryConfig& config() const { return config_; }
  const Subkeys& keys() const { return keys_; }
  PackKeys pack_keys() const { return {keys_.data, config_.id}; }
  Id BlobId(ByteView plaintext) const;

  // Sealed objects (index, snapshot, lock): stored under the SHA-256 of the
  // sealed bytes; Load verifies that name before decrypting.
  Result<Id> SaveSealed(ObjectKind kind, ByteView plaintext);
  Result<Bytes> LoadSealed(ObjectKind kind, const Id& id);

  // Reads every index object into the master index. An index object that
  // cannot be authenticated or parsed is skipped and recorded in damaged();
  // only errors that say nothing about the object (I/O, permissions, a newer
  // format) fail.
  Status LoadIndex();
  MasterIndex& index() { return index_; }

  // Where the blob of `type` and `id` is stored. Repositories written before
  // blob identity became (type, ID) may hold a tree as a data blob or a chunk
  // as a tree blob when their bytes were equal: equal IDs mean equal
  // plaintext, so the blob of the other type is accepted too (docs/format.md).
  std::optional<BlobLocation> FindBlob(BlobType type, const Id& id) const;
  // Loads, decrypts and verifies one blob.
  Result<Bytes> LoadBlob(BlobType type, const Id& id);
  // Stores a blob unless the repository already has it (or it is being
  // written). Returns true if it was new. The blob becomes durable and indexed
  // only when its pack is full or Flush() runs.
  Result<bool> SaveBlob(BlobType type, const Id& id, ByteView plaintext);
  // Sends packs of data blobs to `destination` instead of this repository's
  // backend (an offline backup's staging directory); tree packs, indexes and
  // snapshots still go to the repository. Call before the first SaveBlob.
  void SetDataPackDestination(Backend* destination) { data_pack_destination_ = destination; }
  Backend& DataPackDestination() {
    return data_pack_destination_ ? *data_pack_destination_ : *backend_;
  }

  // Writes all partly filled packs and the index objects for every pack written
  // since the last flush. After Flush returns OK, every saved blob is durable.
  Status Flush();
  // Bytes of packs and packs written by this process so far.
  uint64_t bytes_written() const;
  uint64_t packs_written() const;

  Result<Tree> LoadTree(const Id& id);
  Result<Id> SaveTree(const Tree& tree);

  Result<Id> SaveSnapshot(const Snapshot& snapshot);
  Result<Snapshot> LoadSnapshot(const Id& id);
  // Every readable snapshot, oldest first. Snapshot objects that cannot be
  // authenticated or parsed are skipped and recorded in damaged(), as in
  // LoadIndex: one planted object must not hide all the others.
  Result<std::vector<SnapshotEntry>> ListSnapshots();
  // "latest" or a unique prefix of a snapshot ID (among the readable ones).
  Result<SnapshotEntry> FindSnapshot(const std::string& selector);

  // The index and snapshot objects that LoadIndex and ListSnapshots skipped
  // so far, each once, in the order met: the caller reports them (the
  // library does not print).
  std::vector<DamagedObject> damaged() const;

  // Every key file, damaged ones included (with their problem), oldest first;
  // damaged ones last.
  Result<std::vector<KeyInfo>> ListKeys();
  Result<Id> AddKey(std::string_view password, const Argon2Params& kdf = {});
  // Removes a key file, damaged ones too. Refuses to remove the key this
  // process is using, or the last intact key (nobody could open the
  // repository any more).
  Status RemoveKey(const std::string& id_prefix);

 private:
  Repository(std::unique_ptr<Backend> backend, RepositoryConfig config, Bytes master_key,
             Id key_id);
  Result<Id> SaveKey(ByteView master_key, std::string_view password, const Argon2Params& kdf);
  // LoadSealed without the object's name in the error message.
  Result<Bytes> OpenSealed(ObjectKind kind, const Id& id);
  Result<Snapshot> ReadSnapshot(const Id& id);
  // True if `status` is damage (then recorded in damaged_), false if the
  // reader must fail with it. NotFound (removed since the listing) is neither
  // recorded nor an error.
  bool SkipDamaged(ObjectKind kind, const Id& id, const Status& status);

  std::unique_ptr<Backend> backend_;
  RepositoryConfig config_;
  Bytes master_key_;
  Subkeys keys_;
  Id key_id_;
  MasterIndex index_;
  std::unique_ptr<PackWriter> pack_writer_;
  Backend* data_pack_destination_ = nullptr;
  mutable std::mutex damaged_mutex_;
  std::vector<DamagedObject> damaged_;
};

}  // namespace ferry
