#include "repo/history_guard.h"

#include <nlohmann/json.hpp>

#include "repo/damaged_object.h"
#include "repo/known_repository.h"
#include "util/file_util.h"

namespace ferry {

namespace {
constexpr int kHistoryVersion = 1;
// Beyond this many, the error message counts instead of naming.
constexpr size_t kMaxNamedInError = 20;

bool Remembered(ObjectKind kind) {
  return kind == ObjectKind::kSnapshot || kind == ObjectKind::kIndex;
}

std::set<Id>& SetFor(WrittenHistory& history, ObjectKind kind) {
  return kind == ObjectKind::kSnapshot ? history.snapshots : history.indexes;
}

nlohmann::json IdArray(const std::set<Id>& ids) {
  nlohmann::json array = nlohmann::json::array();
  for (const Id& id : ids) array.push_back(id.Hex());
  return array;
}
}  // namespace

Status HistoryMissingError(const std::string& location, const Id& repository_id,
                           const std::vector<MissingObject>& missing) {
  std::string names;
  for (size_t i = 0; i < missing.size() && i < kMaxNamedInError; ++i)
    names += (i ? ", " : "") + ObjectLabel(missing[i].kind) + " " + missing[i].id.Hex();
  if (missing.size() > kMaxNamedInError)
    names += " and " + std::to_string(missing.size() - kMaxNamedInError) + " more";
  return Status::HistoryMissing(
      "repository " + repository_id.Short() + " at " + location + " no longer lists " +
      std::to_string(missing.size()) + " object" + (missing.size() == 1 ? "" : "s") +
      " this machine wrote: " + names +
      ". The storage has lost what is named here, or hides it (rolled back to an older "
      "state). If it was "
      "removed on purpose (forget, prune or repair run from another machine, the repository "
      "restored from an older copy), accept it with 'ferry trust accept-missing' (all of "
      "them) or 'ferry trust accept-missing ID...'");
}

std::string HistoryGuard::path() const {
  return TrustDirectory(state_dir_) + "/repositories/" + repository_id_.Hex() + ".json";
}

Result<WrittenHistory> HistoryGuard::LoadLocked() const {
  std::string file = path();
  WrittenHistory history;
  auto bytes = ReadWholeFile(file);
  if (!bytes.ok()) {
    if (bytes.status().IsNotFound()) return history;
    return bytes.status();
  }
  auto damaged = [&](const std::string& why) {
    return Status::Corruption("this machine's record of repository " + repository_id_.Short() +
                              ", " + file + ", is damaged (" + why +
                              "); delete it to start a new record (the objects it remembered "
                              "are then no longer guarded)");
  };
  auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (!j.is_object()) return damaged("not a JSON object");
  if (!j.contains("version") || !j["version"].is_number_integer()) return damaged("no version");
  if (j["version"].get<int64_t>() != kHistoryVersion)
    return Status::Unsupported(file + " has version " + j["version"].dump() +
                               "; this ferry reads version " + std::to_string(kHistoryVersion));
  if (j.value("repository_id", "") != repository_id_.Hex())
    return damaged("it is not about repository " + repository_id_.Hex());
  for (const char* field : {"snapshots", "index"}) {
    if (!j.contains(field)) continue;
    if (!j[field].is_array()) return damaged(std::string(field) + " is not a list");
    std::set<Id>& ids = field[0] == 's' ? history.snapshots : history.indexes;
    for (const auto& hex : j[field]) {
      if (!hex.is_string()) return damaged(std::string(field) + " holds a non-string");
      auto id = Id::FromHex(hex.get<std::string>());
      if (!id.ok()) return damaged(id.status().message());
      ids.insert(*id);
    }
  }
  return history;
}

Result<WrittenHistory> HistoryGuard::Load() const {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(TrustFileLock file_lock, TrustFileLock::Acquire(state_dir_));
  return LoadLocked();
}

Status HistoryGuard::Update(const std::function<void(WrittenHistory&)>& change) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(TrustFileLock file_lock, TrustFileLock::Acquire(state_dir_));
  ASSIGN_OR_RETURN(WrittenHistory history, LoadLocked());
  const size_t before = history.snapshots.size() + history.indexes.size();
  change(history);
  // Sets only grow (written) or shrink (removed), never both in one change:
  // the same size is the same record, and no write (and fsync) is needed.
  // That makes the Remove of an object recorded ahead (RecordRemovalsAhead)
  // free, and a forget of 100 snapshots one write instead of 100.
  if (history.snapshots.size() + history.indexes.size() == before) return Status::Ok();
  nlohmann::json j = {{"version", kHistoryVersion},
                      {"repository_id", repository_id_.Hex()},
                      {"snapshots", IdArray(history.snapshots)},
                      {"index", IdArray(history.indexes)}};
  RETURN_IF_ERROR(MakeDirectories(TrustDirectory(state_dir_) + "/repositories", 0700));
  return WriteFileAtomic(path(), AsBytes(j.dump(1) + "\n"), 0600);
}

Status HistoryGuard::RecordWritten(ObjectKind kind, const Id& id) {
  if (!Remembered(kind)) return Status::Ok();
  return Update([&](WrittenHistory& history) { SetFor(history, kind).insert(id); })
      .WithContext("recording " + ObjectLabel(kind) + " " + id.Short() + " as written");
}

Status HistoryGuard::RecordRemoved(ObjectKind kind, const std::vector<Id>& ids) {
  if (!Remembered(kind) || ids.empty()) return Status::Ok();
  return Update([&](WrittenHistory& history) {
           for (const Id& id : ids) SetFor(history, kind).erase(id);
         })
      .WithContext("recording the removal of " + std::to_string(ids.size()) + " " +
                   ObjectLabel(kind) + " object(s)");
}

Result<std::vector<MissingObject>> HistoryGuard::FindMissing(Backend& backend) const {
  ASSIGN_OR_RETURN(WrittenHistory history, Load());
  std::vector<MissingObject> missing;
  for (ObjectKind kind : {ObjectKind::kSnapshot, ObjectKind::kIndex}) {
    const std::set<Id>& remembered = SetFor(history, kind);
    if (remembered.empty()) continue;
    ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames(backend, kind));
    std::set<Id> listed;
    for (const std::string& name : names)
      if (auto id = Id::FromHex(name); id.ok()) listed.insert(*id);
    for (const Id& id : remembered)
      if (!listed.count(id)) missing.push_back({kind, id});
  }
  return missing;
}

namespace {
// Records the object when the inner writer's Commit succeeds.
class RecordingWriter : public ObjectWriter {
 public:
  RecordingWriter(HistoryRecordingBackend& backend, ObjectName name,
                  std::unique_ptr<ObjectWriter> inner)
      : backend_(backend), name_(std::move(name)), inner_(std::move(inner)) {}
  Status Write(ByteView data) override { return inner_->Write(data); }
  Status Commit() override {
    RETURN_IF_ERROR(inner_->Commit());
    backend_.Recorded(name_, /*removed=*/false);
    return Status::Ok();
  }

 private:
  HistoryRecordingBackend& backend_;
  ObjectName name_;
  std::unique_ptr<ObjectWriter> inner_;
};
}  // namespace

void HistoryRecordingBackend::Attach(std::shared_ptr<HistoryGuard> guard,
                                     std::function<void(const Status&)> on_error) {
  guard_ = std::move(guard);
  on_error_ = std::move(on_error);
}

void HistoryRecordingBackend::Recorded(const ObjectName& name, bool removed) {
  if (!guard_ || !Remembered(name.kind)) return;
  auto id = Id::FromHex(name.name);
  if (!id.ok()) return;  // not an object name: nothing a listing would show
  Status status =
      removed ? guard_->RecordRemoved(name.kind, {*id}) : guard_->RecordWritten(name.kind, *id);
  if (!status.ok() && on_error_) on_error_(status);
}

Status HistoryRecordingBackend::Put(const ObjectName& name, ByteView data) {
  RETURN_IF_ERROR(inner_->Put(name, data));
  Recorded(name, /*removed=*/false);
  return Status::Ok();
}

Status HistoryRecordingBackend::PutIfAbsent(const ObjectName& name, ByteView data) {
  RETURN_IF_ERROR(inner_->PutIfAbsent(name, data));
  Recorded(name, /*removed=*/false);
  return Status::Ok();
}

Status HistoryRecordingBackend::CopyFrom(Backend& source, const ObjectName& name) {
  RETURN_IF_ERROR(inner_->CopyFrom(source, name));
  Recorded(name, /*removed=*/false);
  return Status::Ok();
}

Status HistoryRecordingBackend::RecordRemovalsAhead(ObjectKind kind, const std::vector<Id>& ids) {
  if (!guard_) return Status::Ok();
  return guard_->RecordRemoved(kind, ids);
}

Status RecordRemovalsAhead(Backend& backend, ObjectKind kind, const std::vector<Id>& ids) {
  if (auto* recording = dynamic_cast<HistoryRecordingBackend*>(&backend))
    return recording->RecordRemovalsAhead(kind, ids);
  return Status::Ok();
}

Status HistoryRecordingBackend::Remove(const ObjectName& name) {
  Status status = inner_->Remove(name);
  // NotFound: it is gone, as the caller meant; the record must not keep it.
  if (status.ok() || status.IsNotFound()) Recorded(name, /*removed=*/true);
  return status;
}

Result<std::unique_ptr<ObjectWriter>> HistoryRecordingBackend::OpenWriter(const ObjectName& name) {
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectWriter> writer, inner_->OpenWriter(name));
  if (!Remembered(name.kind)) return writer;
  return std::unique_ptr<ObjectWriter>(new RecordingWriter(*this, name, std::move(writer)));
}

}  // namespace ferry
