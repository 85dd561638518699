#include "seed/seed_repair.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "crypto/hash.h"
#include "repo/tree_walker.h"
#include "seed/pack_copy.h"
#include "storage/local_backend.h"
#include "util/file_util.h"

namespace ferry {

namespace {

// Where a blob's plaintext lies in the source tree.
struct BlobSource {
  std::string path;
  uint64_t offset = 0;
};

// A blob may be in several files (dedup); a few candidates let a rebuild
// survive one of them having changed.
constexpr size_t kCandidatesPerBlob = 4;

class SourceLocator {
 public:
  SourceLocator(Repository& repository,
                std::unordered_map<Id, std::vector<BlobSource>, IdHash>& out)
      : repository_(repository), sources_(out) {}

  // Walks every snapshot's tree; the root tree mirrors absolute paths. A tree
  // that does not load only costs the candidates below it.
  Status Run() {
    ASSIGN_OR_RETURN(std::vector<SnapshotEntry> snapshots, repository_.ListSnapshots());
    TreeWalkCallbacks callbacks;
    callbacks.enter = [&](const std::string&, const Id& tree, size_t) {
      return visited_.insert(tree).second;
    };
    callbacks.tree_error = [](const std::string&, const Id&, const Status&) {};
    callbacks.node = [&](const std::string& path, const Node& node) {
      if (node.type == NodeType::kFile) AddCandidates(path, node);
      return true;
    };
    // Newest first: the files most likely to be unchanged now.
    for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it)
      RETURN_IF_ERROR(WalkTrees(repository_, it->snapshot.tree, callbacks));
    return Status::Ok();
  }

 private:
  void AddCandidates(const std::string& path, const Node& node) {
    uint64_t offset = 0;
    for (const Id& blob : node.content) {
      auto location = repository_.FindBlob(BlobType::kData, blob);
      if (!location) break;  // a blob of a damaged index: offsets after it are unknown
      auto wanted = sources_.find(blob);
      if (wanted != sources_.end() && wanted->second.size() < kCandidatesPerBlob)
        wanted->second.push_back({path, offset});
      offset += location->entry.raw_length;
    }
  }

  Repository& repository_;
  std::unordered_map<Id, std::vector<BlobSource>, IdHash>& sources_;
  std::unordered_set<Id, IdHash> visited_;
};

// Reads the blob from its candidates; the first whose MAC matches wins.
Result<Bytes> ReadBlobFromSource(Repository& repository, const PackEntry& entry,
                                 const std::vector<BlobSource>& candidates) {
  std::string why = "no file of any snapshot holds it";
  for (const BlobSource& source : candidates) {
    int fd = ::open(source.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      why = ErrnoStatus("open " + source.path, errno).message();
      continue;
    }
    Bytes plaintext(entry.raw_length);
    Status read = ReadAt(fd, source.offset, plaintext.data(), plaintext.size(), source.path);
    ::close(fd);
    if (!read.ok()) {
      why = source.path + " is shorter than at the backup: it changed since";
      continue;
    }
    if (repository.BlobId(plaintext) == entry.id) return plaintext;
    why = source.path + " changed since the backup";
  }
  return Status::NotFound(why);
}

// Rebuilds one pack from the source and checks it against the lost pack's name.
Result<BufferBytes> RebuildPack(
    Repository& repository, const IndexedPack& lost,
    const std::unordered_map<Id, std::vector<BlobSource>, IdHash>& sources) {
  std::vector<PackEntry> blobs = lost.blobs;
  std::sort(blobs.begin(), blobs.end(),
            [](const PackEntry& a, const PackEntry& b) { return a.offset < b.offset; });
  PackBuilder builder(repository.pack_keys());
  builder.UseSalt(lost.salt);
  for (const PackEntry& entry : blobs) {
    auto found = sources.find(entry.id);
    static const std::vector<BlobSource> kNone;
    auto plaintext =
        ReadBlobFromSource(repository, entry, found == sources.end() ? kNone : found->second);
    if (!plaintext.ok())
      return Status::NotFound("blob " + entry.id.Short() + ": " + plaintext.status().message());
    builder.AddBlob(entry.type, entry.id, *plaintext, repository.config().compression_level);
  }
  std::vector<PackEntry> rebuilt;
  BufferBytes pack = builder.Finish(&rebuilt, nullptr);
  if (Sha256(pack) != lost.pack_id)
    return Status::Corruption(
        "the rebuilt pack differs from the lost one although every blob's content matched "
        "(the compressor changed since the backup?)");
  return pack;
}

}  // namespace

Result<std::vector<PackRepair>> RepairMissingPacks(
    Repository& repository, Backend& destination, const std::vector<Id>& missing,
    const std::string& staging_dir, const std::function<void(const PackRepair&)>& on_pack) {
  std::vector<PackRepair> report;
  std::vector<Id> from_source;
  std::map<Id, std::string> staging_problems;
  struct stat st;
  bool have_staging = !staging_dir.empty() && ::stat((staging_dir + "/data").c_str(), &st) == 0 &&
                      S_ISDIR(st.st_mode);
  LocalBackend staging(staging_dir);
  for (const Id& pack : missing) {
    if (have_staging) {
      auto copied = CopyVerifiedPack(staging, destination, pack);
      if (copied.ok()) {
        report.push_back({pack, RepairSource::kStaging, *copied, ""});
        if (on_pack) on_pack(report.back());
        continue;
      }
      if (!copied.status().IsNotFound() && copied.status().code() != StatusCode::kCorruption)
        return copied.status();
      if (copied.status().code() == StatusCode::kCorruption)
        staging_problems[pack] = "staging copy damaged; ";
    }
    from_source.push_back(pack);
  }
  if (from_source.empty()) return report;

  // The lost packs' index entries: salt, blob order, compression. Read from
  // the index objects, not the master index: that keeps only a blob's first
  // location, and a rebuilt pack needs every one of its own entries.
  std::unordered_map<Id, IndexedPack, IdHash> lost;
  for (const Id& pack : from_source) lost[pack];
  ASSIGN_OR_RETURN(std::vector<std::string> index_names,
                   ListNames(repository.backend(), ObjectKind::kIndex));
  std::unordered_set<Id, IdHash> indexed;
  for (const std::string& name : index_names) {
    ASSIGN_OR_RETURN(Bytes plaintext,
                     repository.LoadSealed(ObjectKind::kIndex, *Id::FromHex(name)));
    ASSIGN_OR_RETURN(std::vector<IndexedPack> packs, ParseIndex(plaintext));
    for (IndexedPack& pack : packs) {
      auto it = lost.find(pack.pack_id);
      if (it != lost.end() && indexed.insert(pack.pack_id).second) it->second = std::move(pack);
    }
  }
  std::unordered_map<Id, std::vector<BlobSource>, IdHash> sources;
  for (const auto& [id, pack] : lost)
    for (const PackEntry& blob : pack.blobs) sources[blob.id];
  RETURN_IF_ERROR(SourceLocator(repository, sources).Run());

  for (const Id& pack : from_source) {
    PackRepair repair{pack, RepairSource::kUnrecoverable, 0, staging_problems[pack]};
    if (!indexed.count(pack)) {
      repair.detail += "no index lists it, so no snapshot needs it";
    } else {
      auto rebuilt = RebuildPack(repository, lost[pack], sources);
      if (rebuilt.ok()) {
        RETURN_IF_ERROR(destination.Put({ObjectKind::kData, pack.Hex()}, *rebuilt));
        repair = {pack, RepairSource::kSource, rebuilt->size(), ""};
      } else {
        repair.detail += rebuilt.status().message();
      }
    }
    report.push_back(repair);
    if (on_pack) on_pack(report.back());
  }
  return report;
}

}  // namespace ferry
