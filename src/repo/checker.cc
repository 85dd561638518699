#include "repo/checker.h"

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "crypto/hash.h"

namespace ferry {

namespace {

class Check {
 public:
  Check(Repository& repository, const CheckOptions& options,
        const std::function<void(const std::string&)>& progress)
      : repository_(repository), options_(options), progress_(progress) {}

  Result<CheckReport> Run() {
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
    for (const auto& [pack_id, size] : stored_packs_)
      if (!indexed_packs_.count(pack_id))
        report_.warnings.push_back("pack " + pack_id.Hex() +
                                   " is not in any index (left by an interrupted backup; "
                                   "harmless, prune removes it)");
    progress_("checking snapshots");
    RETURN_IF_ERROR(CheckSnapshots());
    return report_;
  }

 private:
  void Error(std::string message) {
    std::lock_guard lock(mutex_);
    report_.errors.push_back(std::move(message));
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
        Error("index " + name + " is damaged: " + packs.status().message());
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

  void CheckPacks() {
    std::vector<const IndexedPack*> packs;
    for (const auto& [id, pack] : indexed_packs_) packs.push_back(&pack);
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t i; (i = next++) < packs.size();) CheckPack(*packs[i]);
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < options_.threads; ++t) threads.emplace_back(worker);
    worker();
    for (auto& thread : threads) thread.join();
  }

  void CheckPack(const IndexedPack& indexed) {
    std::string name = indexed.pack_id.Hex();
    auto size_it = stored_packs_.find(indexed.pack_id);
    if (size_it == stored_packs_.end()) {
      Error("pack " + name + " is missing (the index lists " +
            std::to_string(indexed.blobs.size()) + " blobs in it)");
      MarkDamaged(indexed.blobs);
      return;
    }
    uint64_t size = size_it->second;
    Result<Bytes> whole = Status::Ok();
    Bytes tail;
    if (options_.read_data) {
      whole = repository_.backend().Get({ObjectKind::kData, name});
      if (!whole.ok()) {
        Error("pack " + name + " cannot be read: " + whole.status().message());
        MarkDamaged(indexed.blobs);
        return;
      }
      report_bytes_read_ += whole->size();
      if (Sha256(*whole) != indexed.pack_id)
        Error("pack " + name + " is damaged: its content does not match its name");
    }
    auto entries = ReadHeader(indexed, size, options_.read_data ? &*whole : nullptr);
    if (!entries.ok()) {
      Error("pack " + name + " is damaged: " + entries.status().message());
      MarkDamaged(indexed.blobs);
      return;
    }
    if (!SameEntries(*entries, indexed.blobs))
      Error("pack " + name + ": header does not match the index");
    ++packs_checked_;
    if (!options_.read_data) return;
    Bytes pack_key = DerivePackKey(repository_.keys().data, indexed.salt);
    std::vector<PackEntry> damaged;
    for (const PackEntry& entry : indexed.blobs) {
      if (uint64_t{entry.offset} + entry.stored_length > whole->size()) {
        damaged.push_back(entry);
        continue;
      }
      auto plain = OpenBlob(repository_.pack_keys(), pack_key, repository_.keys().mac, entry,
                            ByteView(*whole).subspan(entry.offset, entry.stored_length));
      ++blobs_checked_;
      if (!plain.ok()) {
        Error("pack " + name + ": " + plain.status().message());
        damaged.push_back(entry);
      }
    }
    MarkDamaged(damaged);
  }

  Result<std::vector<PackEntry>> ReadHeader(const IndexedPack& indexed, uint64_t size,
                                            const Bytes* whole) {
    ObjectName object{ObjectKind::kData, indexed.pack_id.Hex()};
    if (size < kPackTrailerSize)
      return Status::Corruption("pack is " + std::to_string(size) + " bytes");
    Bytes trailer;
    if (whole) {
      trailer.assign(whole->end() - kPackTrailerSize, whole->end());
    } else {
      ASSIGN_OR_RETURN(
          trailer, repository_.backend().Get(object, size - kPackTrailerSize, kPackTrailerSize));
    }
    ASSIGN_OR_RETURN(uint32_t header_length, ParsePackTrailer(trailer, size));
    uint64_t header_offset = size - kPackTrailerSize - header_length;
    Bytes header;
    if (whole) {
      header.assign(whole->begin() + header_offset, whole->begin() + header_offset + header_length);
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
        Error("snapshot " + name + " is damaged: " + snapshot.status().message());
        continue;
      }
      ++report_.snapshots_checked;
      CheckTree(name.substr(0, 8), snapshot->tree, "");
    }
    return Status::Ok();
  }

  void CheckTree(const std::string& snapshot, const Id& tree_id, const std::string& path) {
    std::string where = "snapshot " + snapshot + ", " + (path.empty() ? "/" : path);
    if (damaged_blobs_.count(tree_id) || !indexed_blobs_.count(tree_id)) {
      Error(where + ": directory listing (tree " + tree_id.Hex() + ") is " +
            (indexed_blobs_.count(tree_id) ? "damaged" : "missing"));
      return;
    }
    if (good_trees_.count(tree_id)) return;
    auto tree = repository_.LoadTree(tree_id);
    if (!tree.ok()) {
      Error(where + ": " + tree.status().message());
      return;
    }
    good_trees_.insert(tree_id);
    for (const Node& node : tree->nodes) {
      std::string child = path + "/" + node.name;
      if (node.type == NodeType::kDirectory) {
        CheckTree(snapshot, node.subtree, child);
        continue;
      }
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
    }
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
