// BufferedHttpServer against httplib's own client and raw sockets: bodies
// arrive whole and in order through the connection's buffer, requests that
// arrive together on one connection are all answered, and a connection cut
// short in the middle of a body fails that request only. Then the hostile
// peer: a refused request's body is never parsed as a request (smuggling),
// headers that trickle in or never end are cut off, and a flood of trickling
// connections does not keep a real client from its answer.
#include "service/buffered_http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crypto/hash.h"
#include "util/bytes.h"

namespace ferry {
namespace {

class BufferedHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }
  void Start(HttpConnectionLimits limits) {
    server_ = std::make_unique<BufferedHttpServer>(limits);
    // PUT /sink: answers the SHA-256 and length of the body as it streamed in.
    server_->Put("/sink", [this](const httplib::Request&, httplib::Response& res,
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
    server_->Get("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_param_value("text") == "smuggled") ++smuggled_;
      res.set_content(req.get_param_value("text"), "text/plain");
    });
    // PUT /refuse: refuses without reading the body, as an auth check does.
    server_->Put("/refuse", [](const httplib::Request&, httplib::Response& res,
                               const httplib::ContentReader&) {
      res.status = 401;
      res.set_content("no", "text/plain");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // bind_to_any_port already listens: connections queue until the loop runs.
    // But httplib's stop() does nothing before the loop runs, so a test that
    // restarts the server with other limits at once would wait forever.
    while (!server_->is_running()) std::this_thread::yield();
  }
  void TearDown() override { Stop(); }
  void Stop() {
    server_->stop();
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

  std::unique_ptr<BufferedHttpServer> server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> incomplete_bodies_{0};
  std::atomic<int> smuggled_{0};
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
  server_->stop();
  thread_.join();
  EXPECT_FALSE(server_->is_running());
}

const std::string kSmuggled = "GET /echo?text=smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(BufferedHttpServerTest, RefusedPutWhoseBodyIsARequestIsNotExecuted) {
  int sock = Connect();
  SendAll(sock, "PUT /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                    std::to_string(kSmuggled.size()) + "\r\n\r\n" + kSmuggled);
  std::string answer = ReadUntilClosed(sock);  // the server closes: this returns
  ::close(sock);
  EXPECT_NE(answer.find("401"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("smuggled"), std::string::npos) << answer;
  EXPECT_EQ(smuggled_, 0);
}

TEST_F(BufferedHttpServerTest, BodyOfAGetIsNotParsedAsTheNextRequest) {
  int sock = Connect();
  SendAll(sock, "GET /echo?text=first HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                    std::to_string(kSmuggled.size()) + "\r\n\r\n" + kSmuggled);
  std::string answer = ReadUntilClosed(sock);
  ::close(sock);
  EXPECT_NE(answer.find("first"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_EQ(smuggled_, 0);
}

TEST_F(BufferedHttpServerTest, ChunkedBodyEndsTheConnectionAfterItsAnswer) {
  int sock = Connect();
  SendAll(sock,
          "PUT /refuse HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + kSmuggled);
  std::string answer = ReadUntilClosed(sock);
  ::close(sock);
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_EQ(smuggled_, 0);
}

// Sends `request` one byte at a time, `gap_ms` apart, until the server
// closes the connection; true if it did before the request was complete.
bool TrickleUntilClosed(int sock, const std::string& request, int gap_ms) {
  for (char c : request) {
    if (::send(sock, &c, 1, MSG_NOSIGNAL) != 1) return true;
    pollfd entry{sock, POLLIN, 0};
    if (::poll(&entry, 1, gap_ms) > 0) {
      char byte;
      if (::recv(sock, &byte, 1, MSG_PEEK) <= 0) return true;
      return true;  // an answer (400) before the request ended: refused too
    }
  }
  return false;
}

TEST_F(BufferedHttpServerTest, HeadersThatTrickleInAreCutOff) {
  Stop();
  HttpConnectionLimits limits;
  limits.header_timeout_ms = 300;
  Start(limits);
  // 200 bytes at 20 ms each take 4 s, far past the 300 ms the headers may take;
  // each single gap is well inside every per-read timeout.
  std::string request =
      "GET /echo?text=x HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(150, 'a') + "\r\n\r\n";
  int sock = Connect();
  EXPECT_TRUE(TrickleUntilClosed(sock, request, 20));
  ::close(sock);
}

TEST_F(BufferedHttpServerTest, HeadersWithoutEndAreRefused) {
  int sock = Connect();
  std::string headers = "GET /echo?text=x HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; headers.size() < (200u << 10); ++i)
    headers += "X-Header-" + std::to_string(i) + ": " + std::string(100, 'v') + "\r\n";
  // The server stops reading past its limit; the rest may not go through.
  for (size_t done = 0; done < headers.size();) {
    ssize_t n = ::send(sock, headers.data() + done, headers.size() - done, MSG_NOSIGNAL);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  std::string answer = ReadUntilClosed(sock);
  ::close(sock);
  EXPECT_EQ(answer.find("200 OK"), std::string::npos) << answer;
}

TEST_F(BufferedHttpServerTest, TricklingConnectionsDoNotStarveARealClient) {
  Stop();
  HttpConnectionLimits limits;
  limits.workers = 4;
  limits.busy_grace_ms = 200;
  Start(limits);
  // Four times as many tricklers as workers, each sending a header byte every
  // 100 ms and reconnecting whenever it is cut off.
  std::atomic<bool> flooding{true};
  std::vector<std::thread> tricklers;
  for (int i = 0; i < 16; ++i)
    tricklers.emplace_back([&] {
      while (flooding) {
        int sock = Connect();
        std::string endless = "GET /echo?text=slow HTTP/1.1\r\nX: " + std::string(100000, 'a');
        TrickleUntilClosed(sock, endless, 100);
        ::close(sock);
      }
    });
  // Let the tricklers take every worker first.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 5; ++i) {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(30, 0);
    auto result = client.Get("/echo?text=real");
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->body, "real");
  }
  flooding = false;
  for (std::thread& thread : tricklers) thread.join();
}

}  // namespace
}  // namespace ferry
