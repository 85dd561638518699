// BufferedHttpServer against httplib's own client and raw sockets: bodies
// arrive whole and in order through the connection's buffer, requests that
// arrive together on one connection are all answered, and a connection cut
// short in the middle of a body fails that request only.
#include "service/buffered_http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>

#include "crypto/hash.h"
#include "util/bytes.h"

namespace ferry {
namespace {

class BufferedHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // PUT /sink: answers the SHA-256 and length of the body as it streamed in.
    server_.Put("/sink", [this](const httplib::Request&, httplib::Response& res,
                                const httplib::ContentReader& read) {
      Sha256Stream hash;
      size_t length = 0;
      bool complete = read([&](const char* data, size_t size) {
        hash.Update(ByteView(reinterpret_cast<const uint8_t*>(data), size));
        length += size;
        return true;
      });
      if (!complete) {
        ++incomplete_bodies_;
        return;
      }
      res.set_content(hash.Finish().Hex() + " " + std::to_string(length), "text/plain");
    });
    server_.Get("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.get_param_value("text"), "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // bind_to_any_port already listens: connections queue until the loop runs.
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // A raw connection to the server.
  int Connect() {
    int sock = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    return sock;
  }
  static void SendAll(int sock, const std::string& data) {
    for (size_t done = 0; done < data.size();) {
      ssize_t n = ::send(sock, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      ASSERT_GT(n, 0);
      done += static_cast<size_t>(n);
    }
  }
  // Everything the server sends until it closes the connection.
  static std::string ReadUntilClosed(int sock) {
    std::string out;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(sock, buffer, sizeof buffer, 0)) > 0;) out.append(buffer, n);
    return out;
  }

  BufferedHttpServer server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> incomplete_bodies_{0};
};

std::string RandomBody(size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string body(size, '\0');
  for (char& c : body) c = static_cast<char>(random());
  return body;
}

std::string ExpectedAnswer(const std::string& body) {
  return Sha256(AsBytes(body)).Hex() + " " + std::to_string(body.size());
}

TEST_F(BufferedHttpServerTest, LargeBodiesArriveWholeOnOneKeptAliveConnection) {
  httplib::Client client("127.0.0.1", port_);
  client.set_keep_alive(true);
  // Larger than the receive buffer, not a multiple of it, and empty.
  for (size_t size : {size_t{5} << 20, (size_t{3} << 20) + 12345, size_t{1}, size_t{0}}) {
    std::string body = RandomBody(size, static_cast<unsigned>(size));
    auto result = client.Put("/sink", body, "application/octet-stream");
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->body, ExpectedAnswer(body)) << "size " << size;
  }
  EXPECT_EQ(incomplete_bodies_, 0);
}

TEST_F(BufferedHttpServerTest, RequestsSentTogetherAreAllAnsweredInOrder) {
  std::string body = RandomBody(100000, 7);
  std::string requests =
      "GET /echo?text=first HTTP/1.1\r\nHost: x\r\n\r\n"
      "PUT /sink HTTP/1.1\r\nHost: x\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body +
      "GET /echo?text=last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  int sock = Connect();
  SendAll(sock, requests);
  std::string answers = ReadUntilClosed(sock);
  ::close(sock);
  size_t first = answers.find("\r\n\r\nfirst");
  size_t sink = answers.find(ExpectedAnswer(body));
  size_t last = answers.find("\r\n\r\nlast");
  ASSERT_NE(first, std::string::npos) << answers;
  ASSERT_NE(sink, std::string::npos) << answers;
  ASSERT_NE(last, std::string::npos) << answers;
  EXPECT_LT(first, sink);
  EXPECT_LT(sink, last);
}

TEST_F(BufferedHttpServerTest, BodyCutShortFailsThatRequestAndTheServerGoesOn) {
  int sock = Connect();
  SendAll(sock, "PUT /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" +
                    RandomBody(300000, 3));
  ::shutdown(sock, SHUT_WR);
  std::string answer = ReadUntilClosed(sock);
  ::close(sock);
  EXPECT_EQ(answer.find("200 OK"), std::string::npos) << answer;
  // The handler saw the body fail; nothing claimed it complete.
  for (int i = 0; i < 100 && incomplete_bodies_ == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(incomplete_bodies_, 1);

  httplib::Client client("127.0.0.1", port_);
  auto result = client.Get("/echo?text=still-here");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->body, "still-here");
}

TEST_F(BufferedHttpServerTest, StopEndsConnectionsWaitingForTheirNextRequest) {
  httplib::Client client("127.0.0.1", port_);
  client.set_keep_alive(true);
  auto result = client.Get("/echo?text=x");
  ASSERT_TRUE(result);
  // The kept-alive connection now waits for a request that never comes; the
  // server must still stop (TearDown's join would hang otherwise).
  server_.stop();
  thread_.join();
  EXPECT_FALSE(server_.is_running());
}

}  // namespace
}  // namespace ferry
