#include "repo/checker.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "crypto/hash.h"
#include "format/sealed_object.h"
#include "repo/key_files.h"
#include "repo/pack_header.h"
#include "repo/pack_reader.h"
#include "repo/tree_walker.h"

namespace ferry {

namespace {

class Check {
 public:
  Check(Repository& repository, const CheckOptions& options,
        const std::function<void(const std::string&)>& progress)
      : repository_(repository), options_(options), progress_(progress) {}

  Result<CheckReport> Run() {
    progress_("checking keys and config");
    RETURN_IF_ERROR(CheckKeysAndConfig());
    progress_("listing packs");
    RETURN_IF_ERROR(
        repository_.backend().List(ObjectKind::kData, [&](const std::string& name, uint64_t size) {
          auto id = Id::FromHex(name);
          if (id.ok()) stored_packs_[*id] = size;
          return Status::Ok();
        }));
    progress_("loading indexes");
    RETURN_IF_ERROR(LoadIndexes());
    progress_("checking packs");
    CheckPacks();
    CheckUnindexedPacks();
    progress_("checking snapshots");
    RETURN_IF_ERROR(CheckSnapshots());
    // Indexes first: a rebuilt index can bring back blobs that snapshots miss.
    if (!damaged_indexes_.empty() || !index_fixes_.empty()) {
      std::string repair = "ferry repair index";
      for (const std::string& option : index_fixes_) repair += " " + option;
      report_.repairs.push_back(repair);
    }
    if (!damaged_packs_.empty()) {
      std::string packs;
      for (const Id& id : damaged_packs_) packs += " " + id.Hex();
      report_.repairs.push_back("ferry repair packs" + packs);
    }
    if (snapshots_to_repair_) report_.repairs.push_back("ferry repair snapshots --forget");
    for (const Id& key : damaged_keys_) report_.repairs.push_back("ferry key remove " + key.Hex());
    return report_;
  }

 private:
  void Error(std::string message) {
    std::lock_guard lock(mutex_);
    report_.errors.push_back(std::move(message));
  }

  // Key files and the config are objects like any other: their bytes must
  // match their names (the config's name is fixed, its AEAD covers it), they
  // must parse, the config must authenticate and be the one this process
  // opened. Opening the repository only needed one good key and the config as
  // read then; this verifies everything stored now.
  Status CheckKeysAndConfig() {
    ASSIGN_OR_RETURN(std::vector<StoredKeyFile> keys, ReadKeyFiles(repository_.backend()));
    for (const StoredKeyFile& key : keys) {
      if (key.intact()) continue;
      if (!IsDamage(key.problem)) {  // a newer ferry's key file: intact, just unknown here
        report_.warnings.push_back(key.problem.message() + " (this ferry cannot use it)");
        continue;
      }
      Error(key.problem.message() +
            ": no password opens the repository through it; 'ferry key "
            "remove " +
            key.id.Hex() + "' removes it");
      damaged_keys_.push_back(key.id);
    }
    auto sealed = repository_.backend().Get(ObjectName::Config());
    if (!sealed.ok()) {
      if (!IsDamage(sealed.status()) && !sealed.status().IsNotFound()) return sealed.status();
      Error("config cannot be read: " + sealed.status().message());
      return Status::Ok();
    }
    // Sealed with an all-zero repository ID: the ID is inside (docs/format.md).
    auto plain =
        OpenObject(repository_.keys().data, Id{}, ObjectLabel(ObjectKind::kConfig), *sealed);
    auto config = plain.ok() ? ParseConfig(*plain) : Result<RepositoryConfig>(plain.status());
    if (!config.ok()) {
      Error("config is damaged (" + config.status().message() +
            "): every reader needs it; put back a copy from a backup of the repository");
    } else if (config->id != repository_.config().id) {
      Error("config now names repository " + config->id.Hex() + ", not " +
            repository_.config().id.Hex() + " that was opened");
    }
    return Status::Ok();
  }

  Status LoadIndexes() {
    ASSIGN_OR_RETURN(std::vector<std::string> names,
                     ListNames(repository_.backend(), ObjectKind::kIndex));
    for (const std::string& name : names) {
      auto id = Id::FromHex(name);
      auto plain = repository_.LoadSealed(ObjectKind::kIndex, *id);
      auto packs =
          plain.ok() ? ParseIndex(*plain) : Result<std::vector<IndexedPack>>(plain.status());
      if (!packs.ok()) {
        if (!IsDamage(packs.status())) return packs.status();
        damaged_indexes_.push_back({ObjectKind::kIndex, *id, packs.status().message()});
        continue;
      }
      for (IndexedPack& pack : *packs) {
        for (const PackEntry& blob : pack.blobs) indexed_blobs_.insert(blob.id);
        repository_.index().AddPack(pack);
        indexed_packs_.emplace(pack.pack_id, std::move(pack));
      }
    }
    return Status::Ok();
  }

  // Packs no readable index lists: left by an interrupted backup, listed only
  // by a damaged index, or planted. Their headers say which.
  void CheckUnindexedPacks() {
    size_t unindexed = 0;
    for (const auto& [pack_id, size] : stored_packs_) {
      if (indexed_packs_.count(pack_id)) continue;
      // Unindexed packs are few (interrupted backups), so they are read whole:
      // nothing else would ever verify their blobs.
      auto header = ReadPackHeader(repository_, pack_id, size);
      Status verified = header.ok() ? VerifyPackBlobs(repository_, *header) : header.status();
      if (!verified.ok()) {
        if (!IsDamage(verified)) {
          Error("pack " + pack_id.Hex() + " cannot be read: " + verified.message());
          continue;
        }
        Error("pack " + pack_id.Hex() + " is damaged (" + verified.message() +
              "): no readable index lists it, so nothing restorable is known to be in it; "
              "'ferry repair packs " +
              pack_id.Hex() + "' removes it");
        damaged_packs_.insert(pack_id);
        continue;
      }
      ++unindexed;
      report_.warnings.push_back(
          "pack " + pack_id.Hex() + " is not in any readable index" +
          (damaged_indexes_.empty()
               ? std::string(" (left by an interrupted backup; harmless, prune removes it)")
               : std::string(" (perhaps listed by a damaged index; 'ferry repair index' "
                             "indexes it again)")));
    }
    for (const DamagedObject& index : damaged_indexes_)
      Error("index " + index.id.Hex() + " is damaged (" + index.problem +
            "): the packs that only it listed are unindexed (" + std::to_string(unindexed) +
            " pack(s) with a valid header are in no readable index) and blobs in them count as "
            "missing; 'ferry repair index' rebuilds the index from the pack headers");
  }

  void CheckPacks() {
    std::vector<const IndexedPack*> packs;
    for (const auto& [id, pack] : indexed_packs_) packs.push_back(&pack);
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t i; (i = next++) < packs.size();) CheckPack(*packs[i]);
    };
    int count = options_.threads > 0
                    ? options_.threads
                    : std::max(4, 2 * static_cast<int>(std::thread::hardware_concurrency()));
    std::vector<std::thread> threads;
    for (int t = 1; t < count; ++t) threads.emplace_back(worker);
    worker();
    for (auto& thread : threads) thread.join();
  }

  void CheckPack(const IndexedPack& indexed) {
    std::string name = indexed.pack_id.Hex();
    auto size_it = stored_packs_.find(indexed.pack_id);
    if (size_it == stored_packs_.end()) {
      Error(
          "pack " + name + " is missing (the index lists " + std::to_string(indexed.blobs.size()) +
          " blobs in it; an offline seed's packs are missing until its disks are ingested); if it "
          "is lost, 'ferry repair index --forget-missing' forgets it, then 'ferry repair "
          "snapshots' repairs what used it");
      NeedsIndexRepair("--forget-missing");
      MarkDamaged(indexed.blobs);
      return;
    }
    uint64_t size = size_it->second;
    std::vector<PackEntry> damaged;
    Bytes tail;  // the bytes after the last indexed blob: header and trailer
    if (options_.read_data) {
      auto read = ReadAndVerifyPack(indexed, size, tail, damaged);
      if (!read.ok()) {
        Error("pack " + name + " cannot be read: " + read.message());
        MarkDamaged(indexed.blobs);
        return;
      }
    }
    auto entries = ReadHeader(indexed, size, tail);
    if (!entries.ok()) {
      Error("pack " + name + " is damaged: " + entries.status().message() + "; " +
            RepairPack(indexed.pack_id));
      MarkDamaged(indexed.blobs);
      return;
    }
    if (!SameEntries(*entries, indexed.blobs)) {
      Error("pack " + name +
            ": header does not match the index; 'ferry repair index --read-all-packs' rebuilds "
            "the index from the pack headers");
      NeedsIndexRepair("--read-all-packs");
    }
    ++packs_checked_;
    MarkDamaged(damaged);
  }

  // Reads the whole pack once, as a stream (StreamWholePack): its SHA-256
  // must be its name and every blob the index lists must decrypt and match
  // its MAC, checked as the bytes arrive, so memory holds one blob and not
  // the pack. Keeps the bytes after the last indexed blob in `tail` (in an
  // intact pack, its header and trailer). Returns only a read error; damage
  // is reported and the damaged blobs added to `damaged`.
  Status ReadAndVerifyPack(const IndexedPack& indexed, uint64_t size, Bytes& tail,
                           std::vector<PackEntry>& damaged) {
    std::string name = indexed.pack_id.Hex();
    IndexedPack wanted{indexed.pack_id, indexed.salt, {}};
    uint64_t blobs_end = 0;
    for (const PackEntry& entry : indexed.blobs) {
      uint64_t end = uint64_t{entry.offset} + entry.stored_length;
      if (end > size) {
        damaged.push_back(entry);  // its bytes are not there
        continue;
      }
      wanted.blobs.push_back(entry);
      blobs_end = std::max(blobs_end, end);
    }
    std::sort(wanted.blobs.begin(), wanted.blobs.end(),
              [](const PackEntry& a, const PackEntry& b) { return a.offset < b.offset; });
    Sha256Stream hash;
    auto raw = [&](uint64_t offset, ByteView piece) {
      hash.Update(piece);
      uint64_t end = offset + piece.size();
      if (end > blobs_end) {
        size_t skip = offset < blobs_end ? static_cast<size_t>(blobs_end - offset) : 0;
        tail.insert(tail.end(), piece.begin() + skip, piece.end());
      }
      return Status::Ok();
    };
    auto visit = [&](size_t index, Result<Bytes> plain) {
      ++blobs_checked_;
      if (!plain.ok()) {
        // The message names the pack and the blob ("pack …: blob …: …").
        Error(plain.status().message() + "; " + RepairPack(indexed.pack_id));
        damaged.push_back(wanted.blobs[index]);
      }
      return Status::Ok();
    };
    Status read = StreamWholePack(repository_, wanted, size, raw, visit);
    if (!read.ok()) return read;
    report_bytes_read_ += size;
    if (hash.Finish() != indexed.pack_id)
      Error("pack " + name + " is damaged: its content does not match its name; " +
            RepairPack(indexed.pack_id));
    return Status::Ok();
  }

  // The advice for a damaged pack, which is also remembered for `repairs`.
  std::string RepairPack(const Id& pack_id) {
    std::lock_guard lock(mutex_);
    damaged_packs_.insert(pack_id);
    return "'ferry repair packs " + pack_id.Hex() + "' salvages its readable blobs";
  }

  // An index that lists a pack wrongly is stale: rebuilding the index with
  // `option` fixes it.
  void NeedsIndexRepair(const std::string& option) {
    std::lock_guard lock(mutex_);
    index_fixes_.insert(option);
  }

  // The pack's header, from `tail` (the end of the pack, already read) when
  // it holds it, else by two ranged reads.
  Result<std::vector<PackEntry>> ReadHeader(const IndexedPack& indexed, uint64_t size,
                                            const Bytes& tail) {
    ObjectName object{ObjectKind::kData, indexed.pack_id.Hex()};
    if (size < kPackTrailerSize)
      return Status::Corruption("pack is " + std::to_string(size) + " bytes");
    Bytes trailer;
    if (tail.size() >= kPackTrailerSize) {
      trailer.assign(tail.end() - kPackTrailerSize, tail.end());
    } else {
      ASSIGN_OR_RETURN(
          trailer, repository_.backend().Get(object, size - kPackTrailerSize, kPackTrailerSize));
    }
    ASSIGN_OR_RETURN(uint32_t header_length, ParsePackTrailer(trailer, size));
    uint64_t header_offset = size - kPackTrailerSize - header_length;
    Bytes header;
    if (tail.size() >= kPackTrailerSize + header_length) {
      auto end = tail.end() - kPackTrailerSize;
      header.assign(end - header_length, end);
    } else {
      ASSIGN_OR_RETURN(header, repository_.backend().Get(object, header_offset, header_length));
    }
    return DecryptPackHeader(repository_.pack_keys(), indexed.salt, header, size);
  }

  static bool SameEntries(const std::vector<PackEntry>& a, const std::vector<PackEntry>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].id != b[i].id || a[i].offset != b[i].offset ||
          a[i].stored_length != b[i].stored_length || a[i].raw_length != b[i].raw_length ||
          a[i].type != b[i].type || a[i].compression != b[i].compression)
        return false;
    return true;
  }

  void MarkDamaged(const std::vector<PackEntry>& blobs) {
    std::lock_guard lock(mutex_);
    for (const PackEntry& blob : blobs) damaged_blobs_.insert(blob.id);
  }

  Status CheckSnapshots() {
    ASSIGN_OR_RETURN(std::vector<std::string> names,
                     ListNames(repository_.backend(), ObjectKind::kSnapshot));
    for (const std::string& name : names) {
      auto id = Id::FromHex(name);
      auto snapshot = repository_.LoadSnapshot(*id);
      if (!snapshot.ok()) {
        if (!IsDamage(snapshot.status())) return snapshot.status();
        std::string problem = snapshot.status().message();
        if (std::string prefix = "snapshot " + name + ": "; problem.rfind(prefix, 0) == 0)
          problem.erase(0, prefix.size());
        Error("snapshot " + name + " is damaged (" + problem +
              "): it cannot be listed or restored; 'ferry repair snapshots' removes it");
        snapshots_to_repair_ = true;
        continue;
      }
      ++report_.snapshots_checked;
      size_t errors_before = report_.errors.size();
      CheckTree(name.substr(0, 8), snapshot->tree);
      if (report_.errors.size() != errors_before) snapshots_to_repair_ = true;
    }
    return Status::Ok();
  }

  // Iterative (TreeWalker): trees come from the repository and may nest
  // deeper than any stack. A tree is walked once; a damaged one is reported
  // for every snapshot that reaches it.
  void CheckTree(const std::string& snapshot, const Id& root) {
    auto where = [&](const std::string& path) {
      return "snapshot " + snapshot + ", " + (path.empty() ? "/" : path);
    };
    TreeWalkCallbacks callbacks;
    size_t depth = 0;  // of the tree entered last, which tree_error is about
    callbacks.enter = [&](const std::string& path, const Id& tree_id, size_t tree_depth) {
      depth = tree_depth;
      if (damaged_blobs_.count(tree_id) || !indexed_blobs_.count(tree_id)) {
        Error(where(path) + ": directory listing (tree " + tree_id.Hex() + ") is " +
              (indexed_blobs_.count(tree_id) ? "damaged" : "missing"));
        return false;
      }
      if (auto bad = bad_trees_.find(tree_id); bad != bad_trees_.end()) {
        Error(where(path) + ": " + bad->second);
        return false;
      }
      return good_trees_.insert(tree_id).second;
    };
    callbacks.tree_error = [&](const std::string& path, const Id& tree_id, const Status& status) {
      good_trees_.erase(tree_id);
      // Too deep is where it is, not what it is: elsewhere it may be fine.
      if (depth <= kMaxTreeDepth) bad_trees_.emplace(tree_id, status.message());
      Error(where(path) + ": " + status.message());
    };
    callbacks.node = [&](const std::string& child, const Node& node) {
      if (node.type == NodeType::kDirectory) return true;
      for (const Id& blob : node.content) {
        if (!indexed_blobs_.count(blob)) {
          Error("snapshot " + snapshot + ", file " + child + ": data blob " + blob.Hex() +
                " is missing");
          break;
        }
        if (damaged_blobs_.count(blob)) {
          Error("snapshot " + snapshot + ", file " + child + ": data blob " + blob.Hex() +
                " is damaged");
          break;
        }
      }
      return false;
    };
    WalkTrees(repository_, root, callbacks).IgnoreError();  // no cancel: it cannot fail
  }

  Repository& repository_;
  const CheckOptions& options_;
  const std::function<void(const std::string&)>& progress_;
  std::mutex mutex_;
  CheckReport report_;
  std::atomic<uint64_t> packs_checked_{0}, blobs_checked_{0}, report_bytes_read_{0};
  std::map<Id, uint64_t> stored_packs_;
  std::map<Id, IndexedPack> indexed_packs_;
  std::unordered_set<Id, IdHash> indexed_blobs_;
  std::unordered_set<Id, IdHash> damaged_blobs_;
  std::unordered_set<Id, IdHash> good_trees_;
  std::vector<DamagedObject> damaged_indexes_;
  std::set<Id> damaged_packs_;
  std::set<std::string> index_fixes_;  // options `repair index` needs
  std::vector<Id> damaged_keys_;
  bool snapshots_to_repair_ = false;
  std::unordered_map<Id, std::string, IdHash> bad_trees_;  // tree → why it does not load

 public:
  void Finish(CheckReport& report) {
    report.packs_checked = packs_checked_;
    report.blobs_checked = blobs_checked_;
    report.bytes_read = report_bytes_read_;
  }
};

}  // namespace

Result<CheckReport> CheckRepository(Repository& repository, const CheckOptions& options,
                                    const std::function<void(const std::string&)>& progress) {
  Check check(repository, options, progress);
  ASSIGN_OR_RETURN(CheckReport report, check.Run());
  check.Finish(report);
  return report;
}

}  // namespace ferry
