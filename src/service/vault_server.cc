#include "service/vault_server.h"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "service/access_log.h"
#include "service/authentication.h"
#include "service/buffered_http_server.h"
#include "service/handlers.h"
#include "service/response.h"
#include "service/router.h"
#include "service/seed_adoption.h"
#include "service/vault_state.h"
#include "storage/backend_registry.h"
#include "util/file_util.h"

namespace ferry {

namespace {

// Ferry clients send fewer than ten headers.
constexpr size_t kMaxHeaders = 64;

}  // namespace

struct VaultServer::Impl {
  std::unique_ptr<VaultState> state;
  // Declared after `state`: adoptions use it, and stop (joined) first.
  std::unique_ptr<SeedAdoptions> adoptions;
  std::unique_ptr<AccessLog> access_log;
  std::unique_ptr<Router> router;
  std::unique_ptr<BufferedHttpServer> server;
  int port = 0;

  // The shutdown's grace period runs on its own thread, from the first
  // Stop() until Serve() returns.
  std::mutex shutdown_mutex;
  std::condition_variable shutdown_done;
  bool served = false;
  std::thread shutdown_timer;

  void Configure();
};

void VaultServer::Impl::Configure() {
  VaultState& vault = *state;
  router = std::make_unique<Router>(
      [&vault](const httplib::Request& request, httplib::Response& response) {
        return Authenticate(vault.store(), request, response);
      });
  AddHealthRoutes(*router, vault);
  AddMetricsRoutes(*router, vault, *adoptions);
  AddVaultRoutes(*router, vault);
  AddObjectRoutes(*router, vault);
  AddPolicyRoutes(*router, vault);
  AddImportJobRoutes(*router, vault);
  AddSeedRoutes(*router, vault, *adoptions);
  router->Install(*server);

  // Answers httplib makes itself (a malformed request, a body over the
  // payload limit) get the vault's error document; every error body is
  // cleared of the vault's paths.
  server->set_error_handler([&vault](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) {
      res.body = vault.HidePaths(res.body);
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
  // Larger than any pack (16 MiB target, one blob of at most 80 MiB past it).
  server->set_payload_max_length(256ull << 20);
  // httplib limits each header line but not their number.
  // Refused here, the body is never read: the server closes the connection.
  AccessLog* log = access_log.get();
  server->set_pre_routing_handler([log](const httplib::Request& req, httplib::Response& res) {
    log->Begin();
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
  server->set_logger(
      [log](const httplib::Request& req, const httplib::Response& res) { log->Finish(req, res); });
}

VaultServer::VaultServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

VaultServer::~VaultServer() {
  if (impl_->shutdown_timer.joinable()) {
    {
      std::lock_guard lock(impl_->shutdown_mutex);
      impl_->served = true;
    }
    impl_->shutdown_done.notify_all();
    impl_->shutdown_timer.join();
  }
}

Result<std::unique_ptr<VaultServer>> VaultServer::Open(const VaultServerOptions& options,
                                                       const Clock& clock) {
  if (options.data_dir.empty()) return Status::InvalidArgument("serve needs --data DIR");
  if (options.tls_certificate.empty() != options.tls_key.empty())
    return Status::InvalidArgument("TLS needs both --tls-cert and --tls-key");
  RETURN_IF_ERROR(MakeDirectories(options.data_dir, 0700));
  if (options.repository_store.empty()) {
    RETURN_IF_ERROR(MakeDirectories(options.data_dir + "/repositories", 0700));
    // Uploads cut off by a crash of the server leave temp files beside the
    // objects; at startup none can still be in progress, so all are garbage.
    RemoveTempFiles(options.data_dir + "/repositories");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<MetadataStore> store,
                   OpenMetadataStore(options.database.empty() ? options.data_dir + "/vault.db"
                                                              : options.database));
  auto impl = std::make_unique<Impl>();
  impl->state = std::make_unique<VaultState>(options, clock, std::move(store));
  // A location no backend understands fails now, not at a machine's first request.
  for (const std::string& location : {impl->state->RepositoryStore(), impl->state->StorageRoot()})
    RETURN_IF_ERROR(OpenBackend(location).status().WithContext("the vault's storage"));
  RETURN_IF_ERROR(impl->state->EnsureTokens());
  if (!options.tls_certificate.empty()) {
    auto server = std::make_unique<BufferedHttpsServer>(options.tls_certificate, options.tls_key);
    if (!server->is_valid())
      return Status::InvalidArgument("cannot load TLS certificate " + options.tls_certificate +
                                     " or key " + options.tls_key);
    impl->server = std::move(server);
  } else {
    impl->server = std::make_unique<BufferedHttpServer>();
  }
  impl->adoptions = std::make_unique<SeedAdoptions>(*impl->state);
  impl->access_log = std::make_unique<AccessLog>(impl->state->metrics());
  impl->Configure();
  return std::unique_ptr<VaultServer>(new VaultServer(std::move(impl)));
}

Result<int> VaultServer::Bind() {
  const VaultServerOptions& options = impl_->state->options();
  int port = options.port == 0
                 ? impl_->server->bind_to_any_port(options.host)
                 : (impl_->server->bind_to_port(options.host, options.port) ? options.port : -1);
  if (port < 0)
    return Status::IOError("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                           " (in use, or not an address here)");
  impl_->port = port;
  return port;
}

Status VaultServer::Serve() {
  bool listened = impl_->server->listen_after_bind();
  {
    std::lock_guard lock(impl_->shutdown_mutex);
    impl_->served = true;
  }
  impl_->shutdown_done.notify_all();
  if (!listened) return Status::IOError("the server stopped unexpectedly");
  return Status::Ok();
}

void VaultServer::Stop() {
  Impl& impl = *impl_;
  if (!impl.state->stopping.exchange(true)) {
    // Requests in flight may finish within the grace period; past it,
    // uploads still running are answered 503 (nothing stored; the client
    // retries) and every connection is cut, so that the process ends.
    auto grace = std::chrono::milliseconds(impl.state->options().shutdown_grace_ms);
    impl.shutdown_timer = std::thread([&impl, grace] {
      std::unique_lock lock(impl.shutdown_mutex);
      if (impl.shutdown_done.wait_for(lock, grace, [&] { return impl.served; })) return;
      std::fprintf(stderr, "shutdown: requests still running after %lld ms; refusing them\n",
                   static_cast<long long>(grace.count()));
      impl.state->refusing = true;
      impl.server->CutOff();
    });
  }
  impl.server->stop();
}

std::string VaultServer::admin_token_path() const { return impl_->state->AdminTokenPath(); }
std::string VaultServer::metrics_token_path() const { return impl_->state->MetricsTokenPath(); }

std::string VaultServer::url() const {
  const VaultServerOptions& options = impl_->state->options();
  return std::string(options.tls_certificate.empty() ? "http" : "https") + "://" + options.host +
         ":" + std::to_string(impl_->port);
}

}  // namespace ferry
