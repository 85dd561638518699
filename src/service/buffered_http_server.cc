#include "service/buffered_http_server.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace ferry {
namespace {

constexpr size_t kReceiveBufferSize = 256u << 10;
// How often a connection waiting for its next request looks whether the
// server is stopping (httplib's own loop looks every 10 ms).
constexpr int kStopCheckMillis = 50;

int Millis(time_t seconds, time_t microseconds) {
  return static_cast<int>(seconds * 1000 + microseconds / 1000);
}

// Waits up to timeout_ms for `events` on the socket; > 0 when ready.
int PollSocket(int sock, short events, int timeout_ms) {
  pollfd entry{sock, events, 0};
  int ready;
  do {
    ready = ::poll(&entry, 1, timeout_ms);
  } while (ready < 0 && errno == EINTR);
  return ready;
}

void NumericAddress(const sockaddr_storage& address, socklen_t length, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host, sizeof host, service,
                    sizeof service, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return;
  ip = host;
  port = std::atoi(service);
}

class BufferedSocketStream final : public httplib::Stream {
 public:
  BufferedSocketStream(int sock, int read_timeout_ms, int write_timeout_ms)
      : sock_(sock),
        read_timeout_ms_(read_timeout_ms),
        write_timeout_ms_(write_timeout_ms),
        buffer_(kReceiveBufferSize) {}

  bool is_readable() const override {
    return begin_ < end_ || PollSocket(sock_, POLLIN, read_timeout_ms_) > 0;
  }
  bool is_writable() const override { return PollSocket(sock_, POLLOUT, write_timeout_ms_) > 0; }

  ssize_t read(char* out, size_t size) override {
    if (begin_ == end_) {
      ssize_t received = Receive();
      if (received <= 0) return received;
      begin_ = 0;
      end_ = static_cast<size_t>(received);
    }
    size_t n = std::min(size, end_ - begin_);
    std::memcpy(out, buffer_.data() + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* data, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t sent;
    do {
      sent = ::send(sock_, data, size, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0)
      NumericAddress(address, length, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0)
      NumericAddress(address, length, ip, port);
  }
  socket_t socket() const override { return sock_; }

  // Until the next request's first bytes are here (true), or the timeout
  // passes, the peer closes or errs, or the server stops (false).
  bool WaitForRequest(int timeout_ms, const std::atomic<socket_t>& listening) const {
    if (begin_ < end_) return true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (listening != INVALID_SOCKET) {
      int ready = PollSocket(sock_, POLLIN, kStopCheckMillis);
      if (ready != 0) return ready > 0;
      if (std::chrono::steady_clock::now() >= deadline) return false;
    }
    return false;
  }

 private:
  // Data that is already there is taken without a poll; only an empty socket
  // is waited for, up to the read timeout.
  ssize_t Receive() {
    for (;;) {
      ssize_t received = ::recv(sock_, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
      if (received >= 0) return received;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      if (PollSocket(sock_, POLLIN, read_timeout_ms_) <= 0) return -1;
    }
  }

  int sock_;
  int read_timeout_ms_;
  int write_timeout_ms_;
  std::vector<char> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace

bool BufferedHttpServer::process_and_close_socket(socket_t sock) {
  BufferedSocketStream stream(sock, Millis(read_timeout_sec_, read_timeout_usec_),
                              Millis(write_timeout_sec_, write_timeout_usec_));
  bool ok = false;
  for (size_t left = keep_alive_max_count_; left > 0; --left) {
    if (!stream.WaitForRequest(static_cast<int>(keep_alive_timeout_sec_ * 1000), svr_sock_)) break;
    bool connection_closed = false;
    ok = process_request(stream, left == 1, connection_closed, nullptr);
    if (!ok || connection_closed) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace ferry
