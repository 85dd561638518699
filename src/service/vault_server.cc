#include "service/vault_server.h"

#include <httplib.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "crypto/hash.h"
#include "seed/ingest_container.h"
#include "seed/pack_copy.h"
#include "seed/storage_root_id.h"
#include "service/buffered_http_server.h"
#include "service/request_body.h"
#include "service/token.h"
#include "storage/backend_registry.h"
#include "util/clock.h"
#include "util/file_util.h"
#include "util/plural.h"

namespace ferry {

namespace {

// Larger than any pack (16 MiB target, one blob of at most 80 MiB past it).
constexpr uint64_t kMaxObjectSize = 256ull << 20;
// Write-once PUTs are read whole into memory; they are configs and locks
// (a few hundred bytes).
constexpr uint64_t kMaxWriteOnceSize = 16ull << 20;
// Ferry clients send fewer than ten headers.
constexpr size_t kMaxHeaders = 64;
// JSON request bodies are read whole into memory. The largest is a seed's
// pack list (~100 bytes a pack): 64 MiB lists a seed of 10 TB.
constexpr uint64_t kMaxJsonBody = 64ull << 20;

using nlohmann::json;

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // Messages may quote a request's path, which may hold any bytes (%FF): those
  // are replaced, not thrown about (an exception would be a 500).
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& code,
               const std::string& message) {
  SendJson(res, status, {{"error", {{"code", code}, {"message", message}}}});
}

// Maps a Status from the layers below to an HTTP error.
void SendStatus(httplib::Response& res, const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return SendError(res, 404, "not_found", status.message());
    case StatusCode::kAlreadyExists:
      return SendError(res, 409, "conflict", status.message());
    case StatusCode::kInvalidArgument:
      return SendError(res, 400, "bad_request", status.message());
    case StatusCode::kPermissionDenied:
      return SendError(res, 403, "forbidden", status.message());
    case StatusCode::kNoSpace:
      // Permanent for the client (no retry for minutes); the details, with
      // the vault's own paths, are for the vault's log only.
      std::fprintf(stderr, "out of space: %s\n", status.ToString().c_str());
      return SendError(res, 507, "out_of_space", "the vault is out of space");
    default:
      std::fprintf(stderr, "internal error: %s\n", status.ToString().c_str());
      return SendError(res, 500, "internal", "internal error (the vault's log has the details)");
  }
}

bool ParseObjectName(const std::string& kind, const std::string& name, ObjectName* out) {
  static const std::map<std::string, ObjectKind> kinds = {
      {"config", ObjectKind::kConfig},      {"keys", ObjectKind::kKey},
      {"data", ObjectKind::kData},          {"index", ObjectKind::kIndex},
      {"snapshots", ObjectKind::kSnapshot}, {"locks", ObjectKind::kLock}};
  auto it = kinds.find(kind);
  if (it == kinds.end()) return false;
  if (it->second == ObjectKind::kConfig ? name != "config" : !IsObjectId(name)) return false;
  *out = {it->second, name};
  return true;
}

std::string Rfc3339(int64_t nanos) { return FormatTimeRfc3339(nanos); }

}  // namespace

struct VaultServer::Impl {
  VaultServerOptions options;
  const Clock& clock;
  std::unique_ptr<MetadataStore> store;
  std::unique_ptr<httplib::Server> server;
  int port = 0;
  std::mutex backends_mutex;
  std::map<int64_t, std::unique_ptr<Backend>> backends;

  Impl(const VaultServerOptions& o, const Clock& c) : options(o), clock(c) {}

  std::string AdminTokenPath() const { return options.data_dir + "/admin.token"; }

  // Error bodies never show the vault's own file paths (a client learns the
  // object, not where it lives): each path under the data directory or the
  // storage root becomes "(vault storage)".
  std::string HidePaths(const std::string& text) const {
    std::string out = text;
    for (const std::string& root : {StorageRoot(), RepositoryStore(), options.data_dir}) {
      if (root.empty()) continue;
      for (size_t at; (at = out.find(root)) != std::string::npos;) {
        size_t end = out.find_first_of(" \"':,", at + root.size());
        out.replace(at, (end == std::string::npos ? out.size() : end) - at, "(vault storage)");
      }
    }
    return out;
  }

  Status EnsureAdminToken() {
    std::string path = AdminTokenPath();
    auto existing = ReadWholeFile(path);
    std::string token;
    if (existing.ok()) {
      token.assign(existing->begin(), existing->end());
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
      if (!LooksLikeToken(token))
        return Status::Corruption(path + " does not hold a token (64 hex digits)");
    } else if (existing.status().IsNotFound()) {
      token = GenerateToken();
      RETURN_IF_ERROR(WriteFileAtomic(path, AsBytes(token + "\n"), 0600));
    } else {
      return existing.status();
    }
    Id hash = HashToken(token);
    if (store->FindToken(hash).ok()) return Status::Ok();
    return store->AddToken(hash, TokenKind::kAdmin, std::nullopt, clock.NowNanos());
  }

  Result<Backend*> MachineBackend(const MachineRecord& machine) {
    std::lock_guard lock(backends_mutex);
    auto it = backends.find(machine.id);
    if (it != backends.end()) return it->second.get();
    // Names were checked when the machine was registered: plain path parts.
    ASSIGN_OR_RETURN(std::string location,
                     StorageLocationChild(RepositoryStore(), machine.vault + "/" + machine.name));
    ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, OpenBackend(location));
    // Create lays out what a repository needs (directories, a container);
    // it refuses only once the machine's config exists, which is fine.
    Status created = backend->Create();
    if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
    Backend* raw = backend.get();
    backends.emplace(machine.id, std::move(backend));
    return raw;
  }

  // Checks the protocol version and the bearer token. On failure the response
  // is already filled in and nullopt is returned.
  std::optional<TokenRecord> Authenticate(const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("Ferry-Protocol")) {
      int version = std::atoi(req.get_header_value("Ferry-Protocol").c_str());
      if (version < kVaultMinClientProtocol) {
        SendError(res, 426, "client_too_old",
                  "this vault needs ferry protocol " + std::to_string(kVaultMinClientProtocol) +
                      " or newer; upgrade the agent to ferry 0.1.0 or later");
        return std::nullopt;
      }
    }
    std::string header = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (header.rfind(prefix, 0) != 0) {
      SendError(res, 401, "unauthorized", "missing bearer token");
      return std::nullopt;
    }
    std::string token = header.substr(prefix.size());
    auto record = LooksLikeToken(token) ? store->FindToken(HashToken(token))
                                        : Result<TokenRecord>(Status::NotFound("bad token"));
    if (!record.ok()) {
      SendError(res, 401, "unauthorized", "unknown token");
      return std::nullopt;
    }
    return *record;
  }

  std::optional<TokenRecord> Admin(const httplib::Request& req, httplib::Response& res) {
    auto token = Authenticate(req, res);
    if (token && token->kind != TokenKind::kAdmin) {
      SendError(res, 403, "forbidden", "this needs the admin token");
      return std::nullopt;
    }
    return token;
  }

  std::optional<TokenRecord> Machine(const httplib::Request& req, httplib::Response& res) {
    auto token = Authenticate(req, res);
    if (token && !token->machine) {
      SendError(res, 403, "forbidden", "the admin token has no repository; use a machine token");
      return std::nullopt;
    }
    return token;
  }

  std::mutex jobs_mutex;  // serializes read-modify-write of import jobs

  // Admins and operators see every job, a machine only the jobs it created.
  static bool MaySee(const TokenRecord& token, const ImportJob& job) {
    return !token.machine ||
           (job.vault == token.machine->vault && job.machine == token.machine->name);
  }
  // Applies the deadlines that have passed, saving the result.
  Status ApplyJobDeadlines(ImportJob& job) {
    if (ApplyDeadlines(job, clock.NowNanos())) return store->SaveImportJob(job);
    return Status::Ok();
  }
  // The job that `name` (from a request path) means to `token`: for a machine,
  // its own job of that name (jobs are scoped by vault and machine, so it can
  // neither reach nor learn of another machine's); for the admin and operators,
  // VAULT:MACHINE:NAME, or NAME alone when that is unambiguous. Deadlines are
  // applied (and saved).
  Result<ImportJob> LoadJob(const TokenRecord& token, const std::string& name) {
    auto not_there = [&] { return Status::NotFound("there is no import job " + name); };
    Result<ImportJob> job = not_there();
    if (token.machine) {
      std::string key = name.find(':') == std::string::npos
                            ? QualifiedJobName(token.machine->vault, token.machine->name, name)
                            : name;
      job = store->LoadImportJob(key);
      if (job.ok() && !MaySee(token, *job)) job = not_there();  // not yours: not there
    } else {
      job = store->LoadImportJob(name);
      if (job.status().IsNotFound() && name.find(':') == std::string::npos) {
        ASSIGN_OR_RETURN(std::vector<ImportJob> jobs, store->ListImportJobs());
        std::vector<ImportJob> named;
        for (ImportJob& candidate : jobs)
          if (candidate.name == name) named.push_back(std::move(candidate));
        if (named.size() == 1) job = std::move(named[0]);
        if (named.size() > 1) {
          std::string which;
          for (const ImportJob& candidate : named)
            which += (which.empty() ? "" : ", ") + candidate.qualified_name();
          return Status::AlreadyExists(std::to_string(named.size()) + " import jobs are named " +
                                       name + " (" + which + "); name one as VAULT:MACHINE:NAME");
        }
      }
    }
    if (!job.ok()) return job.status().IsNotFound() ? not_there() : job.status();
    RETURN_IF_ERROR(ApplyJobDeadlines(*job));
    return job;
  }
  json JobJson(const ImportJob& job) {
    json j = json::parse(EncodeImportJob(job));
    j["id"] = job.qualified_name();  // what the admin and operators may call it
    j["ship_to"] = options.shipping_address;
    j["warnings"] = DeadlineWarnings(job, clock.NowNanos());
    return j;
  }
  void ImportRoutes();

  // Offline seeds (docs/protocol.md, "Seeds").
  std::mutex seeds_mutex;  // serializes read-modify-write of seed records
  // One thread per seed at most; a finished one is joined when its seed is
  // adopted again (it has left `adopting` by then), all of them at shutdown.
  std::map<std::pair<int64_t, std::string>, std::thread> adoptions;
  std::map<std::pair<int64_t, std::string>, uint64_t> adopting;  // running: packs examined
  std::atomic<bool> stopping{false};
  ~Impl() {
    stopping = true;
    for (auto& [key, thread] : adoptions) thread.join();
  }
  // Where the machines' repositories live: any storage location.
  std::string RepositoryStore() const {
    return options.repository_store.empty() ? options.data_dir + "/repositories"
                                            : options.repository_store;
  }
  // A seed's container in the storage accounts below StorageRoot().
  Result<std::unique_ptr<Backend>> OpenContainer(const SeedRecord& seed) const {
    ASSIGN_OR_RETURN(std::string location,
                     ContainerLocation(StorageRoot(), seed.storage_account, seed.container));
    return OpenBackend(location);
  }
  std::string StorageRoot() const {
    return options.storage_root.empty() ? options.data_dir + "/storage" : options.storage_root;
  }
  // For operators: where job's container is (container_location), and for a
  // directory root the root and its ID (storage_root, storage_root_id).
  void AddContainerLocation(const ImportJob& job, json& answer) const {
    auto location = ContainerLocation(StorageRoot(), job.storage_account, job.container);
    auto root = ParseStorageLocation(StorageRoot());
    if (!location.ok() || !root.ok()) return;
    answer["container_location"] = *location;
    if (root->scheme != "local") return;
    auto id = EnsureStorageRootId(root->address);
    if (!id.ok()) {
      std::fprintf(stderr, "storage root: %s\n", id.status().ToString().c_str());
      return;
    }
    answer["storage_root"] = root->address;
    answer["storage_root_id"] = *id;
  }
  json SeedJson(int64_t machine_id, const SeedRecord& seed, Backend& repository, bool with_absent);
  void AdoptSeed(MachineRecord machine, std::string job);
  // The calling machine's seed named in the path, its repository, and
  // seeds_mutex held; nullopt (response filled in) if any of them fails.
  struct SeedRequest {
    TokenRecord token;
    Backend* repository = nullptr;
    std::unique_lock<std::mutex> lock;
    SeedRecord seed;
    int64_t machine_id() const { return token.machine->id; }
  };
  std::optional<SeedRequest> OpenSeedRequest(const httplib::Request& req, httplib::Response& res);
  void SeedRoutes();

  void Routes();
  void HandleCreateVault(const httplib::Request& req, httplib::Response& res);
  void HandleVaultReport(const httplib::Request& req, httplib::Response& res);
  void HandleRegisterMachine(const httplib::Request& req, httplib::Response& res);
  void HandleMaintenanceToken(const httplib::Request& req, httplib::Response& res);
  // Backup policies and prune reports (docs/protocol.md, "Policy").
  void PolicyRoutes();
  // The vault's policy as JSON, null when it has none.
  Result<json> PolicyJson(const VaultRecord& vault);
  void HandleGetObject(const httplib::Request& req, httplib::Response& res);
  void HandlePutObject(const httplib::Request& req, httplib::Response& res,
                       const httplib::ContentReader& reader);
  void HandleWriteOncePut(const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader, const TokenRecord& token,
                          Backend& backend, const ObjectName& object, uint64_t length, bool exists);
  // After an object is stored: its lock owner or recovery point, then 201.
  void RecordStoredObject(const httplib::Request& req, httplib::Response& res,
                          const TokenRecord& token, const ObjectName& object, uint64_t size);
  void HandleDeleteObject(const httplib::Request& req, httplib::Response& res);
};

void VaultServer::Impl::Routes() {
  server->Get("/vault/v1/version", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200,
             {{"server", "ferry 0.1.0"},
              {"protocol", kVaultProtocol},
              {"min_client_protocol", kVaultMinClientProtocol}});
  });
  server->Post("/vault/v1/vaults", [this](const httplib::Request& req, httplib::Response& res) {
    HandleCreateVault(req, res);
  });
  server->Get("/vault/v1/vaults", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admin(req, res)) return;
    auto vaults = store->ListVaults();
    if (!vaults.ok()) return SendStatus(res, vaults.status());
    json list = json::array();
    for (const VaultRecord& vault : *vaults)
      list.push_back({{"name", vault.name}, {"created", Rfc3339(vault.created_ns)}});
    SendJson(res, 200, list);
  });
  server->Get(
      R"(/vault/v1/vaults/([^/]+))",
      [this](const httplib::Request& req, httplib::Response& res) { HandleVaultReport(req, res); });
  server->Post(R"(/vault/v1/vaults/([^/]+)/machines)",
               [this](const httplib::Request& req, httplib::Response& res) {
                 HandleRegisterMachine(req, res);
               });
  server->Post(R"(/vault/v1/vaults/([^/]+)/machines/([^/]+)/maintenance-token)",
               [this](const httplib::Request& req, httplib::Response& res) {
                 HandleMaintenanceToken(req, res);
               });
  server->Get(
      R"(/vault/v1/repository/([^/]+)/([^/]*))",
      [this](const httplib::Request& req, httplib::Response& res) { HandleGetObject(req, res); });
  server->Put(R"(/vault/v1/repository/([^/]+)/([^/]+))",
              [this](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) { HandlePutObject(req, res, reader); });
  server->Delete(R"(/vault/v1/repository/([^/]+)/([^/]+))",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   HandleDeleteObject(req, res);
                 });
  PolicyRoutes();
  ImportRoutes();
  SeedRoutes();
  server->set_error_handler([this](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) {
      res.body = HidePaths(res.body);
      return;
    }
    std::string code = res.status == 404   ? "not_found"
                       : res.status == 413 ? "too_large"
                       : res.status == 416 ? "bad_range"
                       : res.status < 500  ? "bad_request"
                                           : "internal";
    SendError(res, res.status, code,
              res.status == 404 ? "no such endpoint"
                                : "request refused (HTTP " + std::to_string(res.status) + ")");
  });
  server->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SendError(res, 500, "internal", "internal error");
      });
  server->set_payload_max_length(kMaxObjectSize);
  // httplib limits each header line but not their number.
  // Refused here, the body is never read: the server closes the connection.
  server->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.headers.size() > kMaxHeaders) {
      SendError(res, 431, "bad_request", "too many request headers");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method != "PUT" && req.has_header("Content-Length")) {
      std::string length = req.get_header_value("Content-Length");
      if (length.size() > 19 || length.find_first_not_of("0123456789") != std::string::npos ||
          std::stoull(length) > kMaxJsonBody) {
        SendError(res, 413, "too_large", "request bodies other than objects are at most 64 MiB");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Small answers (a tree blob, a HEAD) must not wait for the client's delayed
  // ACK (Nagle): without this each costs ~40 ms on a kept-alive connection.
  server->set_tcp_nodelay(true);
  // Uploaders and restores reuse their connections for a whole run; httplib
  // would close them every 5 requests (a new TLS handshake each time).
  server->set_keep_alive_max_count(100000);
  server->set_logger([](const httplib::Request& req, const httplib::Response& res) {
    // Never the headers: they carry the bearer token.
    std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
  });
}

void VaultServer::Impl::HandleCreateVault(const httplib::Request& req, httplib::Response& res) {
  if (!Admin(req, res)) return;
  auto name_request = ParseNameRequest(req.body, "VAULT");
  if (!name_request.ok()) return SendError(res, 400, "bad_json", name_request.status().message());
  const std::string& name = *name_request;
  if (!IsEntityName(name))
    return SendError(res, 400, "bad_name", "vault names are 1-64 characters of A-Z a-z 0-9 . _ -");
  auto vault = store->CreateVault(name, clock.NowNanos());
  if (!vault.ok()) return SendStatus(res, vault.status());
  SendJson(res, 201, {{"name", vault->name}, {"created", Rfc3339(vault->created_ns)}});
}

void VaultServer::Impl::HandleVaultReport(const httplib::Request& req, httplib::Response& res) {
  if (!Admin(req, res)) return;
  auto vault = store->FindVault(req.matches[1]);
  if (!vault.ok()) return SendStatus(res, vault.status());
  auto machines = store->ListMachines(*vault);
  if (!machines.ok()) return SendStatus(res, machines.status());
  json list = json::array();
  for (const MachineRecord& machine : *machines) {
    auto points = store->ListRecoveryPoints(machine.id);
    auto backend = MachineBackend(machine);
    if (!points.ok() || !backend.ok())
      return SendStatus(res, points.ok() ? backend.status() : points.status());
    uint64_t bytes = 0, objects = 0;
    for (ObjectKind kind : {ObjectKind::kConfig, ObjectKind::kKey, ObjectKind::kData,
                            ObjectKind::kIndex, ObjectKind::kSnapshot, ObjectKind::kLock}) {
      Status status = (*backend)->List(kind, [&](const std::string&, uint64_t size) {
        bytes += size;
        ++objects;
        return Status::Ok();
      });
      if (!status.ok()) return SendStatus(res, status);
    }
    json entry = {{"name", machine.name},
                  {"registered", Rfc3339(machine.created_ns)},
                  {"recovery_points", points->size()},
                  {"stored_bytes", bytes},
                  {"objects", objects}};
    entry["last_backup"] =
        points->empty() ? json(nullptr) : json(Rfc3339(points->back().received_ns));
    auto prune = store->LastPrune(machine.id);
    if (!prune.ok()) return SendStatus(res, prune.status());
    entry["last_prune"] = nullptr;
    if (*prune)
      entry["last_prune"] = {{"time", Rfc3339((*prune)->time_ns)},
                             {"bytes_freed", (*prune)->bytes_freed},
                             {"packs_removed", (*prune)->packs_removed},
                             {"packs_repacked", (*prune)->packs_repacked},
                             {"bytes_repacked", (*prune)->bytes_repacked},
                             {"snapshots_removed", (*prune)->snapshots_removed}};
    list.push_back(std::move(entry));
  }
  auto policy = PolicyJson(*vault);
  if (!policy.ok()) return SendStatus(res, policy.status());
  SendJson(res, 200,
           {{"name", vault->name},
            {"created", Rfc3339(vault->created_ns)},
            {"policy", *policy},
            {"machines", list}});
}

void VaultServer::Impl::HandleRegisterMachine(const httplib::Request& req, httplib::Response& res) {
  if (!Admin(req, res)) return;
  auto vault = store->FindVault(req.matches[1]);
  if (!vault.ok()) return SendStatus(res, vault.status());
  auto name_request = ParseNameRequest(req.body, "MACHINE");
  if (!name_request.ok()) return SendError(res, 400, "bad_json", name_request.status().message());
  const std::string& name = *name_request;
  if (!IsEntityName(name))
    return SendError(res, 400, "bad_name",
                     "machine names are 1-64 characters of A-Z a-z 0-9 . _ -");
  auto machine = store->CreateMachine(*vault, name, clock.NowNanos());
  if (!machine.ok()) return SendStatus(res, machine.status());
  auto backend = MachineBackend(*machine);
  if (!backend.ok()) return SendStatus(res, backend.status());
  std::string token = GenerateToken();
  Status status =
      store->AddToken(HashToken(token), TokenKind::kMachine, machine->id, clock.NowNanos());
  if (!status.ok()) return SendStatus(res, status);
  SendJson(res, 201, {{"vault", vault->name}, {"machine", machine->name}, {"token", token}});
}

void VaultServer::Impl::HandleMaintenanceToken(const httplib::Request& req,
                                               httplib::Response& res) {
  if (!Admin(req, res)) return;
  auto vault = store->FindVault(req.matches[1]);
  if (!vault.ok()) return SendStatus(res, vault.status());
  auto machine = store->FindMachine(*vault, req.matches[2]);
  if (!machine.ok()) return SendStatus(res, machine.status());
  std::string token = GenerateToken();
  Status status =
      store->AddToken(HashToken(token), TokenKind::kMaintenance, machine->id, clock.NowNanos());
  if (!status.ok()) return SendStatus(res, status);
  SendJson(res, 201, {{"vault", vault->name}, {"machine", machine->name}, {"token", token}});
}

Result<json> VaultServer::Impl::PolicyJson(const VaultRecord& vault) {
  auto record = store->FindVaultPolicy(vault.id);
  if (record.status().IsNotFound()) return json(nullptr);
  if (!record.ok()) return record.status();
  json policy = json::parse(record->document, nullptr, /*allow_exceptions=*/false);
  if (!policy.is_object())
    return Status::Corruption("the stored policy of vault " + vault.name + " is not JSON");
  policy["updated"] = Rfc3339(record->updated_ns);
  return policy;
}

void VaultServer::Impl::PolicyRoutes() {
  // The admin sets, reads and removes a vault's policy.
  const std::string vault_policy = R"(/vault/v1/vaults/([^/]+)/policy)";
  server->Put(vault_policy, [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admin(req, res)) return;
    auto vault = store->FindVault(req.matches[1]);
    if (!vault.ok()) return SendStatus(res, vault.status());
    auto policy = ParseVaultPolicy(req.body);
    if (!policy.ok()) return SendError(res, 400, "bad_request", policy.status().message());
    // Stored as re-encoded from the checked policy, never the body as sent.
    Status status =
        store->SetVaultPolicy(vault->id, {EncodeVaultPolicy(*policy), clock.NowNanos()});
    if (!status.ok()) return SendStatus(res, status);
    auto answer = PolicyJson(*vault);
    if (!answer.ok()) return SendStatus(res, answer.status());
    SendJson(res, 200, {{"vault", vault->name}, {"policy", *answer}});
  });
  server->Get(vault_policy, [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admin(req, res)) return;
    auto vault = store->FindVault(req.matches[1]);
    if (!vault.ok()) return SendStatus(res, vault.status());
    auto answer = PolicyJson(*vault);
    if (!answer.ok()) return SendStatus(res, answer.status());
    SendJson(res, 200, {{"vault", vault->name}, {"policy", *answer}});
  });
  server->Delete(vault_policy, [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admin(req, res)) return;
    auto vault = store->FindVault(req.matches[1]);
    if (!vault.ok()) return SendStatus(res, vault.status());
    Status status = store->RemoveVaultPolicy(vault->id);
    if (status.IsNotFound())
      return SendError(res, 404, "not_found", "vault " + vault->name + " has no backup policy");
    if (!status.ok()) return SendStatus(res, status);
    SendJson(res, 200, {{"vault", vault->name}, {"policy", nullptr}});
  });
  // A machine (either of its tokens) reads its own vault's policy.
  server->Get("/vault/v1/policy", [this](const httplib::Request& req, httplib::Response& res) {
    auto token = Machine(req, res);
    if (!token) return;
    auto vault = store->FindVault(token->machine->vault);
    if (!vault.ok()) return SendStatus(res, vault.status());
    auto answer = PolicyJson(*vault);
    if (!answer.ok()) return SendStatus(res, answer.status());
    SendJson(res, 200, {{"vault", vault->name}, {"policy", *answer}});
  });
  // After a prune, its agent reports what it freed. Only the maintenance
  // token may: it is the token that can delete, so a report from anyone else
  // would be a claim about deletions its sender could not have made.
  server->Post("/vault/v1/prunes", [this](const httplib::Request& req, httplib::Response& res) {
    auto token = Machine(req, res);
    if (!token) return;
    if (token->kind != TokenKind::kMaintenance)
      return SendError(res, 403, "forbidden",
                       "reporting a prune needs the machine's maintenance token (ferry machine "
                       "maintenance-token); the machine token is append-only");
    auto report = ParsePruneReportRequest(req.body);
    if (!report.ok()) return SendError(res, 400, "bad_request", report.status().message());
    PruneRecord prune{clock.NowNanos(),       report->bytes_freed,    report->packs_removed,
                      report->packs_repacked, report->bytes_repacked, report->snapshots_removed};
    Status status = store->AddPrune(token->machine->id, prune);
    if (!status.ok()) return SendStatus(res, status);
    SendJson(res, 201,
             {{"vault", token->machine->vault},
              {"machine", token->machine->name},
              {"time", Rfc3339(prune.time_ns)},
              {"bytes_freed", prune.bytes_freed}});
  });
}

void VaultServer::Impl::HandleGetObject(const httplib::Request& req, httplib::Response& res) {
  auto token = Machine(req, res);
  if (!token) return;
  auto backend_result = MachineBackend(*token->machine);
  if (!backend_result.ok()) return SendStatus(res, backend_result.status());
  Backend* backend = *backend_result;
  std::string kind = req.matches[1], name = req.matches[2];
  if (name.empty()) {  // listing
    ObjectName probe;
    if (!ParseObjectName(kind, kind == "config" ? "config" : std::string(64, '0'), &probe))
      return SendError(res, 400, "bad_name", "unknown object kind '" + kind + "'");
    json list = json::array();
    Status status = backend->List(probe.kind, [&](const std::string& object, uint64_t size) {
      list.push_back({{"name", object}, {"size", size}});
      return Status::Ok();
    });
    if (!status.ok()) return SendStatus(res, status);
    return SendJson(res, 200, list);
  }
  ObjectName object;
  if (!ParseObjectName(kind, name, &object))
    return SendError(res, 400, "bad_name", "not an object name: " + kind + "/" + name);
  auto size = backend->Stat(object);
  if (!size.ok()) {
    // httplib would apply a requested range to the error document and turn
    // the 404 into a 416; the client must see the 404 (a pack still on disks
    // in transit is read from staging instead).
    const_cast<httplib::Request&>(req).ranges.clear();
    return SendStatus(res, size.status());
  }
  if (req.ranges.size() > 1) return SendError(res, 416, "bad_range", "one range per request");
  if (req.ranges.size() == 1) {
    // httplib applies a valid range to the provider (206, Content-Range) but
    // does not check it against the object: do that here. Ferry clients only
    // ask for ranges inside an object, so a range reaching past the end means
    // the object is shorter than the index says — say so at once.
    auto [first, last] = req.ranges[0];
    uint64_t start = first < 0
                         ? (last < 0 || static_cast<uint64_t>(last) > *size ? 0 : *size - last)
                         : static_cast<uint64_t>(first);
    uint64_t end = first < 0 || last < 0 ? *size : static_cast<uint64_t>(last) + 1;
    if (start >= end || end > *size) {
      // httplib would apply the range to the error document too; the request
      // is ours to answer now, so drop the range before replying.
      const_cast<httplib::Request&>(req).ranges.clear();
      res.set_header("Content-Range", "bytes */" + std::to_string(*size));
      return SendError(
          res, 416, "bad_range",
          "range does not lie within the object (" + std::to_string(*size) + " bytes)");
    }
  }
  // httplib drops a provider of length 0 and then sends no Content-Length:
  // the client would wait for a body until the connection times out.
  if (*size == 0) {
    res.set_content(std::string(), "application/octet-stream");
    return;
  }
  // HEAD gets the length only.
  res.set_content_provider(
      *size, "application/octet-stream",
      [backend, object](size_t offset, size_t length, httplib::DataSink& sink) {
        Status status = backend->ReadStream(object, offset, length, [&](ByteView data) {
          return sink.write(reinterpret_cast<const char*>(data.data()), data.size())
                     ? Status::Ok()
                     : Status::IOError("client went away");
        });
        return status.ok();
      });
}

void VaultServer::Impl::HandlePutObject(const httplib::Request& req, httplib::Response& res,
                                        const httplib::ContentReader& reader) {
  auto token = Machine(req, res);
  if (!token) return;
  ObjectName object;
  if (!ParseObjectName(req.matches[1], req.matches[2], &object))
    return SendError(
        res, 400, "bad_name",
        "not an object name: " + std::string(req.matches[1]) + "/" + std::string(req.matches[2]));
  if (!req.has_header("Content-Length") || req.has_header("Transfer-Encoding"))
    return SendError(res, 411, "length_required", "objects are uploaded with a Content-Length");
  std::string length_text = req.get_header_value("Content-Length");
  if (req.get_header_value_count("Content-Length") != 1 || length_text.empty() ||
      length_text.size() > 19 || length_text.find_first_not_of("0123456789") != std::string::npos)
    return SendError(res, 400, "bad_request", "Content-Length must be one decimal number");
  uint64_t length = std::stoull(length_text);
  if (length > kMaxObjectSize)
    return SendError(res, 413, "too_large", "object larger than 256 MiB");
  auto backend_result = MachineBackend(*token->machine);
  if (!backend_result.ok()) return SendStatus(res, backend_result.status());
  Backend* backend = *backend_result;
  bool exists = backend->Stat(object).ok();
  bool is_config = object.kind == ObjectKind::kConfig;
  if (req.has_header("If-None-Match")) {
    if (req.get_header_value("If-None-Match") != "*")
      return SendError(res, 400, "bad_request", "If-None-Match takes only '*' (write-once)");
    return HandleWriteOncePut(req, res, reader, *token, *backend, object, length, exists);
  }
  // Content-addressed objects that exist are not written again (the name
  // proves the content); the body is still read and verified.
  std::unique_ptr<ObjectWriter> writer;
  if (!exists || is_config) {
    auto opened = backend->OpenWriter(object);
    if (!opened.ok()) return SendStatus(res, opened.status());
    writer = std::move(*opened);
  }
  Sha256Stream hash;
  Status write_status;
  uint64_t received = 0;
  reader([&](const char* data, size_t size) {
    ByteView bytes(reinterpret_cast<const uint8_t*>(data), size);
    hash.Update(bytes);
    received += size;
    if (writer && write_status.ok()) write_status = writer->Write(bytes);
    return write_status.ok();
  });
  if (!write_status.ok()) return SendStatus(res, write_status);
  if (received != length)
    return SendError(res, 400, "bad_request", "body shorter than its Content-Length");
  Id digest = hash.Finish();
  if (!is_config && digest.Hex() != object.name)
    return SendError(
        res, 422, "digest_mismatch",
        "the body's SHA-256 is " + digest.Hex() + ", not the object's name; nothing stored");
  if (exists && is_config) {
    auto stored = backend->Get(object);
    if (!stored.ok()) return SendStatus(res, stored.status());
    if (Sha256(*stored) == digest) return SendJson(res, 200, {{"stored", false}});
    if (token->kind != TokenKind::kMaintenance)
      return SendError(res, 409, "conflict",
                       "the repository config exists and machine tokens cannot replace it");
  }
  if (exists && !is_config) return SendJson(res, 200, {{"stored", false}});
  Status status = writer->Commit();
  if (!status.ok()) return SendStatus(res, status);
  RecordStoredObject(req, res, *token, object, received);
}

// Write-once PUT (`If-None-Match: *`, HttpBackend::PutIfAbsent): 409 if the
// name is taken, whatever it holds, else stored through the storage's own
// conditional write, so that of several such PUTs racing for one name exactly
// one is stored. The body is read whole first (a conditional write is one
// call), hence the smaller limit; write-once objects are configs and locks.
void VaultServer::Impl::HandleWriteOncePut(const httplib::Request& req, httplib::Response& res,
                                           const httplib::ContentReader& reader,
                                           const TokenRecord& token, Backend& backend,
                                           const ObjectName& object, uint64_t length, bool exists) {
  if (length > kMaxWriteOnceSize)
    return SendError(res, 413, "too_large", "write-once objects are at most 16 MiB");
  Bytes body;
  body.reserve(length);
  reader([&](const char* data, size_t size) {
    body.insert(body.end(), data, data + size);
    return body.size() <= length;
  });
  if (body.size() != length)
    return SendError(res, 400, "bad_request", "body shorter than its Content-Length");
  // Before the digest: a write-once PUT of other bytes under a taken name is
  // a conflict, whatever the bytes.
  if (exists)
    return SendError(res, 409, "conflict",
                     std::string(ObjectKindName(object.kind)) + "/" + object.name + " exists");
  Id digest = Sha256(body);
  if (object.kind != ObjectKind::kConfig && digest.Hex() != object.name)
    return SendError(
        res, 422, "digest_mismatch",
        "the body's SHA-256 is " + digest.Hex() + ", not the object's name; nothing stored");
  Status status = backend.PutIfAbsent(object, body);
  if (!status.ok()) return SendStatus(res, status);  // AlreadyExists: 409
  RecordStoredObject(req, res, token, object, length);
}

void VaultServer::Impl::RecordStoredObject(const httplib::Request& req, httplib::Response& res,
                                           const TokenRecord& token, const ObjectName& object,
                                           uint64_t size) {
  Status status;
  // The writer's key (HttpBackend sends a random one per process): with a
  // machine token, only the process that wrote a lock may remove it.
  if (object.kind == ObjectKind::kLock && req.has_param("owner_key")) {
    status = store->SetLockOwner(token.machine->id, object.name,
                                 HashToken(req.get_param_value("owner_key")));
    if (!status.ok()) return SendStatus(res, status);
  }
  if (object.kind == ObjectKind::kSnapshot) {
    status = store->AddRecoveryPoint(token.machine->id, {object.name, clock.NowNanos(), size});
    if (!status.ok()) return SendStatus(res, status);
  }
  SendJson(res, 201, {{"stored", true}});
}

void VaultServer::Impl::HandleDeleteObject(const httplib::Request& req, httplib::Response& res) {
  auto token = Machine(req, res);
  if (!token) return;
  ObjectName object;
  if (!ParseObjectName(req.matches[1], req.matches[2], &object))
    return SendError(res, 400, "bad_name", "not an object name");
  // Append-only: a machine may only release its own locks (below). Deleting
  // anything else needs the separately issued maintenance token.
  if (token->kind == TokenKind::kMachine && object.kind != ObjectKind::kLock)
    return SendError(res, 403, "forbidden",
                     "machine " + token->machine->name + " may not delete " +
                         ObjectKindName(object.kind) + " (machine tokens are append-only)");
  // A machine's processes share its token; each lock is bound to the key of
  // the process that wrote it, so a machine token cannot break another
  // process's lock (a running backup's, a prune's) — docs/protocol.md.
  if (token->kind == TokenKind::kMachine && object.kind == ObjectKind::kLock) {
    auto owner = store->FindLockOwner(token->machine->id, object.name);
    if (!owner.ok() && !owner.status().IsNotFound()) return SendStatus(res, owner.status());
    bool own = owner.ok() && req.has_param("owner_key") &&
               *owner == HashToken(req.get_param_value("owner_key"));
    if (!own)
      return SendError(res, 403, "forbidden",
                       "lock " + object.name + " of machine " + token->machine->name +
                           " was written by another process; removing it needs the machine's "
                           "maintenance token (ferry machine maintenance-token)");
  }
  auto backend = MachineBackend(*token->machine);
  if (!backend.ok()) return SendStatus(res, backend.status());
  Status status = (*backend)->Remove(object);
  if (!status.ok()) return SendStatus(res, status);
  if (object.kind == ObjectKind::kLock) {
    status = store->RemoveLockOwner(token->machine->id, object.name);
    if (!status.ok()) return SendStatus(res, status);
  }
  if (object.kind == ObjectKind::kSnapshot) {
    status = store->RemoveRecoveryPoint(token->machine->id, object.name);
    if (!status.ok()) return SendStatus(res, status);
  }
  res.status = 204;
}

void VaultServer::Impl::ImportRoutes() {
  // Operators (datacenter staff) get their own token from the admin.
  server->Post("/import/v1/operators", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admin(req, res)) return;
    std::string token = GenerateToken();
    Status status =
        store->AddToken(HashToken(token), TokenKind::kOperator, std::nullopt, clock.NowNanos());
    if (!status.ok()) return SendStatus(res, status);
    SendJson(res, 201, {{"token", token}});
  });
  server->Post("/import/v1/jobs", [this](const httplib::Request& req, httplib::Response& res) {
    auto token = Authenticate(req, res);
    if (!token) return;
    if (token->kind == TokenKind::kOperator)
      return SendError(res, 403, "forbidden", "operators do not create import jobs");
    auto request = ParseCreateJobRequest(req.body);
    if (!request.ok()) return SendError(res, 400, "bad_request", request.status().message());
    ImportJob job;
    job.name = request->name;
    job.storage_account = request->storage_account;
    job.container = request->container;
    job.public_key = request->public_key;
    job.drives = std::move(request->drives);
    if (token->machine) {
      job.vault = token->machine->vault;
      job.machine = token->machine->name;
    }
    job.created_ns = clock.NowNanos();
    job.events.push_back({job.created_ns, "job created with " +
                                              Plural(job.drives.size(), "drive", "drives") +
                                              " for " + job.storage_account + "/" + job.container});
    std::lock_guard lock(jobs_mutex);
    // The name is unique within the machine's scope only: a taken name is
    // always one of the caller's own jobs, so the 409 tells it nothing new.
    Status status = store->CreateImportJob(job);
    if (!status.ok()) return SendStatus(res, status);
    SendJson(res, 201, JobJson(job));
  });
  server->Get("/import/v1/jobs", [this](const httplib::Request& req, httplib::Response& res) {
    auto token = Authenticate(req, res);
    if (!token) return;
    std::lock_guard lock(jobs_mutex);
    auto jobs = store->ListImportJobs();
    if (!jobs.ok()) return SendStatus(res, jobs.status());
    json list = json::array();
    for (ImportJob& job : *jobs) {
      if (!MaySee(*token, job)) continue;
      Status status = ApplyJobDeadlines(job);
      if (!status.ok()) return SendStatus(res, status);
      list.push_back(JobJson(job));
    }
    SendJson(res, 200, list);
  });
  server->Get(R"(/import/v1/jobs/([^/]+))",
              [this](const httplib::Request& req, httplib::Response& res) {
                auto token = Authenticate(req, res);
                if (!token) return;
                std::lock_guard lock(jobs_mutex);
                auto job = LoadJob(*token, req.matches[1]);
                if (!job.ok()) return SendStatus(res, job.status());
                json answer = JobJson(*job);
                // The datacenter ingests into the container the vault adopts from:
                // operators and the admin learn where it is (a location holds no
                // credential; machines never see it, as no answer to them names the
                // vault's paths). A directory root comes with its ID, which ingest
                // checks wherever the root is mounted (seed/storage_root_id.h).
                if (token->kind == TokenKind::kOperator || token->kind == TokenKind::kAdmin)
                  AddContainerLocation(*job, answer);
                SendJson(res, 200, answer);
              });
  // Changes by the job's owner (or the admin): shipping and cancelling.
  server->Post(R"(/import/v1/jobs/([^/]+)/(ship|cancel))", [this](const httplib::Request& req,
                                                                  httplib::Response& res) {
    auto token = Authenticate(req, res);
    if (!token) return;
    if (token->kind == TokenKind::kOperator)
      return SendError(res, 403, "forbidden", "shipping and cancelling are for the job's owner");
    std::optional<ShippingInfo> shipping;
    if (req.matches[2] == "ship") {
      auto parsed = ParseShipJobRequest(req.body);
      if (!parsed.ok()) return SendError(res, 400, "bad_request", parsed.status().message());
      shipping = std::move(*parsed);
    }
    std::lock_guard lock(jobs_mutex);
    auto job = LoadJob(*token, req.matches[1]);
    if (!job.ok()) return SendStatus(res, job.status());
    Status status = shipping ? ShipJob(*job, *shipping, clock.NowNanos())
                             : TransitionJob(*job, JobState::kCancelled, clock.NowNanos(),
                                             "cancelled by its owner");
    if (!status.ok()) return SendError(res, 409, "conflict", status.message());
    status = store->SaveImportJob(*job);
    if (!status.ok()) return SendStatus(res, status);  // e.g. a tracking number of another job
    SendJson(res, 200, JobJson(*job));
  });
  // Changes by the datacenter (operator or admin): job and drive states.
  server->Post(R"(/import/v1/jobs/([^/]+)/state)", [this](const httplib::Request& req,
                                                          httplib::Response& res) {
    auto token = Authenticate(req, res);
    if (!token) return;
    if (token->kind != TokenKind::kOperator && token->kind != TokenKind::kAdmin)
      return SendError(res, 403, "forbidden", "only the datacenter moves a job's state");
    auto request = ParseJobStateRequest(req.body);
    if (!request.ok()) return SendError(res, 400, "bad_request", request.status().message());
    std::lock_guard lock(jobs_mutex);
    auto job = LoadJob(*token, req.matches[1]);
    if (!job.ok()) return SendStatus(res, job.status());
    Status status = TransitionJob(*job, request->state, clock.NowNanos(), request->message);
    if (!status.ok()) return SendError(res, 409, "conflict", status.message());
    status = store->SaveImportJob(*job);
    if (!status.ok()) return SendStatus(res, status);
    SendJson(res, 200, JobJson(*job));
  });
  server->Post(R"(/import/v1/jobs/([^/]+)/drives/([^/]+))", [this](const httplib::Request& req,
                                                                   httplib::Response& res) {
    auto token = Authenticate(req, res);
    if (!token) return;
    if (token->kind != TokenKind::kOperator && token->kind != TokenKind::kAdmin)
      return SendError(res, 403, "forbidden", "only the datacenter reports on drives");
    auto update = ParseDriveUpdateRequest(req.body);
    if (!update.ok()) return SendError(res, 400, "bad_request", update.status().message());
    std::lock_guard lock(jobs_mutex);
    auto job = LoadJob(*token, req.matches[1]);
    if (!job.ok()) return SendStatus(res, job.status());
    DriveRecord* drive = job->FindDrive(req.matches[2]);
    if (!drive)
      return SendError(res, 404, "not_found",
                       "job " + job->name + " has no drive " + std::string(req.matches[2]));
    if (update->state) {
      Status status = TransitionDrive(*job, *drive, *update->state, clock.NowNanos(),
                                      update->reason.value_or(""));
      if (!status.ok()) return SendError(res, 409, "conflict", status.message());
    }
    if (update->bytes_succeeded) drive->bytes_succeeded = *update->bytes_succeeded;
    if (update->percent_complete) drive->percent_complete = *update->percent_complete;
    if (update->reason) drive->reason = *update->reason;
    if (update->missing) drive->missing = std::move(*update->missing);
    if (update->corrupt) drive->corrupt = std::move(*update->corrupt);
    if (update->unexpected) drive->unexpected = std::move(*update->unexpected);
    Status status = store->SaveImportJob(*job);
    if (!status.ok()) return SendStatus(res, status);
    SendJson(res, 200, JobJson(*job));
  });
}

// REQUIRES: seeds_mutex held.
json VaultServer::Impl::SeedJson(int64_t machine_id, const SeedRecord& seed, Backend& repository,
                                 bool with_absent) {
  // "adopting" in the database but no thread at work: the server stopped
  // mid-adoption. Say so, so that the agent asks for it to resume.
  std::string state = SeedStateName(seed.state);
  auto running = adopting.find({machine_id, seed.job});
  if (seed.state == SeedState::kAdopting && running == adopting.end()) state = "interrupted";
  uint64_t bytes = 0, present = 0, present_bytes = 0;
  json absent = json::array();
  for (const SeedPack& pack : seed.packs) {
    bytes += pack.size;
    if (repository.Stat({ObjectKind::kData, pack.id.Hex()}).ok()) {
      ++present;
      present_bytes += pack.size;
    } else if (with_absent) {
      absent.push_back(pack.id.Hex());
    }
  }
  auto hex_list = [](const std::vector<Id>& ids) {
    json list = json::array();
    for (const Id& id : ids) list.push_back(id.Hex());
    return list;
  };
  json j = {{"job", seed.job},
            {"storage_account", seed.storage_account},
            {"container", seed.container},
            {"registered", Rfc3339(seed.registered_ns)},
            {"since_ns", seed.since_ns},
            {"staging", seed.staging},
            {"state", state},
            {"packs", seed.packs.size()},
            {"bytes", bytes},
            {"packs_present", present},
            {"bytes_present", present_bytes},
            {"complete", present == seed.packs.size()},
            {"adopted", seed.adopted_ns ? json(Rfc3339(seed.adopted_ns)) : json(nullptr)},
            {"packs_from_container", seed.packs_from_container},
            {"bytes_from_container", seed.bytes_from_container},
            {"missing", hex_list(seed.missing)},
            {"corrupt", hex_list(seed.corrupt)}};
  if (with_absent) j["absent"] = absent;
  if (running != adopting.end()) j["packs_examined"] = running->second;
  return j;
}

// Runs on a thread of its own: a seed is terabytes, far longer than a request.
// Every step is idempotent (packs already in the repository are skipped), so
// an adoption cut off by a restart simply runs again.
void VaultServer::Impl::AdoptSeed(MachineRecord machine, std::string job) {
  auto finish = [&](const std::function<void(SeedRecord&)>& update) {
    std::lock_guard lock(seeds_mutex);
    auto seed = store->LoadSeed(machine.id, job);
    if (seed.ok()) {
      update(*seed);
      Status status = store->SaveSeed(machine.id, *seed);
      if (!status.ok())
        std::fprintf(stderr, "seed %s: %s\n", job.c_str(), status.ToString().c_str());
    }
    adopting.erase({machine.id, job});
  };
  SeedRecord seed;
  {
    std::lock_guard lock(seeds_mutex);
    auto loaded = store->LoadSeed(machine.id, job);
    if (!loaded.ok()) return finish([](SeedRecord&) {});
    seed = std::move(*loaded);
  }
  auto repository = MachineBackend(machine);
  if (!repository.ok()) {
    std::fprintf(stderr, "seed %s: %s\n", job.c_str(), repository.status().ToString().c_str());
    return finish([](SeedRecord& s) { s.state = SeedState::kAwaiting; });
  }
  auto container = OpenContainer(seed);
  if (!container.ok()) {
    std::fprintf(stderr, "seed %s: %s\n", job.c_str(), container.status().ToString().c_str());
    return finish([](SeedRecord& s) { s.state = SeedState::kAwaiting; });
  }
  uint64_t copied = 0, copied_bytes = 0, copied_server_side = 0;
  std::vector<Id> missing, corrupt;
  for (const SeedPack& pack : seed.packs) {
    if (stopping) return finish([](SeedRecord&) {});  // stays "adopting"; resumes on request
    if (!(*repository)->Stat({ObjectKind::kData, pack.id.Hex()}).ok()) {
      bool server_side = false;
      auto size = CopyVerifiedPackServerSide(**container, **repository, pack.id, &server_side);
      if (size.ok()) {
        ++copied;
        copied_bytes += *size;
        copied_server_side += server_side;
      } else if (size.status().IsNotFound()) {
        missing.push_back(pack.id);
      } else if (size.status().code() == StatusCode::kCorruption) {
        corrupt.push_back(pack.id);
      } else {
        std::fprintf(stderr, "seed %s: %s\n", job.c_str(), size.status().ToString().c_str());
        return finish([](SeedRecord& s) { s.state = SeedState::kAwaiting; });
      }
    }
    std::lock_guard lock(seeds_mutex);
    ++adopting[{machine.id, job}];
  }
  int64_t now = clock.NowNanos();
  // The operator's record of where the bytes went (no secret: IDs and counts).
  std::fprintf(stderr,
               "seed %s of %s/%s adopted: %llu pack(s) from the container, %llu of them copied "
               "server-side; %zu missing, %zu corrupt\n",
               job.c_str(), machine.vault.c_str(), machine.name.c_str(),
               static_cast<unsigned long long>(copied),
               static_cast<unsigned long long>(copied_server_side), missing.size(), corrupt.size());
  if (copied == 0 && !seed.packs.empty() && missing.size() == seed.packs.size()) {
    auto location = ContainerLocation(StorageRoot(), seed.storage_account, seed.container);
    std::fprintf(stderr,
                 "warning: seed %s: none of its packs is in %s, where the vault adopts from: was "
                 "it ingested elsewhere (ferry datacenter ingest's last line names where it "
                 "copied)?\n",
                 job.c_str(), location.ok() ? location->c_str() : "its container");
  }
  finish([&](SeedRecord& s) {
    s.state = SeedState::kAdopted;
    s.adopted_ns = now;
    s.packs_from_container += copied;
    s.bytes_from_container += copied_bytes;
    s.missing = missing;
    s.corrupt = corrupt;
  });
}

std::optional<VaultServer::Impl::SeedRequest> VaultServer::Impl::OpenSeedRequest(
    const httplib::Request& req, httplib::Response& res) {
  SeedRequest request;
  auto token = Machine(req, res);
  if (!token) return std::nullopt;
  request.token = *token;
  auto backend = MachineBackend(*token->machine);
  if (!backend.ok()) {
    SendStatus(res, backend.status());
    return std::nullopt;
  }
  request.repository = *backend;
  request.lock = std::unique_lock(seeds_mutex);
  auto seed = store->LoadSeed(token->machine->id, req.matches[1]);
  if (!seed.ok()) {
    SendStatus(res, seed.status());
    return std::nullopt;
  }
  request.seed = std::move(*seed);
  return request;
}

void VaultServer::Impl::SeedRoutes() {
  // Registers packs that an offline backup wrote to staging.
  server->Post(R"(/vault/v1/seeds/([^/]+))", [this](const httplib::Request& req,
                                                    httplib::Response& res) {
    auto token = Machine(req, res);
    if (!token) return;
    std::string job = req.matches[1];
    if (!IsEntityName(job))
      return SendError(res, 400, "bad_name", "job names are 1-64 characters of A-Z a-z 0-9 . _ -");
    auto request = ParseSeedRegistrationRequest(req.body);
    if (!request.ok()) return SendError(res, 400, "bad_request", request.status().message());
    const std::string& account = request->storage_account;
    const std::string& container = request->container;
    auto backend = MachineBackend(*token->machine);
    if (!backend.ok()) return SendStatus(res, backend.status());
    std::lock_guard lock(seeds_mutex);
    auto seed = store->LoadSeed(token->machine->id, job);
    if (!seed.ok() && !seed.status().IsNotFound()) return SendStatus(res, seed.status());
    if (!seed.ok()) {
      seed = SeedRecord{};
      seed->job = job;
      seed->storage_account = account;
      seed->container = container;
      seed->registered_ns = clock.NowNanos();
    } else if (seed->storage_account != account || seed->container != container) {
      return SendError(res, 409, "conflict",
                       "seed " + job + " goes to " + seed->storage_account + "/" + seed->container +
                           ", not " + account + "/" + container);
    } else if (seed->state == SeedState::kCleanedUp) {
      return SendError(res, 409, "conflict", "seed " + job + " was cleaned up; use a new job");
    }
    int64_t since = request->since_ns;
    if (since > 0 && (seed->since_ns == 0 || since < seed->since_ns)) seed->since_ns = since;
    if (request->staging) seed->staging = *request->staging;
    size_t added = AddSeedPacks(*seed, request->packs);
    Status status = store->SaveSeed(token->machine->id, *seed);
    if (!status.ok()) return SendStatus(res, status);
    json answer = SeedJson(token->machine->id, *seed, **backend, false);
    answer["added"] = added;
    SendJson(res, 200, answer);
  });
  server->Get("/vault/v1/seeds", [this](const httplib::Request& req, httplib::Response& res) {
    auto token = Machine(req, res);
    if (!token) return;
    auto backend = MachineBackend(*token->machine);
    if (!backend.ok()) return SendStatus(res, backend.status());
    std::lock_guard lock(seeds_mutex);
    auto seeds = store->ListSeeds(token->machine->id);
    if (!seeds.ok()) return SendStatus(res, seeds.status());
    json list = json::array();
    for (const SeedRecord& seed : *seeds)
      list.push_back(SeedJson(token->machine->id, seed, **backend, false));
    SendJson(res, 200, list);
  });
  server->Get(R"(/vault/v1/seeds/([^/]+))", [this](const httplib::Request& req,
                                                   httplib::Response& res) {
    auto request = OpenSeedRequest(req, res);
    if (!request) return;
    SendJson(res, 200, SeedJson(request->machine_id(), request->seed, *request->repository, true));
  });
  // Starts (or resumes) copying the seed's packs from its container.
  server->Post(R"(/vault/v1/seeds/([^/]+)/adopt)", [this](const httplib::Request& req,
                                                          httplib::Response& res) {
    auto request = OpenSeedRequest(req, res);
    if (!request) return;
    const TokenRecord* token = &request->token;
    SeedRecord* seed = &request->seed;
    if (seed->state == SeedState::kCleanedUp)
      return SendError(res, 409, "conflict", "seed " + seed->job + " was already cleaned up");
    auto key = std::make_pair(token->machine->id, seed->job);
    if (!adopting.count(key)) {
      seed->state = SeedState::kAdopting;
      Status status = store->SaveSeed(token->machine->id, *seed);
      if (!status.ok()) return SendStatus(res, status);
      adopting[key] = 0;
      std::thread& thread = adoptions[key];
      if (thread.joinable()) thread.join();  // the previous adoption of this seed, finished
      thread = std::thread(
          [this, machine = *token->machine, job = seed->job] { AdoptSeed(machine, job); });
    }
    SendJson(res, 202, {{"job", seed->job}, {"state", "adopting"}});
  });
  // Deletes the container's copies once the vault holds every pack.
  server->Post(R"(/vault/v1/seeds/([^/]+)/cleanup)", [this](const httplib::Request& req,
                                                            httplib::Response& res) {
    auto request = OpenSeedRequest(req, res);
    if (!request) return;
    const TokenRecord* token = &request->token;
    SeedRecord* seed = &request->seed;
    if (adopting.count({token->machine->id, seed->job}))
      return SendError(res, 409, "conflict", "seed " + seed->job + " is being adopted right now");
    json report = SeedJson(token->machine->id, *seed, *request->repository, true);
    if (!report["complete"].get<bool>())
      return SendError(res, 409, "not_adopted",
                       "the vault does not hold every pack of seed " + seed->job + " yet (" +
                           std::to_string(report["absent"].size()) + " of " +
                           std::to_string(seed->packs.size()) +
                           " missing); adopt it first: ferry seed adopt " + seed->job);
    auto container = OpenContainer(*seed);
    if (!container.ok()) return SendStatus(res, container.status());
    uint64_t removed = 0;
    for (const SeedPack& pack : seed->packs) {
      Status status = (*container)->Remove({ObjectKind::kData, pack.id.Hex()});
      if (status.ok())
        ++removed;
      else if (!status.IsNotFound())
        return SendStatus(res, status);
    }
    seed->state = SeedState::kCleanedUp;
    Status status = store->SaveSeed(token->machine->id, *seed);
    if (!status.ok()) return SendStatus(res, status);
    SendJson(res, 200,
             {{"job", seed->job}, {"state", "cleaned-up"}, {"container_packs_removed", removed}});
  });
}

VaultServer::VaultServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VaultServer::~VaultServer() = default;

Result<std::unique_ptr<VaultServer>> VaultServer::Open(const VaultServerOptions& options,
                                                       const Clock& clock) {
  if (options.data_dir.empty()) return Status::InvalidArgument("serve needs --data DIR");
  if (options.tls_certificate.empty() != options.tls_key.empty())
    return Status::InvalidArgument("TLS needs both --tls-cert and --tls-key");
  auto impl = std::make_unique<Impl>(options, clock);
  RETURN_IF_ERROR(MakeDirectories(options.data_dir, 0700));
  if (options.repository_store.empty()) {
    RETURN_IF_ERROR(MakeDirectories(options.data_dir + "/repositories", 0700));
    // Uploads cut off by a crash of the server leave temp files beside the
    // objects; at startup none can still be in progress, so all are garbage.
    RemoveTempFiles(options.data_dir + "/repositories");
  }
  // A location no backend understands fails now, not at a machine's first request.
  for (const std::string& location : {impl->RepositoryStore(), impl->StorageRoot()})
    RETURN_IF_ERROR(OpenBackend(location).status().WithContext("the vault's storage"));
  ASSIGN_OR_RETURN(impl->store,
                   OpenMetadataStore(options.database.empty() ? options.data_dir + "/vault.db"
                                                              : options.database));
  RETURN_IF_ERROR(impl->EnsureAdminToken());
  if (!options.tls_certificate.empty()) {
    auto server = std::make_unique<BufferedHttpsServer>(options.tls_certificate, options.tls_key);
    if (!server->is_valid())
      return Status::InvalidArgument("cannot load TLS certificate " + options.tls_certificate +
                                     " or key " + options.tls_key);
    impl->server = std::move(server);
  } else {
    impl->server = std::make_unique<BufferedHttpServer>();
  }
  impl->Routes();
  return std::unique_ptr<VaultServer>(new VaultServer(std::move(impl)));
}

Result<int> VaultServer::Bind() {
  int port = impl_->options.port == 0
                 ? impl_->server->bind_to_any_port(impl_->options.host)
                 : (impl_->server->bind_to_port(impl_->options.host, impl_->options.port)
                        ? impl_->options.port
                        : -1);
  if (port < 0)
    return Status::IOError("cannot listen on " + impl_->options.host + ":" +
                           std::to_string(impl_->options.port) +
                           " (in use, or not an address here)");
  impl_->port = port;
  return port;
}

Status VaultServer::Serve() {
  if (!impl_->server->listen_after_bind())
    return Status::IOError("the server stopped unexpectedly");
  return Status::Ok();
}

void VaultServer::Stop() { impl_->server->stop(); }

std::string VaultServer::admin_token_path() const { return impl_->AdminTokenPath(); }

std::string VaultServer::url() const {
  return std::string(impl_->options.tls_certificate.empty() ? "http" : "https") + "://" +
         impl_->options.host + ":" + std::to_string(impl_->port);
}

}  // namespace ferry
