#include "repo/pack_reader.h"

#include <algorithm>

namespace ferry {

namespace {

ObjectName PackObject(const IndexedPack& pack) {
  // A tree pack is metadata that a cache keeps (ObjectName::metadata), as
  // Repository::LoadBlob marks it.
  bool metadata = std::any_of(pack.blobs.begin(), pack.blobs.end(),
                              [](const PackEntry& entry) { return entry.type == BlobType::kTree; });
  return {ObjectKind::kData, pack.pack_id.Hex(), metadata};
}

// Cuts the byte stream of one range into the blobs [first, end) of the
// pack's list and visits each.
class RangeSplitter {
 public:
  RangeSplitter(Repository& repository, ByteView pack_key, const IndexedPack& pack, size_t first,
                size_t end, uint64_t offset, const PackBlobVisitor& visit)
      : repository_(repository),
        pack_key_(pack_key),
        pack_(pack),
        next_(first),
        end_(end),
        position_(offset),
        visit_(visit) {}

  // The next bytes of the range.
  Status Consume(ByteView piece) {
    while (true) {
      RETURN_IF_ERROR(DeliverComplete());
      if (piece.empty()) return Status::Ok();
      size_t n = piece.size();
      if (next_ < end_) {
        const PackEntry& entry = pack_.blobs[next_];
        if (position_ < entry.offset) {
          n = static_cast<size_t>(std::min<uint64_t>(n, entry.offset - position_));
        } else {
          size_t missing = entry.stored_length - pending_.size();
          n = std::min(n, missing);
          if (pending_.empty() && n == missing) {  // whole in this piece: no copy
            position_ += n;
            RETURN_IF_ERROR(Deliver(piece.first(n)));
            piece = piece.subspan(n);
            continue;
          }
          pending_.insert(pending_.end(), piece.begin(), piece.begin() + n);
        }
      }
      position_ += n;
      piece = piece.subspan(n);
    }
  }

  // The range's read ended with `read`: blobs it did not deliver are visited
  // with its error (or, if it claims success, as cut short).
  Status Finish(const Status& read) {
    if (!stopped_.ok()) return stopped_;
    RETURN_IF_ERROR(DeliverComplete());
    Status missing =
        read.ok() ? Status::Corruption("pack " + pack_.pack_id.Hex() + " ended before the blob")
                  : read.WithContext("reading pack " + pack_.pack_id.Hex());
    for (; next_ < end_; ++next_) {
      Status visited = visit_(next_, missing);
      if (!visited.ok()) return stopped_ = visited;
    }
    return Status::Ok();
  }

  const Status& stopped() const { return stopped_; }

 private:
  // Delivers the next blobs whose bytes are all there (zero-length ones
  // included), and refuses one that starts before the position, i.e. inside
  // the blob before it: its bytes went by.
  Status DeliverComplete() {
    while (next_ < end_) {
      const PackEntry& entry = pack_.blobs[next_];
      if (position_ < entry.offset) return Status::Ok();
      if (position_ > uint64_t{entry.offset} + pending_.size()) {
        pending_.clear();
        RETURN_IF_ERROR(Visit(Status::Corruption("blob " + entry.id.Hex() +
                                                 " overlaps the blob "
                                                 "before it in pack " +
                                                 pack_.pack_id.Hex())));
        continue;
      }
      if (pending_.size() != entry.stored_length) return Status::Ok();
      Status delivered = Deliver(pending_);
      pending_.clear();  // keeps its capacity for the next blob
      RETURN_IF_ERROR(delivered);
    }
    return Status::Ok();
  }

  Status Deliver(ByteView stored) {
    const PackEntry& entry = pack_.blobs[next_];
    auto plain =
        OpenBlob(repository_.pack_keys(), pack_key_, repository_.keys().mac, entry, stored);
    if (plain.ok() && plain->size() != entry.raw_length)
      plain =
          Status::Corruption("blob " + entry.id.Hex() + " has " + std::to_string(plain->size()) +
                             " bytes, the index says " + std::to_string(entry.raw_length));
    if (!plain.ok()) plain = plain.status().WithContext("pack " + pack_.pack_id.Hex());
    return Visit(std::move(plain));
  }

  Status Visit(Result<Bytes> plain) {
    Status visited = visit_(next_, std::move(plain));
    ++next_;
    if (!visited.ok()) stopped_ = visited;
    return visited;
  }

  Repository& repository_;
  ByteView pack_key_;
  const IndexedPack& pack_;
  size_t next_;
  size_t end_;
  uint64_t position_;  // pack offset of the next byte to arrive
  const PackBlobVisitor& visit_;
  Bytes pending_;  // the bytes of blob next_ so far, when it spans pieces
  Status stopped_;
};

}  // namespace

std::vector<PackRange> PlanPackRanges(std::span<const PackEntry> blobs, uint64_t max_gap) {
  std::vector<PackRange> ranges;
  uint64_t wanted = 0;
  bool overlaps = false;
  for (size_t i = 0; i < blobs.size(); ++i) {
    const PackEntry& blob = blobs[i];
    uint64_t end = uint64_t{blob.offset} + blob.stored_length;
    wanted += blob.stored_length;
    if (!ranges.empty()) {
      PackRange& last = ranges.back();
      uint64_t last_end = last.offset + last.length;
      if (blob.offset < last_end) {
        overlaps = true;
      } else if (blob.offset - last_end <= max_gap) {
        last.length = end - last.offset;
        ++last.count;
        continue;
      }
    }
    ranges.push_back({blob.offset, blob.stored_length, i, 1});
  }
  if (ranges.size() > 1 && !overlaps) {
    uint64_t span = ranges.back().offset + ranges.back().length - ranges.front().offset;
    if (wanted * 2 >= span) {
      ranges.front().length = span;
      ranges.front().count = blobs.size();
      ranges.resize(1);
    }
  }
  return ranges;
}

Status ReadPackBlobs(Repository& repository, const IndexedPack& pack, const PackBlobVisitor& visit,
                     uint64_t max_gap) {
  if (pack.blobs.empty()) return Status::Ok();
  ObjectName object = PackObject(pack);
  Bytes pack_key = DerivePackKey(repository.keys().data, pack.salt);
  for (const PackRange& range : PlanPackRanges(pack.blobs, max_gap)) {
    RangeSplitter splitter(repository, pack_key, pack, range.first, range.first + range.count,
                           range.offset, visit);
    Status read =
        repository.backend().ReadStream(object, range.offset, range.length,
                                        [&](ByteView piece) { return splitter.Consume(piece); });
    RETURN_IF_ERROR(splitter.Finish(read));
  }
  return Status::Ok();
}

Status StreamWholePack(Repository& repository, const IndexedPack& pack, uint64_t size,
                       const std::function<Status(uint64_t offset, ByteView piece)>& raw,
                       const PackBlobVisitor& visit) {
  Bytes pack_key = DerivePackKey(repository.keys().data, pack.salt);
  RangeSplitter splitter(repository, pack_key, pack, 0, pack.blobs.size(), 0, visit);
  uint64_t offset = 0;
  Status raw_status;
  Status read =
      repository.backend().ReadStream(PackObject(pack), 0, size, [&](ByteView piece) -> Status {
        raw_status = raw(offset, piece);
        if (!raw_status.ok()) return raw_status;
        offset += piece.size();
        return splitter.Consume(piece);
      });
  if (!raw_status.ok()) return raw_status;
  if (!splitter.stopped().ok()) return splitter.stopped();
  if (!read.ok()) return read;  // the caller reports the pack, not each blob
  return splitter.Finish(read);
}

}  // namespace ferry
