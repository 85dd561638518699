// Rollback and omission (issue 9): each machine remembers the snapshot and
// index objects it wrote to a repository, and a listing that lacks one is an
// error naming it.
//
// Every object is authenticated, so a storage cannot forge one; but it can
// drop the newest snapshot (roll the repository back to yesterday) or hide an
// index, and nothing in what remains shows it: `check` sees a consistent,
// older repository. What the storage cannot take from the machine is its own
// memory of what it wrote. So every snapshot and index object this machine
// stores is recorded (after the storage accepted it), every open compares the
// listing with the record (HistoryGuard::FindMissing), and a missing object is
// kHistoryMissing (exit code 14) until the user accepts its removal (`ferry
// trust accept-missing`).
//
// State: trust/repositories/ID.json below the state directory (layout in
// repo/known_repository.h): {"version":1,"repository_id":HEX,
// "snapshots":[HEX…],"index":[HEX…]}, sorted; IDs only, no key or password.
// A removal recorded here erases the ID (object IDs never recur: a sealed
// object's name is the SHA-256 of bytes that include a random nonce).
//
// DELIBERATE REMOVALS. Commands that delete snapshot or index objects on
// purpose (forget, prune, `ferry repair`) must record each removal, or this
// machine's next open reports the object missing:
//  - A Repository opened through the CLI's OpenRepository stores through a
//    HistoryRecordingBackend: its backend().Remove() of a snapshot or index
//    object records the removal by itself (also when the object was already
//    gone, NotFound: it was meant to go), and SaveSealed records what it writes.
//  - Removals made any other way (another Backend, a tool working on the
//    files) call HistoryGuard(state_dir, repository_id).RecordRemoved(kind,
//    ids) — from the CLI, RecordDeliberateRemoval(options, repository, kind,
//    ids) in cli/global_options.h — after the removal succeeded. Recording an
//    ID twice, or one this machine never wrote, is harmless.
// Removals by another machine (a prune run elsewhere) are unknown here: this
// machine reports them once and the user accepts them.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "storage/backend.h"
#include "util/id.h"
#include "util/status.h"

namespace ferry {

struct MissingObject {
  ObjectKind kind;  // kSnapshot or kIndex
  Id id;
};

// What this machine remembers having written to one repository.
struct WrittenHistory {
  std::set<Id> snapshots;
  std::set<Id> indexes;
};

// The error for `missing` objects of repository `repository_id` at
// `location` (a description): names each (the first 20, then a count) and
// how to accept a deliberate removal.
Status HistoryMissingError(const std::string& location, const Id& repository_id,
                           const std::vector<MissingObject>& missing);

// One repository's record in one state directory. Thread-safe: every method
// reads and rewrites the file under the trust lock (repo/known_repository.h),
// so concurrent ferry processes of this user never lose each other's records.
class HistoryGuard {
 public:
  // REQUIRES: `state_dir` not empty.
  HistoryGuard(std::string state_dir, const Id& repository_id)
      : state_dir_(std::move(state_dir)), repository_id_(repository_id) {}

  const Id& repository_id() const { return repository_id_; }
  // The state file (for messages; it may not exist yet).
  std::string path() const;

  // Everything remembered (empty if the machine never wrote to it).
  Result<WrittenHistory> Load() const;
  // Records that this machine stored `id` of `kind` (kSnapshot or kIndex;
  // other kinds are not remembered). Call only after the storage accepted it:
  // recording an object that was never stored raises a false alarm.
  Status RecordWritten(ObjectKind kind, const Id& id);
  // Records deliberate removals (see the top of this file).
  Status RecordRemoved(ObjectKind kind, const std::vector<Id>& ids);
  // The remembered objects that `backend` no longer lists, snapshots first.
  Result<std::vector<MissingObject>> FindMissing(Backend& backend) const;

 private:
  Status Update(const std::function<void(WrittenHistory&)>& change);
  Result<WrittenHistory> LoadLocked() const;

  std::string state_dir_;
  Id repository_id_;
  mutable std::mutex mutex_;  // the flock serialises processes, this threads
};

// Records through a HistoryGuard what passes through it: successful Puts (and
// committed writers) of snapshot and index objects as written, Removes as
// deliberate removals. Everything else is forwarded unchanged.
//
// The guard is attached after the repository is opened (its ID is in the
// sealed config): nothing is recorded before Attach, and opening writes no
// snapshot or index. A failure to record does not fail the write (the object
// is stored; only this machine's memory of it is lost): it goes to `on_error`.
class HistoryRecordingBackend : public Backend {
 public:
  explicit HistoryRecordingBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}

  // REQUIRES: called before the backend is used from several threads.
  void Attach(std::shared_ptr<HistoryGuard> guard,
              std::function<void(const Status&)> on_error = nullptr);
  HistoryGuard* guard() const { return guard_.get(); }

  Status Create() override { return inner_->Create(); }
  Status Put(const ObjectName& name, ByteView data) override;
  Status PutIfAbsent(const ObjectName& name, ByteView data) override;
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override {
    return inner_->Get(name, offset, length);
  }
  Result<uint64_t> Stat(const ObjectName& name) override { return inner_->Stat(name); }
  Status List(ObjectKind kind,
              const std::function<Status(const std::string&, uint64_t)>& visit) override {
    return inner_->List(kind, visit);
  }
  Status Remove(const ObjectName& name) override;
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(const ObjectName& name) override;
  Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                    const std::function<Status(ByteView)>& sink) override {
    return inner_->ReadStream(name, offset, length, sink);
  }
  Status CopyFrom(Backend& source, const ObjectName& name) override;
  Backend& Undecorated() override { return inner_->Undecorated(); }
  std::string Location() const override { return inner_->Location(); }
  BackendStats stats() const override { return inner_->stats(); }

  // Records the removal of `ids` before they are removed, in one write of
  // the record (see RecordRemovalsAhead below).
  Status RecordRemovalsAhead(ObjectKind kind, const std::vector<Id>& ids);

  // For the recording writer.
  void Recorded(const ObjectName& name, bool removed);

 private:
  std::unique_ptr<Backend> inner_;
  std::shared_ptr<HistoryGuard> guard_;
  std::function<void(const Status&)> on_error_;
};

// Commands that remove many snapshot or index objects (forget, prune, repair)
// call this with all of them before the first Remove: when `backend` records
// history (a HistoryRecordingBackend, as OpenRepository makes), the record is
// written once, and each Remove then finds its object already erased and
// writes nothing; otherwise it does nothing. Ahead, not after: a crash between
// the removals and a later record would leave this machine reporting its own
// deliberate removals as missing. The cost of ahead: an object whose Remove
// then fails stays in the repository unguarded (it is listed, so nothing is
// reported; the command reports the failure and the next run removes it).
Status RecordRemovalsAhead(Backend& backend, ObjectKind kind, const std::vector<Id>& ids);

}  // namespace ferry
