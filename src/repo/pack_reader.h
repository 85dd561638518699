// Reading many blobs of one pack in few, large reads, each blob handed over
// decrypted and verified (its MAC checked) — what restore and
// `check --read-data` do with every pack they touch.
//
// Reading blob by blob costs one ranged read each: on an object store that is
// one request per blob (~17,900 for a 1 GB restore of small files, each about
// a millisecond of the server's CPU). Here the wanted blobs, sorted by offset,
// are grouped into ranges (PlanPackRanges): a blob joins the range before it
// when the gap between them is at most `max_gap` (the gap is read and
// dropped: reading it costs less than another request), and when the wanted
// blobs fill at least half of the span from the first to the last, the whole
// span is one range. restic's StreamPack does the same with a 4 MiB gap.
//
// Each range is streamed (Backend::ReadStream) and cut into blobs as its
// bytes arrive, so memory holds one blob, not the range. Damage stays with
// the blob: one that does not decrypt or whose MAC does not match is
// reported alone; a range that cannot be read (after the backend's retries)
// fails its blobs that were not yet delivered, and the next range is still
// tried.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "format/index_file.h"
#include "repo/repository.h"

namespace ferry {

// On s3rver and Azurite a request costs the server about a millisecond of
// CPU, as much as sending ~200 KB; on a cloud store the first byte of a
// request takes 20-50 ms, as long as 1-5 MB take to arrive. Locally a gap
// costs a copy from the page cache. 1 MiB is between the two.
constexpr uint64_t kDefaultPackReadGap = 1 << 20;

// Wanted blobs [first, first + count) of a sorted list, read as the bytes
// [offset, offset + length) of the pack.
struct PackRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  size_t first = 0;
  size_t count = 0;
};

// Groups `blobs` (REQUIRES: sorted by offset) into ranges as the top comment
// says. A blob that overlaps the one before it (only a damaged or forged
// index says so) starts a range of its own.
std::vector<PackRange> PlanPackRanges(std::span<const PackEntry> blobs, uint64_t max_gap);

// Called once for each wanted blob, in the order of the list: its verified
// plaintext, or why it cannot be had. A non-OK return stops the read (ReadPackBlobs
// then returns it): for cancelling.
using PackBlobVisitor = std::function<Status(size_t index, Result<Bytes> plaintext)>;

// Reads the blobs `pack.blobs` (REQUIRES: sorted by offset) of the pack
// `pack.pack_id` with its salt, in the ranges PlanPackRanges gives. Returns OK
// unless `visit` stopped it; read errors reach `visit`, blob by blob.
Status ReadPackBlobs(Repository& repository, const IndexedPack& pack, const PackBlobVisitor& visit,
                     uint64_t max_gap = kDefaultPackReadGap);

// Reads all `size` bytes of a pack in one stream: `raw` sees every byte in
// order (with its offset in the pack), and the blobs `pack.blobs` (REQUIRES:
// sorted by offset, not overlapping, inside the pack) are visited as above.
// Returns the read's error, if any (the blobs it left unread are not
// visited: the pack as a whole could not be read), or what `visit` or `raw`
// stopped it with.
Status StreamWholePack(Repository& repository, const IndexedPack& pack, uint64_t size,
                       const std::function<Status(uint64_t offset, ByteView piece)>& raw,
                       const PackBlobVisitor& visit);

}  // namespace ferry
