// The vault's Router on a real server and client (httplib): path parameters,
// 404 for an unknown path and 405 with Allow for a known path's wrong method,
// HEAD answered by GET routes, the Access rule checked before the handler
// runs (401 from the authenticator, 403 with the rule's message), bodies read
// for the handler or left to stream. And VaultMetrics' exposition of what the
// access log records.
#include "service/router.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "service/buffered_http_server.h"
#include "service/response.h"
#include "service/vault_metrics.h"

namespace ferry {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Tokens of this test: "admin" and "machine"; anything else is unknown.
    router_ =
        std::make_unique<Router>([](const httplib::Request& request,
                                    httplib::Response& response) -> std::optional<TokenRecord> {
          std::string header = request.get_header_value("Authorization");
          if (header == "Bearer admin") return TokenRecord{TokenKind::kAdmin, std::nullopt};
          if (header == "Bearer machine") {
            MachineRecord machine;
            machine.vault = "prod";
            machine.name = "fs01";
            return TokenRecord{TokenKind::kMachine, machine};
          }
          SendError(response, 401, "unauthorized", "unknown token");
          return std::nullopt;
        });
    router_->Add("GET", "/v/{vault}/m/{machine}", Access::Public(), [](RequestContext& context) {
      context.response.set_content(context.Param("vault") + "," + context.Param("machine"),
                                   "text/plain");
    });
    router_->Add("POST", "/v/{vault}/m/{machine}", Access::Admin(), [this](RequestContext& c) {
      ++handled_;
      c.response.set_content("body=" + c.body, "text/plain");
    });
    router_->Add("GET", "/list/{kind}/", Access::Machine(), [](RequestContext& context) {
      context.response.set_content(
          "list " + context.Param("kind") + " of " + context.Token().machine->name, "text/plain");
    });
    router_->Add(
        "PUT", "/stream", Access::AnyToken(),
        [](RequestContext& context) {
          std::string seen = context.body.empty() ? "unread:" : "read:";
          (*context.reader)([&](const char* data, size_t size) {
            seen.append(data, size);
            return true;
          });
          context.response.set_content(seen, "text/plain");
        },
        Body::kStream);
    server_ = std::make_unique<BufferedHttpServer>();
    router_->Install(*server_);
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    for (int i = 0; i < 1000 && !server_->is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }

  std::unique_ptr<Router> router_;
  std::unique_ptr<BufferedHttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> handled_{0};
};

TEST_F(RouterTest, ParametersAreNamedSegments) {
  auto res = client_->Get("/v/prod/m/fs01");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "prod,fs01");
  // A parameter matches one non-empty segment, no more and no less.
  EXPECT_EQ(client_->Get("/v/prod/m/fs01/extra")->status, 404);
  EXPECT_EQ(client_->Get("/v//m/fs01")->status, 404);
}

TEST_F(RouterTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  auto missing = client_->Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("\"not_found\""), std::string::npos);
  auto wrong = client_->Delete("/v/prod/m/fs01");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->get_header_value("Allow"), "GET, POST, HEAD");
  EXPECT_NE(wrong->body.find("\"method_not_allowed\""), std::string::npos);
}

TEST_F(RouterTest, HeadIsAnsweredByTheGetRoute) {
  auto res = client_->Head("/v/prod/m/fs01");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->body.empty());
}

TEST_F(RouterTest, AccessIsCheckedBeforeTheHandler) {
  httplib::Headers machine = {{"Authorization", "Bearer machine"}};
  httplib::Headers admin = {{"Authorization", "Bearer admin"}};
  auto unknown = client_->Post("/v/prod/m/fs01", "x", "text/plain");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 401);
  auto forbidden = client_->Post("/v/prod/m/fs01", machine, "x", "text/plain");
  ASSERT_TRUE(forbidden);
  EXPECT_EQ(forbidden->status, 403);
  EXPECT_NE(forbidden->body.find("this needs the admin token"), std::string::npos);
  EXPECT_EQ(handled_, 0);
  auto allowed = client_->Post("/v/prod/m/fs01", admin, "{\"a\": 1}", "application/json");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
  EXPECT_EQ(allowed->body, "body={\"a\": 1}");  // read for the handler
  EXPECT_EQ(handled_, 1);
  // The machine rule: the admin has no repository.
  auto no_repository = client_->Get("/list/data/", admin);
  ASSERT_TRUE(no_repository);
  EXPECT_EQ(no_repository->status, 403);
  auto listing = client_->Get("/list/data/", machine);
  ASSERT_TRUE(listing);
  EXPECT_EQ(listing->body, "list data of fs01");
}

TEST_F(RouterTest, StreamingRoutesReadTheirOwnBody) {
  httplib::Headers machine = {{"Authorization", "Bearer machine"}};
  auto res = client_->Put("/stream", machine, "object bytes", "application/octet-stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "unread:object bytes");
}

TEST(VaultMetricsTest, RequestsAreExposedByRoutePattern) {
  VaultMetrics metrics;
  metrics.RecordRequest("PUT", "/vault/v1/repository/{kind}/{name}", 201,
                        std::chrono::milliseconds(3), 1000, 16);
  metrics.RecordRequest("PUT", "/vault/v1/repository/{kind}/{name}", 201,
                        std::chrono::milliseconds(30), 500, 16);
  metrics.RecordObjectStored("prod", "data", 1500);
  metrics.RecordStorageError("write");
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, metrics.registry().Collect());
  std::string exposition = text.str();
  for (const char* line :
       {"ferry_http_requests_total{method=\"PUT\",route=\"/vault/v1/repository/{kind}/{name}\","
        "status=\"201\"} 2",
        "ferry_http_received_bytes_total{route=\"/vault/v1/repository/{kind}/{name}\"} 1500",
        "ferry_http_request_duration_seconds_bucket{method=\"PUT\",route=\"/vault/v1/repository/"
        "{kind}/{name}\",le=\"0.005\"} 1",
        "ferry_http_request_duration_seconds_count{method=\"PUT\",route=\"/vault/v1/repository/"
        "{kind}/{name}\"} 2",
        "ferry_vault_objects_stored_total{kind=\"data\",vault=\"prod\"} 1",
        "ferry_storage_errors_total{operation=\"write\"} 1"})
    EXPECT_NE(exposition.find(line), std::string::npos) << line << "\n" << exposition;
}

}  // namespace
}  // namespace ferry
