#include "repo/pack_writer.h"

#include "crypto/hash.h"
#include "repo/repository.h"

namespace ferry {

PackWriter::PackWriter(Repository& repository) : repository_(repository) {}
PackWriter::~PackWriter() = default;

Result<bool> PackWriter::Save(BlobType type, const Id& id, ByteView plaintext) {
  std::unique_ptr<PackBuilder> builder;
  {
    std::lock_guard lock(mutex_);
    if (pending_.count(id) || repository_.index().Contains(id)) return false;
    pending_.insert(id);
    if (idle_builders_.empty()) {
      builder = std::make_unique<PackBuilder>(repository_.pack_keys());
    } else {
      builder = std::move(idle_builders_.back());
      idle_builders_.pop_back();
    }
  }
  Bytes compressed;
  Compression compression =
      CompressIfUseful(plaintext, repository_.config().compression_level, compressed);
  builder->AddBlob(type, id, compression, static_cast<uint32_t>(plaintext.size()),
                   compression == Compression::kZstd ? ByteView(compressed) : plaintext);
  Status status;
  if (builder->size() >= repository_.config().pack_size) status = UploadPack(*builder);
  {
    std::lock_guard lock(mutex_);
    idle_builders_.push_back(std::move(builder));
  }
  if (!status.ok()) return status;
  return true;
}

Status PackWriter::UploadPack(PackBuilder& builder) {
  IndexedPack indexed;
  Bytes salt;
  Bytes pack = builder.Finish(&indexed.blobs, &salt);
  std::copy(salt.begin(), salt.end(), indexed.salt.begin());
  indexed.pack_id = Sha256(pack);
  RETURN_IF_ERROR(repository_.backend()
                      .Put({ObjectKind::kData, indexed.pack_id.Hex()}, pack)
                      .WithContext("storing pack " + indexed.pack_id.Hex()));
  bytes_written_ += pack.size();
  ++packs_written_;
  {
    // Into the master index before leaving pending_, so that no Save can see
    // the blob in neither and store it twice.
    std::lock_guard lock(mutex_);
    repository_.index().AddPack(indexed);
    for (const PackEntry& blob : indexed.blobs) pending_.erase(blob.id);
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
  std::vector<std::unique_ptr<PackBuilder>> builders;
  {
    std::lock_guard lock(mutex_);
    builders.swap(idle_builders_);
  }
  Status status;
  for (auto& builder : builders)
    if (status.ok() && !builder->empty()) status = UploadPack(*builder);
  {
    std::lock_guard lock(mutex_);
    for (auto& builder : builders) idle_builders_.push_back(std::move(builder));
  }
  RETURN_IF_ERROR(status);
  std::lock_guard lock(index_mutex_);
  return WriteIndexLocked();
}

}  // namespace ferry
