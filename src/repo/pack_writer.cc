#include "repo/pack_writer.h"

#include "crypto/hash.h"
#include "repo/repository.h"

namespace ferry {

PackWriter::PackWriter(Repository& repository) : repository_(repository) {
  for (int i = 0; i < kUploaders; ++i) uploaders_.emplace_back([this] { UploadLoop(); });
}

PackWriter::~PackWriter() {
  upload_queue_.Close();
  for (auto& thread : uploaders_) thread.join();
}

Status PackWriter::UploadStatus() {
  std::lock_guard lock(upload_mutex_);
  return upload_status_;
}

Result<bool> PackWriter::Save(BlobType type, const Id& id, ByteView plaintext) {
  RETURN_IF_ERROR(UploadStatus());
  std::unique_ptr<PackBuilder> builder;
  {
    std::lock_guard lock(mutex_);
    // Dedup by (type, ID): a tree must not be satisfied by a chunk of the
    // same bytes in a data pack, nor the other way round.
    auto& pending = pending_[static_cast<int>(type)];
    if (pending.count(id) || repository_.index().Contains(type, id)) return false;
    pending.insert(id);
    auto& idle = idle_builders_[static_cast<int>(type)];
    if (idle.empty()) {
      builder =
          std::make_unique<PackBuilder>(repository_.pack_keys(), repository_.config().pack_size);
    } else {
      builder = std::move(idle.back());
      idle.pop_back();
    }
  }
  builder->AddBlob(type, id, plaintext, repository_.config().compression_level);
  if (builder->size() >= repository_.config().pack_size) Enqueue(*builder);
  {
    std::lock_guard lock(mutex_);
    idle_builders_[static_cast<int>(type)].push_back(std::move(builder));
  }
  return true;
}

void PackWriter::Enqueue(PackBuilder& builder) {
  FinishedPack pack;
  Bytes salt;
  pack.bytes = builder.Finish(&pack.indexed.blobs, &salt);
  std::copy(salt.begin(), salt.end(), pack.indexed.salt.begin());
  {
    std::lock_guard lock(upload_mutex_);
    ++in_flight_;
  }
  upload_queue_.Push(std::move(pack));
}

void PackWriter::UploadLoop() {
  while (auto pack = upload_queue_.Pop()) {
    Status status = UploadStatus().ok() ? Upload(*pack) : Status::Ok();

    std::lock_guard lock(upload_mutex_);
    if (!status.ok() && upload_status_.ok()) upload_status_ = status;
    --in_flight_;
    uploads_done_.notify_all();
  }
}

Status PackWriter::Upload(FinishedPack& pack) {
  IndexedPack& indexed = pack.indexed;
  indexed.pack_id = Sha256(pack.bytes);
  bool data = !indexed.blobs.empty() && indexed.blobs.front().type == BlobType::kData;
  Backend& destination = data ? repository_.DataPackDestination() : repository_.backend();
  RETURN_IF_ERROR(destination.Put({ObjectKind::kData, indexed.pack_id.Hex(), !data}, pack.bytes)
                      .WithContext("storing pack " + indexed.pack_id.Hex()));
  bytes_written_ += pack.bytes.size();
  ++packs_written_;
  {
    // Into the master index before leaving pending_, so that no Save can see
    // the blob in neither and store it twice.
    std::lock_guard lock(mutex_);
    repository_.index().AddPack(indexed);
    for (const PackEntry& blob : indexed.blobs)
      pending_[static_cast<int>(blob.type)].erase(blob.id);
  }
  std::lock_guard lock(index_mutex_);
  unindexed_packs_.push_back(std::move(indexed));
  if (unindexed_packs_.size() >= kPacksPerIndex) return WriteIndexLocked();
  return Status::Ok();
}

Status PackWriter::WriteIndexLocked() {
  if (unindexed_packs_.empty()) return Status::Ok();
  auto id = repository_.SaveSealed(ObjectKind::kIndex, EncodeIndex(unindexed_packs_));
  if (!id.ok()) return id.status().WithContext("writing index");
  unindexed_packs_.clear();
  return Status::Ok();
}

Status PackWriter::Flush() {
  for (auto& idle : idle_builders_) {
    std::vector<std::unique_ptr<PackBuilder>> builders;
    {
      std::lock_guard lock(mutex_);
      builders.swap(idle);
    }
    for (auto& builder : builders)
      if (!builder->empty()) Enqueue(*builder);
    std::lock_guard lock(mutex_);
    for (auto& builder : builders) idle.push_back(std::move(builder));
  }
  {
    std::unique_lock lock(upload_mutex_);
    uploads_done_.wait(lock, [&] { return in_flight_ == 0; });
    RETURN_IF_ERROR(upload_status_);
  }
  std::lock_guard lock(index_mutex_);
  return WriteIndexLocked();
}

}  // namespace ferry
