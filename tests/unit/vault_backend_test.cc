// The Backend contract (tests/unit/backend_contract.cc) on a machine's
// repository in a real vault: VaultServer (`ferry serve`) runs in this
// process on a loopback port with a data directory of its own, and each
// backend under test is a new machine registered through the vault's admin
// API, opened as the agent opens it (HttpBackend inside RetryBackend,
// cli/agent_credentials.cc), so every test starts from an empty repository.
//
// The vault keeps deleting for a second token (docs/protocol.md): a machine
// token is append-only (it may write objects and the config once, and remove
// only its own process's locks); removing objects or replacing the config
// needs the machine's maintenance token, which `ferry forget/prune` use.
// The contract's Remove and "Put replaces" therefore hold with the
// maintenance token, and the suite runs twice: once as a backup sees the
// vault (machine token, with Remove and config writes through the
// maintenance token) and once as prune sees it (maintenance token only).
// What the machine token is refused is checked on its own below.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "backend_contract.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "service/vault_server.h"
#include "storage/http_backend.h"
#include "storage/http_client.h"
#include "storage/retry_backend.h"
#include "test_util.h"
#include "util/file_util.h"

namespace ferry {
namespace {

struct MachineTokens {
  std::string machine;
  std::string token;              // append-only
  std::string maintenance_token;  // may delete
};

// One vault for the whole test binary (each test's process under ctest).
class VaultEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    VaultServerOptions options;
    options.data_dir = data_.path() + "/vault";
    options.port = 0;
    auto opened = VaultServer::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    server_ = std::move(*opened);
    auto port = server_->Bind();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    thread_ = std::thread([this] { served_ = server_->Serve(); });
    auto token = ReadWholeFile(server_->admin_token_path());
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    std::string admin_token(token->begin(), token->end());
    while (!admin_token.empty() && admin_token.back() == '\n') admin_token.pop_back();
    admin_ = std::make_unique<HttpClient>(
        HttpClientOptions{server_->url(), admin_token, "", 0, "test vault admin"});
    // Bound but perhaps not yet accepting: wait until it answers, so that
    // TearDown's Stop() finds a running server.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (true) {
      auto answer = admin_->Perform({"GET", "/vault/v1/version", {}, "", "", nullptr});
      if (answer.ok() && answer->status == 200) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the vault never answered";
      std::this_thread::yield();
    }
    auto created = Admin("/vault/v1/vaults", R"({"name": "contract"})");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  void TearDown() override {
    if (!thread_.joinable()) return;
    server_->Stop();
    thread_.join();
    EXPECT_TRUE(served_.ok()) << served_.ToString();
  }

  // A new machine in the vault: an empty repository of its own.
  Result<MachineTokens> RegisterMachine() {
    MachineTokens tokens;
    tokens.machine = "m" + std::to_string(++machines_);
    ASSIGN_OR_RETURN(nlohmann::json registered,
                     Admin("/vault/v1/vaults/contract/machines",
                           nlohmann::json{{"name", tokens.machine}}.dump()));
    tokens.token = registered.value("token", "");
    ASSIGN_OR_RETURN(
        nlohmann::json maintenance,
        Admin("/vault/v1/vaults/contract/machines/" + tokens.machine + "/maintenance-token", "{}"));
    tokens.maintenance_token = maintenance.value("token", "");
    return tokens;
  }

  // As OpenAgentBackend (cli/agent_credentials.cc) opens a vault repository.
  std::unique_ptr<Backend> Open(const MachineTokens& machine, const std::string& token) const {
    HttpClientOptions options;
    options.server = server_->url();
    options.token = token;
    options.label = "vault contract, machine " + machine.machine;
    options.retry_seconds = 0;  // RetryBackend's policy, not the client's
    auto backend = std::make_unique<HttpBackend>(options);
    Status version = backend->CheckVersion();
    if (!version.ok()) {
      ADD_FAILURE() << version.ToString();
      return nullptr;
    }
    return std::make_unique<RetryBackend>(std::move(backend));
  }

 private:
  Result<nlohmann::json> Admin(const std::string& path, const std::string& body) {
    HttpRequest request{"POST", path, AsBytes(body), "", "application/json", nullptr};
    ASSIGN_OR_RETURN(HttpResponse response, admin_->Perform(request));
    if (response.status != 201) return admin_->ErrorFor(request, response);
    auto document =
        nlohmann::json::parse(response.body.begin(), response.body.end(), nullptr, false);
    if (!document.is_object()) return Status::Corruption(path + ": answer is not a JSON object");
    return document;
  }

  TempDir data_;
  std::unique_ptr<VaultServer> server_;
  std::thread thread_;
  Status served_;
  std::unique_ptr<HttpClient> admin_;
  std::atomic<int> machines_{0};
};

VaultEnvironment* const vault =
    static_cast<VaultEnvironment*>(::testing::AddGlobalTestEnvironment(new VaultEnvironment));

// A backup's view of its repository: everything with the machine token,
// except what the vault keeps for the maintenance token (removing objects,
// replacing the config), which goes through a second backend holding it.
class MachineTokenBackend : public Backend {
 public:
  MachineTokenBackend(std::unique_ptr<Backend> machine, std::unique_ptr<Backend> maintenance)
      : machine_(std::move(machine)), maintenance_(std::move(maintenance)) {}

  Status Create() override { return machine_->Create(); }
  Status Put(const ObjectName& name, ByteView data) override {
    // The machine token writes the config once (`ferry init`); a second
    // write with other bytes is a replacement, which only maintenance may do.
    if (name.kind == ObjectKind::kConfig && machine_->Stat(name).ok())
      return maintenance_->Put(name, data);
    return machine_->Put(name, data);
  }
  Status PutIfAbsent(const ObjectName& name, ByteView data) override {
    return machine_->PutIfAbsent(name, data);
  }
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override {
    return machine_->Get(name, offset, length);
  }
  Result<uint64_t> Stat(const ObjectName& name) override { return machine_->Stat(name); }
  Status List(ObjectKind kind,
              const std::function<Status(const std::string&, uint64_t)>& visit) override {
    return machine_->List(kind, visit);
  }
  Status Remove(const ObjectName& name) override { return maintenance_->Remove(name); }
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(const ObjectName& name) override {
    return machine_->OpenWriter(name);
  }
  Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                    const std::function<Status(ByteView)>& sink) override {
    return machine_->ReadStream(name, offset, length, sink);
  }
  std::string Location() const override { return machine_->Location(); }

 private:
  std::unique_ptr<Backend> machine_;
  std::unique_ptr<Backend> maintenance_;
};

std::unique_ptr<Backend> MakeMachineBackend(const std::string&) {
  auto tokens = vault->RegisterMachine();
  if (!tokens.ok()) {
    ADD_FAILURE() << tokens.status().ToString();
    return nullptr;
  }
  auto machine = vault->Open(*tokens, tokens->token);
  auto maintenance = vault->Open(*tokens, tokens->maintenance_token);
  if (!machine || !maintenance) return nullptr;
  return std::make_unique<MachineTokenBackend>(std::move(machine), std::move(maintenance));
}

std::unique_ptr<Backend> MakeMaintenanceBackend(const std::string&) {
  auto tokens = vault->RegisterMachine();
  if (!tokens.ok()) {
    ADD_FAILURE() << tokens.status().ToString();
    return nullptr;
  }
  return vault->Open(*tokens, tokens->maintenance_token);
}

INSTANTIATE_TEST_SUITE_P(Vault, BackendContractTest,
                         ::testing::Values(BackendUnderTest{"VaultMachine", MakeMachineBackend},
                                           BackendUnderTest{"VaultMaintenance",
                                                            MakeMaintenanceBackend}),
                         BackendName);

// What the vault keeps from a machine token, which the suite above routes
// to the maintenance token.
TEST(VaultMachineTokenTest, IsAppendOnly) {
  auto tokens = vault->RegisterMachine();
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  auto machine = vault->Open(*tokens, tokens->token);
  ASSERT_NE(machine, nullptr);
  ASSERT_TRUE(machine->Create().ok());

  Bytes data = RandomBytes(1000);
  ObjectName name{ObjectKind::kData, Sha256(data).Hex()};
  ASSERT_TRUE(machine->Put(name, data).ok());
  Status removed = machine->Remove(name);
  EXPECT_EQ(removed.code(), StatusCode::kPermissionDenied) << removed.ToString();
  EXPECT_EQ(*machine->Get(name), data);

  ASSERT_TRUE(machine->Put(ObjectName::Config(), AsBytes("first")).ok());
  EXPECT_TRUE(machine->Put(ObjectName::Config(), AsBytes("first")).ok()) << "same bytes again";
  Status replaced = machine->Put(ObjectName::Config(), AsBytes("second"));
  EXPECT_EQ(replaced.code(), StatusCode::kAlreadyExists) << replaced.ToString();
  auto config = machine->Get(ObjectName::Config());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(std::string(config->begin(), config->end()), "first");

  // Its own locks it may remove; another process's (another key) it may not.
  Bytes lock = RandomBytes(100);
  ObjectName lock_name{ObjectKind::kLock, Sha256(lock).Hex()};
  ASSERT_TRUE(machine->Put(lock_name, lock).ok());
  auto other_process = vault->Open(*tokens, tokens->token);
  ASSERT_NE(other_process, nullptr);
  EXPECT_EQ(other_process->Remove(lock_name).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(machine->Remove(lock_name).ok());
  EXPECT_TRUE(machine->Stat(lock_name).status().IsNotFound());
}

}  // namespace
}  // namespace ferry
