// HttpClient's retry decision against a real server: a transient 503 is retried, a 507
// (the vault is out of space) and a 4xx are not; a streamed download cut off half-way is
// not retried by the client (its sink has had bytes) but resumed by RetryBackend around
// the vault backend from the first byte its sink has not had, so the sink sees every byte
// once; an answer cut off in the middle of its headers is a retryable failure, not a 200.
#include "storage/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "service/buffered_http_server.h"
#include "storage/http_backend.h"
#include "storage/retry_backend.h"

namespace ferry {
namespace {

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    body_ = std::string(300000, '\0');
    for (size_t i = 0; i < body_.size(); ++i) body_[i] = static_cast<char>(i * 7 + i / 251);
    server_.Get("/status/(\\d+)", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      res.status = std::stoi(req.matches[1]);
      res.set_content(R"({"error": {"code": "x", "message": "said the server"}})",
                      "application/json");
    });
    // The first answer breaks off half-way; later ones honour the range.
    server_.Get("/vault/v1/repository/data/(.*)", [this](const httplib::Request& req,
                                                         httplib::Response& res) {
      bool cut = requests_++ == 0;
      res.set_content_provider(body_.size(), "application/octet-stream",
                               [this, cut](size_t offset, size_t length, httplib::DataSink& sink) {
                                 if (cut && offset == 0) {
                                   sink.write(body_.data(), body_.size() / 2);
                                   return false;
                                 }
                                 sink.write(body_.data() + offset, length);
                                 return true;
                               });
      (void)req;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  HttpClient Client(double retry_seconds) {
    HttpClientOptions options;
    options.server = "http://127.0.0.1:" + std::to_string(port_);
    options.retry_seconds = retry_seconds;
    return HttpClient(options);
  }

  BufferedHttpServer server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> requests_{0};
  std::string body_;
};

TEST_F(HttpClientTest, OutOfSpaceIsPermanentAndNotRetried) {
  HttpClient client = Client(60);
  auto result = client.Perform({"GET", "/status/507", {}, "", "", nullptr});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNoSpace);
  EXPECT_FALSE(result.status().retryable());
  EXPECT_NE(result.status().message().find("said the server"), std::string::npos);
  EXPECT_EQ(requests_, 1);
}

TEST_F(HttpClientTest, RefusalIsAnAnswerNotARetry) {
  HttpClient client = Client(60);
  auto result = client.Perform({"GET", "/status/403", {}, "", "", nullptr});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, 403);
  EXPECT_EQ(requests_, 1);
}

TEST_F(HttpClientTest, TransientServerErrorIsRetriedUntilTheDeadline) {
  HttpClient client = Client(1);
  auto result = client.Perform({"GET", "/status/503", {}, "", "", nullptr});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().retryable());
  EXPECT_GT(requests_, 1);
}

TEST_F(HttpClientTest, StreamCutOffHalfWayIsNotRetriedByTheClient) {
  HttpClient client = Client(60);
  std::string received;
  std::function<Status(ByteView)> sink = [&](ByteView data) {
    received.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::Ok();
  };
  auto result = client.Perform({"GET", "/vault/v1/repository/data/x", {}, "", "", &sink});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().retryable()) << "the caller may resume it";
  EXPECT_EQ(requests_, 1);
  EXPECT_EQ(received.size(), body_.size() / 2);
}

TEST_F(HttpClientTest, StreamCutOffHalfWayResumesWhereTheSinkStopped) {
  HttpClientOptions options;
  options.server = "http://127.0.0.1:" + std::to_string(port_);
  options.retry_seconds = 0;
  RetryBackend backend(std::make_unique<HttpBackend>(options));
  std::string received;
  ObjectName name{ObjectKind::kData, std::string(64, 'a')};
  Status read = backend.ReadStream(name, 0, Backend::kToEnd, [&](ByteView data) {
    received.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::Ok();
  });
  ASSERT_TRUE(read.ok()) << read.ToString();
  EXPECT_GE(requests_, 2);
  EXPECT_EQ(backend.retries(), 1u);
  EXPECT_EQ(received.size(), body_.size());
  EXPECT_TRUE(received == body_) << "the sink saw bytes twice or out of order";
}

// A server that closes the connection in the middle of its answer's headers
// (what tests/e2e/fault_proxy.py's truncate does to a HEAD): libcurl reports
// such an answer as a success, so a HEAD would look like an object of length
// 0. The client must see a transport failure, retryable, never a 200.
class CutHeadersServer {
 public:
  CutHeadersServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::listen(listener_, 8) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0)
      return;
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      // Each connection: read the request, send half a head, close. Ends
      // when the listener is shut down.
      while (true) {
        int connection = ::accept(listener_, nullptr, nullptr);
        if (connection < 0) return;
        ++connections_;
        char request[4096];
        (void)::recv(connection, request, sizeof request, 0);
        const char kHalfHead[] = "HTTP/1.1 200 OK\r\nContent-Type: application/oc";
        (void)::send(connection, kHalfHead, sizeof kHalfHead - 1, MSG_NOSIGNAL);
        ::close(connection);
      }
    });
  }
  ~CutHeadersServer() {
    ::shutdown(listener_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
  }
  int port() const { return port_; }
  int connections() const { return connections_; }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::thread thread_;
};

TEST(HttpTransportTest, AnswerCutInItsHeadersIsARetryableFailure) {
  CutHeadersServer server;
  ASSERT_GT(server.port(), 0);
  HttpClientOptions options;
  options.server = "http://127.0.0.1:" + std::to_string(server.port());
  options.retry_seconds = 0;
  HttpBackend backend(options);
  ObjectName name{ObjectKind::kData, std::string(64, 'a')};
  auto size = backend.Stat(name);
  ASSERT_FALSE(size.ok()) << "a cut answer was taken for an object of " << *size << " bytes";
  EXPECT_TRUE(size.status().retryable()) << size.status().ToString();
  auto read = backend.Get(name, 0, Backend::kToEnd);
  ASSERT_FALSE(read.ok()) << "a cut answer was taken for an object of " << read->size() << " bytes";
  EXPECT_TRUE(read.status().retryable()) << read.status().ToString();
  EXPECT_EQ(server.connections(), 2);
}

}  // namespace
}  // namespace ferry
