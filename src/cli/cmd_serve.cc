// ferry serve: run the vault service (docs/protocol.md) until interrupted.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "service/metadata_store.h"
#include "service/vault_server.h"
#include "storage/backend_registry.h"

namespace ferry {

namespace {
struct ServeFlags {
  std::string data;
  std::string listen = "127.0.0.1:8470";
  std::string tls_certificate;
  std::string tls_key;
  std::string shipping_address;
  std::string storage_root;
  std::string storage;
  std::string database;
  double shutdown_grace_seconds = 30;
};

// Where the storage accounts are (VaultServerOptions::storage_root's default).
std::string StorageAccountsOf(const VaultServerOptions& options) {
  return options.storage_root.empty() ? options.data_dir + "/storage" : options.storage_root;
}

int RunServe(GlobalOptions& global, const ServeFlags& flags) {
  VaultServerOptions options;
  options.database = flags.database;
  // Absolute, so that the storage root the import service names to operators
  // (DATA/storage by default) means the same from any working directory.
  std::error_code error;
  options.data_dir = std::filesystem::absolute(flags.data, error).lexically_normal().string();
  if (error) options.data_dir = flags.data;
  size_t colon = flags.listen.rfind(':');
  if (colon == std::string::npos)
    return ReportError(global,
                       Status::InvalidArgument("--listen takes HOST:PORT, e.g. 127.0.0.1:8470"));
  options.host = flags.listen.substr(0, colon);
  options.port = std::atoi(flags.listen.c_str() + colon + 1);
  options.tls_certificate = flags.tls_certificate;
  options.tls_key = flags.tls_key;
  if (!flags.shipping_address.empty()) options.shipping_address = flags.shipping_address;
  options.storage_root = flags.storage_root;
  if (auto root = ParseStorageLocation(flags.storage_root);
      root.ok() && root->scheme == "local" && root->text == root->address)  // a plain path
    options.storage_root =
        std::filesystem::absolute(flags.storage_root, error).lexically_normal().string();
  if (!(flags.shutdown_grace_seconds >= 0 && flags.shutdown_grace_seconds <= 3600))
    return ReportError(
        global, Status::InvalidArgument("--shutdown-grace takes 0 to 3600 seconds, e.g. 30"));
  options.shutdown_grace_ms = static_cast<int64_t>(flags.shutdown_grace_seconds * 1000);
  if (!flags.storage.empty()) {
    // One location for everything the vault stores: repositories below
    // STORAGE/repositories, storage accounts (unless --storage-root says
    // otherwise) below STORAGE/accounts.
    auto repositories = StorageLocationChild(flags.storage, "repositories");
    if (!repositories.ok()) return ReportError(global, repositories.status());
    options.repository_store = *repositories;
    if (options.storage_root.empty()) {
      auto accounts = StorageLocationChild(flags.storage, "accounts");
      if (!accounts.ok()) return ReportError(global, accounts.status());
      options.storage_root = *accounts;
    }
  }
  auto server = VaultServer::Open(options);
  if (!server.ok()) return ReportError(global, server.status());
  auto port = (*server)->Bind();
  if (!port.ok()) return ReportError(global, port.status());
  if (global.json) {
    PrintJson({{"message_type", "listening"},
               {"url", (*server)->url()},
               {"admin_token_file", (*server)->admin_token_path()},
               {"storage_accounts", StorageAccountsOf(options)},
               {"metrics_token_file", (*server)->metrics_token_path()}});
  } else {
    Say(global, "ferry vault listening on " + (*server)->url());
    // The password of a postgresql:// URI never reaches the log.
    Say(global, "metadata database: " + RedactDatabaseLocation(options.database.empty()
                                                                   ? options.data_dir + "/vault.db"
                                                                   : options.database));
    Say(global, "admin token: " + (*server)->admin_token_path() +
                    " (use it with FERRY_ADMIN_TOKEN_FILE or --admin-token-file)");
    Say(global, "storage accounts that datacenter ingest fills: " + StorageAccountsOf(options));
    Say(global, "stop with Ctrl-C or SIGTERM (kill PID)");
    Say(global, "metrics token: " + (*server)->metrics_token_path() + " (for GET /metrics)");
  }
  // Signals only set a flag; this thread turns it into a graceful stop
  // (requests in flight finish within --shutdown-grace). A stop
  // asked for before the accept loop runs is lost (httplib), so it is asked
  // for again until Serve returns.
  std::atomic<bool> served{false};
  std::thread watcher([&] {
    while (!InterruptFlag()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    while (!served) {
      (*server)->Stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  Status status = (*server)->Serve();
  served = true;
  InterruptFlag() = true;
  watcher.join();
  if (!status.ok()) return ReportError(global, status);
  Say(global, "ferry vault stopped");
  return kExitOk;
}
}  // namespace

void AddServeCommand(CLI::App& app, GlobalOptions& global, CommandList& commands) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* command = app.add_subcommand("serve", "Run the vault service");
  command->add_option("--data", flags->data, "Directory for the service's state and repositories")
      ->required();
  command->add_option("--listen", flags->listen, "HOST:PORT to listen on (default 127.0.0.1:8470)");
  command->add_option("--tls-cert", flags->tls_certificate, "PEM certificate: serve HTTPS");
  command->add_option("--tls-key", flags->tls_key, "PEM private key for --tls-cert");
  command->add_option("--shipping-address", flags->shipping_address,
                      "The datacenter's address that import-job disks are shipped to");
  command
      ->add_option("--storage-root", flags->storage_root,
                   "Storage accounts that datacenter ingest fills, as ROOT/ACCOUNT/CONTAINER "
                   "(default DATA/storage)")
      ->envname("FERRY_STORAGE_ROOT");
  command
      ->add_option("--storage", flags->storage,
                   "Where the repositories (and, without --storage-root, the storage accounts) "
                   "live: a directory, azure://… or s3://… (docs/storage.md; default DATA)")
      ->envname("FERRY_VAULT_STORAGE");
  command
      ->add_option(
          "--database", flags->database,
          "The vault's metadata database: a SQLite file, or postgresql://USER@HOST:PORT/DB "
          "shared by several servers (docs/operations.md; default DATA/vault.db)")
      ->envname("FERRY_VAULT_DATABASE");
  command->add_option("--shutdown-grace", flags->shutdown_grace_seconds,
                      "Seconds that requests in flight may take to finish after SIGTERM or "
                      "SIGINT; later ones are refused (default 30)");
  commands.push_back({command, [&global, flags] { return RunServe(global, *flags); }});
}

}  // namespace ferry
