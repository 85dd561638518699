#include "repo/repository.h"

#include <algorithm>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "format/sealed_object.h"
#include "repo/key_files.h"
#include "repo/pack_writer.h"
#include "util/clock.h"
#include "util/system_info.h"

namespace ferry {

namespace {
// The config is sealed before the repository ID is known to the reader.
const Id kNoRepositoryId{};

}  // namespace

Repository::Repository(std::unique_ptr<Backend> backend, RepositoryConfig config, Bytes master_key,
                       Id key_id)
    : backend_(std::move(backend)),
      config_(std::move(config)),
      master_key_(std::move(master_key)),
      keys_(DeriveSubkeys(master_key_)),
      key_id_(key_id),
      pack_writer_(std::make_unique<PackWriter>(*this)) {}

Repository::~Repository() = default;

Result<std::unique_ptr<Repository>> Repository::Init(std::unique_ptr<Backend> backend,
                                                     std::string_view password,
                                                     const Argon2Params& kdf) {
  RETURN_IF_ERROR(backend->Create());
  RepositoryConfig config;
  config.id = Id::FromBytes(RandomBytes(Id::kSize));
  Bytes master_key = RandomBytes(kMasterKeySize);
  std::unique_ptr<Repository> repository(
      new Repository(std::move(backend), config, master_key, Id{}));
  ASSIGN_OR_RETURN(repository->key_id_, repository->SaveKey(master_key, password, kdf));
  Bytes sealed =
      SealObject(repository->keys_.data, kNoRepositoryId, "config", EncodeConfig(config));
  RETURN_IF_ERROR(repository->backend_->Put(ObjectName::Config(), sealed));
  return repository;
}

Result<std::unique_ptr<Repository>> Repository::Open(std::unique_ptr<Backend> backend,
                                                     std::string_view password) {
  auto config_size = backend->Stat(ObjectName::Config());
  if (!config_size.ok()) {
    if (config_size.status().IsNotFound())
      return Status::NoRepository("there is no repository at " + backend->Location() +
                                  " (create one with 'ferry init')");
    return config_size.status();
  }
  ASSIGN_OR_RETURN(std::vector<StoredKeyFile> key_files, ReadKeyFiles(*backend));
  if (key_files.empty())
    return Status::Corruption("repository at " + backend->Location() + " has no key files");
  // Every key file is checked before any is tried, so that the ones skipped
  // are reported the same way whichever key opens, and no Argon2 work is done
  // for a file that is damaged or asks for more than ferry ever writes.
  std::vector<DamagedObject> skipped;
  std::string skipped_text;
  bool unsupported = false;
  for (const StoredKeyFile& key : key_files) {
    if (key.intact()) continue;
    skipped.push_back({ObjectKind::kKey, key.id, key.problem.message()});
    skipped_text += "; " + key.problem.message();
    unsupported |= key.problem.code() == StatusCode::kUnsupported;
  }
  Status config_error = Status::Ok();
  bool any_intact = false;
  for (const StoredKeyFile& key : key_files) {
    if (!key.intact()) continue;
    any_intact = true;
    auto master_key = UnsealMasterKey(key.key_file, password);
    if (!master_key.ok()) {
      if (master_key.status().code() == StatusCode::kWrongPassword) continue;
      return master_key.status().WithContext("key file " + key.id.Hex());
    }
    Subkeys keys = DeriveSubkeys(*master_key);
    ASSIGN_OR_RETURN(Bytes sealed_config, backend->Get(ObjectName::Config()));
    auto config_json = OpenObject(keys.data, kNoRepositoryId, "config", sealed_config);
    auto config = config_json.ok() ? ParseConfig(*config_json)
                                   : Result<RepositoryConfig>(config_json.status());
    if (!config.ok()) {
      // This key opens with the password but not the config: the config is
      // damaged, or the key file was copied from another repository. Another
      // key file may still be the right one.
      if (config_error.ok()) config_error = config.status().WithContext("repository config");
      continue;
    }
    std::unique_ptr<Repository> repository(
        new Repository(std::move(backend), std::move(*config), std::move(*master_key), key.id));
    repository->damaged_ = std::move(skipped);
    return repository;
  }
  if (!config_error.ok()) return config_error;
  if (!any_intact) {
    std::string message = "no key file in " + backend->Location() + " can be used" + skipped_text;
    return unsupported ? Status::Unsupported(message) : Status::Corruption(message);
  }
  return Status::WrongPassword(
      "wrong password: no key in " + backend->Location() + " opens with it" +
      (skipped.empty() ? std::string() : " (skipped as unusable" + skipped_text + ")"));
}

Id Repository::BlobId(ByteView plaintext) const { return HmacSha256(keys_.mac, plaintext); }

Result<Id> Repository::SaveSealed(ObjectKind kind, ByteView plaintext) {
  Bytes sealed = SealObject(keys_.data, config_.id, ObjectLabel(kind), plaintext);
  Id id = Sha256(sealed);
  RETURN_IF_ERROR(backend_->Put({kind, id.Hex()}, sealed));
  return id;
}

Result<Bytes> Repository::OpenSealed(ObjectKind kind, const Id& id) {
  ASSIGN_OR_RETURN(Bytes sealed, backend_->Get({kind, id.Hex()}));
  if (Sha256(sealed) != id) return Status::Corruption("its content does not match its name");
  return OpenObject(keys_.data, config_.id, ObjectLabel(kind), sealed);
}

Result<Bytes> Repository::LoadSealed(ObjectKind kind, const Id& id) {
  auto plain = OpenSealed(kind, id);
  if (!plain.ok()) return plain.status().WithContext(ObjectLabel(kind) + " " + id.Hex());
  return plain;
}

bool Repository::SkipDamaged(ObjectKind kind, const Id& id, const Status& status) {
  if (status.IsNotFound()) return true;
  if (!IsDamage(status)) return false;
  std::lock_guard lock(damaged_mutex_);
  for (const DamagedObject& known : damaged_)
    if (known.kind == kind && known.id == id) return true;
  damaged_.push_back({kind, id, status.message()});
  return true;
}

std::vector<DamagedObject> Repository::damaged() const {
  std::lock_guard lock(damaged_mutex_);
  return damaged_;
}

Status Repository::LoadIndex() {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames(*backend_, ObjectKind::kIndex));
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(Id id, Id::FromHex(name));
    auto plain = OpenSealed(ObjectKind::kIndex, id);
    auto packs = plain.ok() ? ParseIndex(*plain) : Result<std::vector<IndexedPack>>(plain.status());
    if (!packs.ok()) {
      if (SkipDamaged(ObjectKind::kIndex, id, packs.status())) continue;
      return packs.status().WithContext("index " + name);
    }
    for (const IndexedPack& pack : *packs) index_.AddPack(pack);
  }
  return Status::Ok();
}

std::optional<BlobLocation> Repository::FindBlob(BlobType type, const Id& id) const {
  if (auto location = index_.Find(type, id)) return location;
  return index_.Find(type == BlobType::kTree ? BlobType::kData : BlobType::kTree, id);
}

Result<Bytes> Repository::LoadBlob(BlobType type, const Id& id) {
  auto location = FindBlob(type, id);
  if (!location)
    return Status::NotFound(std::string(BlobTypeName(type)) + " blob " + id.Hex() +
                            " is not in the index");
  const PackEntry& entry = location->entry;
  ObjectName pack{ObjectKind::kData, location->pack_id.Hex(), entry.type == BlobType::kTree};
  auto stored = backend_->Get(pack, entry.offset, entry.stored_length);
  if (!stored.ok())
    return stored.status().WithContext("reading blob " + id.Hex() + " from pack " +
                                       location->pack_id.Hex());
  Bytes pack_key = DerivePackKey(keys_.data, location->salt);
  auto plain = OpenBlob(pack_keys(), pack_key, keys_.mac, entry, *stored);
  if (!plain.ok()) return plain.status().WithContext("pack " + location->pack_id.Hex());
  return plain;
}

Result<bool> Repository::SaveBlob(BlobType type, const Id& id, ByteView plaintext) {
  return pack_writer_->Save(type, id, plaintext);
}

Status Repository::Flush() { return pack_writer_->Flush(); }
uint64_t Repository::bytes_written() const { return pack_writer_->bytes_written(); }
uint64_t Repository::packs_written() const { return pack_writer_->packs_written(); }

Result<Tree> Repository::LoadTree(const Id& id) {
  ASSIGN_OR_RETURN(Bytes json, LoadBlob(BlobType::kTree, id));
  auto tree = ParseTree(json);
  if (!tree.ok()) return tree.status().WithContext("tree " + id.Hex());
  return tree;
}

Result<Id> Repository::SaveTree(const Tree& tree) {
  Bytes json = EncodeTree(tree);
  Id id = BlobId(json);
  RETURN_IF_ERROR(SaveBlob(BlobType::kTree, id, json).status());
  return id;
}

Result<Id> Repository::SaveSnapshot(const Snapshot& snapshot) {
  return SaveSealed(ObjectKind::kSnapshot, EncodeSnapshot(snapshot));
}

Result<Snapshot> Repository::ReadSnapshot(const Id& id) {
  ASSIGN_OR_RETURN(Bytes json, OpenSealed(ObjectKind::kSnapshot, id));
  return ParseSnapshot(json);
}

Result<Snapshot> Repository::LoadSnapshot(const Id& id) {
  auto snapshot = ReadSnapshot(id);
  if (!snapshot.ok()) return snapshot.status().WithContext("snapshot " + id.Hex());
  return snapshot;
}

Result<std::vector<SnapshotEntry>> Repository::ListSnapshots() {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames(*backend_, ObjectKind::kSnapshot));
  std::vector<SnapshotEntry> snapshots;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(Id id, Id::FromHex(name));
    auto snapshot = ReadSnapshot(id);
    if (!snapshot.ok()) {
      if (SkipDamaged(ObjectKind::kSnapshot, id, snapshot.status())) continue;
      return snapshot.status().WithContext("snapshot " + name);
    }
    snapshots.push_back({id, std::move(*snapshot)});
  }
  std::sort(snapshots.begin(), snapshots.end(), [](const auto& a, const auto& b) {
    return a.snapshot.time_ns != b.snapshot.time_ns ? a.snapshot.time_ns < b.snapshot.time_ns
                                                    : a.id < b.id;
  });
  return snapshots;
}

Result<SnapshotEntry> Repository::FindSnapshot(const std::string& selector) {
  ASSIGN_OR_RETURN(std::vector<SnapshotEntry> snapshots, ListSnapshots());
  if (selector == "latest") {
    if (snapshots.empty()) return Status::NotFound("the repository has no snapshots yet");
    return snapshots.back();
  }
  const SnapshotEntry* match = nullptr;
  for (const SnapshotEntry& entry : snapshots) {
    if (entry.id.Hex().rfind(selector, 0) == 0) {
      if (match) return Status::InvalidArgument("snapshot prefix '" + selector + "' is ambiguous");
      match = &entry;
    }
  }
  if (!match || selector.empty()) return Status::NotFound("no snapshot matches '" + selector + "'");
  return *match;
}

Result<Id> Repository::SaveKey(ByteView master_key, std::string_view password,
                               const Argon2Params& kdf) {
  KeyFileOrigin origin{Clock::System().NowNanos(), HostName(), UserName()};
  ASSIGN_OR_RETURN(KeyFile key_file, SealMasterKey(master_key, password, kdf, origin));
  Bytes bytes = EncodeKeyFile(key_file);
  Id id = Sha256(bytes);
  RETURN_IF_ERROR(backend_->Put({ObjectKind::kKey, id.Hex()}, bytes));
  return id;
}

Result<std::vector<KeyInfo>> Repository::ListKeys() {
  ASSIGN_OR_RETURN(std::vector<StoredKeyFile> stored, ReadKeyFiles(*backend_));
  std::vector<KeyInfo> keys;
  for (StoredKeyFile& key : stored)
    keys.push_back({key.id, std::move(key.key_file), key.id == key_id_, std::move(key.problem)});
  std::stable_sort(keys.begin(), keys.end(), [](const KeyInfo& a, const KeyInfo& b) {
    if (a.problem.ok() != b.problem.ok()) return a.problem.ok();
    return a.problem.ok() && a.key_file.created_ns < b.key_file.created_ns;
  });
  return keys;
}

Result<Id> Repository::AddKey(std::string_view password, const Argon2Params& kdf) {
  return SaveKey(master_key_, password, kdf);
}

Status Repository::RemoveKey(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(std::vector<KeyInfo> keys, ListKeys());
  const KeyInfo* match = nullptr;
  for (const KeyInfo& key : keys) {
    if (!id_prefix.empty() && key.id.Hex().rfind(id_prefix, 0) == 0) {
      if (match) return Status::InvalidArgument("key prefix '" + id_prefix + "' is ambiguous");
      match = &key;
    }
  }
  if (!match) return Status::NotFound("no key matches '" + id_prefix + "'");
  size_t intact =
      std::count_if(keys.begin(), keys.end(), [](const KeyInfo& key) { return key.problem.ok(); });
  if (match->problem.ok() && intact == 1)
    return Status::InvalidArgument("key " + match->id.Short() +
                                   " is the last intact key: without it nobody could open the "
                                   "repository; add another with 'ferry key add' first");
  if (match->current)
    return Status::InvalidArgument("key " + match->id.Short() +
                                   " is the one in use; open the repository with another "
                                   "password to remove it");
  return backend_->Remove({ObjectKind::kKey, match->id.Hex()});
}

}  // namespace ferry
