// ferry cat: one repository object, decrypted, as stored: the JSON of the
// config, an index, a snapshot, a tree or a key file, or a data blob's bytes.
// For debugging and for writing a second implementation of docs/format.md.
#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/snapshot_filter_flags.h"
#include "repo/tree_lookup.h"

namespace ferry {

namespace {

struct CatFlags {
  std::string type;
  std::string id;
};

// The one name of `kind` starting with `prefix`.
Result<Id> FindObject(Backend& backend, ObjectKind kind, const std::string& prefix,
                      const std::string& what) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames(backend, kind));
  std::string found;
  for (const std::string& name : names) {
    if (prefix.empty() || name.rfind(prefix, 0) != 0) continue;
    if (!found.empty())
      return Status::InvalidArgument(what + " prefix '" + prefix + "' is ambiguous");
    found = name;
  }
  if (found.empty()) return Status::NotFound("no " + what + " matches '" + prefix + "'");
  return Id::FromHex(found);
}

// {"packs":[{"id","salt","blobs":[{"id","type","offset","length","uncompressed_length",
// "compression"}]}]}: restic's names where it has them.
nlohmann::json IndexJson(const std::vector<IndexedPack>& packs) {
  nlohmann::json list = nlohmann::json::array();
  for (const IndexedPack& pack : packs) {
    nlohmann::json blobs = nlohmann::json::array();
    for (const PackEntry& blob : pack.blobs)
      blobs.push_back({{"id", blob.id.Hex()},
                       {"type", BlobTypeName(blob.type)},
                       {"offset", blob.offset},
                       {"length", blob.stored_length},
                       {"uncompressed_length", blob.raw_length},
                       {"compression", blob.compression == Compression::kZstd ? "zstd" : "none"}});
    list.push_back({{"id", pack.pack_id.Hex()}, {"salt", HexEncode(pack.salt)}, {"blobs", blobs}});
  }
  return {{"packs", list}};
}

// A tree: its full ID, or SNAPSHOT:PATH (the tree of that directory, as restic's `cat tree`).
Result<Id> FindTree(const GlobalOptions& global, Repository& repository, const std::string& text) {
  size_t colon = text.find(':');
  if (colon == std::string::npos) {
    auto id = Id::FromHex(text);
    if (!id.ok())
      return Status::InvalidArgument("'" + text +
                                     "' is not a tree: give its full ID (64 hex digits) or "
                                     "SNAPSHOT:PATH (e.g. latest:/etc)");
    return id;
  }
  ASSIGN_OR_RETURN(SnapshotEntry entry,
                   SelectSnapshot(global, repository, text.substr(0, colon), SnapshotFilter{}));
  ASSIGN_OR_RETURN(Node node, LookupPath(repository, entry.snapshot.tree, text.substr(colon + 1)));
  if (node.type != NodeType::kDirectory)
    return Status::InvalidArgument(text.substr(colon + 1) + " is not a directory in snapshot " +
                                   entry.id.Short());
  return node.subtree;
}

Result<Bytes> Load(const GlobalOptions& global, Repository& repository, const CatFlags& flags) {
  const std::string& type = flags.type;
  if (type == "config") return EncodeConfig(repository.config());
  if (flags.id.empty()) return Status::InvalidArgument("'ferry cat " + type + "' needs an ID");
  if (type == "snapshot") {
    ASSIGN_OR_RETURN(SnapshotEntry entry,
                     SelectSnapshot(global, repository, flags.id, SnapshotFilter{}));
    return repository.LoadSealed(ObjectKind::kSnapshot, entry.id);
  }
  if (type == "index") {
    ASSIGN_OR_RETURN(Id id,
                     FindObject(repository.backend(), ObjectKind::kIndex, flags.id, "index"));
    ASSIGN_OR_RETURN(Bytes plaintext, repository.LoadSealed(ObjectKind::kIndex, id));
    // Index objects are binary (docs/format.md, "Index objects"): shown as JSON.
    ASSIGN_OR_RETURN(std::vector<IndexedPack> packs, ParseIndex(plaintext));
    std::string text = IndexJson(packs).dump(2);
    return Bytes(text.begin(), text.end());
  }
  if (type == "key") {
    ASSIGN_OR_RETURN(Id id, FindObject(repository.backend(), ObjectKind::kKey, flags.id, "key"));
    // Key files are stored as JSON (their master key sealed by the password).
    return repository.backend().Get({ObjectKind::kKey, id.Hex()}, 0, Backend::kToEnd);
  }
  if (type == "tree") {
    ASSIGN_OR_RETURN(Id id, FindTree(global, repository, flags.id));
    return repository.LoadBlob(BlobType::kTree, id);
  }
  if (type == "blob") {
    auto id = Id::FromHex(flags.id);
    if (!id.ok()) return Status::InvalidArgument("give the blob's full ID (64 hex digits)");
    return repository.LoadBlob(BlobType::kData, *id);
  }
  return Status::InvalidArgument("cannot cat '" + type +
                                 "': give config, index, snapshot, tree, key or blob");
}

}  // namespace

void AddCatCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto flags = std::make_shared<CatFlags>();
  CLI::App* command = app.add_subcommand(
      "cat",
      "Print a repository object decrypted: config, index ID, snapshot ID, tree ID, key ID "
      "or blob ID");
  command->add_option("type", flags->type, "config, index, snapshot, tree, key or blob")
      ->required()
      ->check(CLI::IsMember({"config", "index", "snapshot", "tree", "key", "blob"}));
  command->add_option("id", flags->id,
                      "The object's ID or a unique prefix ('latest' for a snapshot; a tree's full "
                      "ID or SNAPSHOT:PATH; a blob's full ID)");
  commands.push_back({command, [&global, flags]() -> int {
                        bool needs_index = flags->type == "tree" || flags->type == "blob";
                        auto repository = OpenRepository(global, needs_index);
                        if (!repository.ok()) return ReportError(global, repository.status());
                        auto bytes = Load(global, **repository, *flags);
                        if (!bytes.ok()) return ReportError(global, bytes.status());
                        std::fwrite(bytes->data(), 1, bytes->size(), stdout);
                        // JSON objects end with a newline, as restic's; a blob is its bytes.
                        if (flags->type != "blob") std::fputc('\n', stdout);
                        if (std::fflush(stdout) != 0)
                          return ReportError(global, Status::IOError("writing the output failed"));
                        return kExitOk;
                      }});
}

}  // namespace ferry
