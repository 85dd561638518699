#include "service/buffered_http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace ferry {
namespace {

using Steady = std::chrono::steady_clock;

constexpr size_t kReceiveBufferSize = 256u << 10;
// How often a waiting connection looks whether the server is stopping or
// connections are queueing for a worker (httplib's own loop looks every 10 ms).
constexpr int kTickMillis = 50;
// Transport results besides byte counts.
constexpr ssize_t kFailed = -1;
constexpr ssize_t kWouldBlock = -2;

// Set on the accepting thread while it turns a connection away (the pool's
// queue is full), read by process_and_close_socket.
thread_local bool t_refuse_connection = false;

void NumericAddress(const sockaddr_storage& address, socklen_t length, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host, sizeof host, service,
                    sizeof service, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return;
  ip = host;
  port = std::atoi(service);
}

int PollSocket(int sock, short events, int timeout_ms) {
  pollfd entry{sock, events, 0};
  int ready;
  do {
    ready = ::poll(&entry, 1, timeout_ms);
  } while (ready < 0 && errno == EINTR);
  return ready;
}

// httplib's ThreadPool, plus the number of connections waiting for a worker
// (the signal for connections in slow phases to give theirs up) and a bound
// on that number.
class ConnectionPool final : public httplib::TaskQueue {
 public:
  ConnectionPool(size_t workers, size_t max_queued, std::shared_ptr<std::atomic<size_t>> queued)
      : max_queued_(max_queued), queued_(std::move(queued)) {
    for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { Work(); });
  }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard lock(mutex_);
      if (jobs_.size() < max_queued_) {
        jobs_.push_back(std::move(fn));
        *queued_ = jobs_.size();
        ready_.notify_one();
        return;
      }
    }
    // Run here, told to close the connection at once.
    t_refuse_connection = true;
    fn();
    t_refuse_connection = false;
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      shutdown_ = true;
    }
    ready_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;  // shutting down, nothing left
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        *queued_ = jobs_.size();
      }
      fn();
    }
  }

  size_t max_queued_;
  std::shared_ptr<std::atomic<size_t>> queued_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

// Non-blocking I/O on one accepted socket: Receive and Send move > 0 bytes,
// return 0 when the peer has closed (Receive), kWouldBlock with the poll
// events to wait for, or kFailed.
class BufferedHttpServer::Transport {
 public:
  explicit Transport(int sock) : sock_(sock) {}
  virtual ~Transport() = default;
  virtual ssize_t Receive(char* out, size_t size, short* wait_for) = 0;
  virtual ssize_t Send(const char* data, size_t size, short* wait_for) = 0;
  // Received bytes held inside the transport (TLS records already read).
  virtual bool HasPending() const { return false; }
  // Ends our sending side: TCP FIN (after TLS close_notify).
  virtual void CloseSending() { ::shutdown(sock_, SHUT_WR); }
  int sock() const { return sock_; }

 private:
  int sock_;
};

namespace {

class PlainTransport final : public BufferedHttpServer::Transport {
 public:
  using Transport::Transport;
  ssize_t Receive(char* out, size_t size, short* wait_for) override {
    for (;;) {
      ssize_t n = ::recv(sock(), out, size, MSG_DONTWAIT);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return kFailed;
      *wait_for = POLLIN;
      return kWouldBlock;
    }
  }
  ssize_t Send(const char* data, size_t size, short* wait_for) override {
    for (;;) {
      ssize_t n = ::send(sock(), data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return kFailed;
      *wait_for = POLLOUT;
      return kWouldBlock;
    }
  }
};

class TlsTransport final : public BufferedHttpServer::Transport {
 public:
  TlsTransport(int sock, SSL* ssl) : Transport(sock), ssl_(ssl) {}
  ~TlsTransport() override { SSL_free(ssl_); }

  ssize_t Receive(char* out, size_t size, short* wait_for) override {
    ERR_clear_error();
    int n = SSL_read(ssl_, out, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (n > 0) return n;
    switch (SSL_get_error(ssl_, n)) {
      case SSL_ERROR_ZERO_RETURN:
        return 0;
      case SSL_ERROR_WANT_READ:
        *wait_for = POLLIN;
        return kWouldBlock;
      case SSL_ERROR_WANT_WRITE:
        *wait_for = POLLOUT;
        return kWouldBlock;
      case SSL_ERROR_SYSCALL:
        return errno == 0 ? 0 : kFailed;  // closed without close_notify
      default:
        return kFailed;
    }
  }
  ssize_t Send(const char* data, size_t size, short* wait_for) override {
    ERR_clear_error();
    int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (n > 0) return n;
    switch (SSL_get_error(ssl_, n)) {
      case SSL_ERROR_WANT_READ:
        *wait_for = POLLIN;
        return kWouldBlock;
      case SSL_ERROR_WANT_WRITE:
        *wait_for = POLLOUT;
        return kWouldBlock;
      default:
        return kFailed;
    }
  }
  bool HasPending() const override { return SSL_pending(ssl_) > 0; }
  void CloseSending() override {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // one close_notify, not waiting for the peer's
    Transport::CloseSending();
  }

 private:
  SSL* ssl_;
};

// One connection as httplib's request parser sees it, with the limits of
// buffered_http_server.h applied to every read and the body of the current
// request counted.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(BufferedHttpServer::Transport& transport, const HttpConnectionLimits& limits,
                   const std::atomic<socket_t>& listening, const std::atomic<size_t>& queued,
                   const std::atomic<bool>& cut_off)
      : transport_(transport),
        limits_(limits),
        listening_(listening),
        queued_(queued),
        cut_off_(cut_off),
        buffer_(kReceiveBufferSize) {}

  // Until the next request's first bytes are here (true), or the idle
  // timeout passes, the peer closes or errs, or the server stops (false).
  bool WaitForRequest() {
    EnterPhase(Phase::kIdle);
    if (begin_ < end_ || transport_.HasPending()) return true;
    return Wait(POLLIN, Deadline());
  }
  void BeginRequest() {
    EnterPhase(Phase::kHeaders);
    header_bytes_ = 0;
    body_read_ = 0;
    headers_done_ = false;
    framing_known_ = false;
    expected_body_ = 0;
  }
  // The request's line and headers are parsed: what follows is its body, of
  // the length its headers declare. A chunked body or a Content-Length that
  // is not one decimal number leaves the end unknown to us, and the
  // connection is closed after the answer.
  void HeadersDone(const httplib::Request& req) {
    EnterPhase(Phase::kBody);
    headers_done_ = true;
    if (req.has_header("Transfer-Encoding")) return;
    size_t count = req.get_header_value_count("Content-Length");
    if (count == 0) {
      framing_known_ = true;
      return;
    }
    std::string text = req.get_header_value("Content-Length");
    if (count != 1 || text.empty() || text.size() > 19 ||
        text.find_first_not_of("0123456789") != std::string::npos)
      return;
    expected_body_ = std::stoull(text);
    framing_known_ = true;
  }
  // Whether the connection is exactly at the start of the next request.
  bool BodyFinished() const {
    return headers_done_ && framing_known_ && body_read_ == expected_body_;
  }

  bool is_readable() const override {
    return begin_ < end_ || transport_.HasPending() ||
           PollSocket(transport_.sock(), POLLIN, limits_.body_idle_timeout_ms) > 0;
  }
  bool is_writable() const override {
    return PollSocket(transport_.sock(), POLLOUT, limits_.write_timeout_ms) > 0;
  }

  ssize_t read(char* out, size_t size) override {
    if (phase_ == Phase::kHeaders && header_bytes_ >= limits_.max_header_bytes) return kFailed;
    if (begin_ == end_) {
      ssize_t received = Fill();
      if (received <= 0) return received;
    }
    size_t n = std::min(size, end_ - begin_);
    if (phase_ == Phase::kHeaders) n = std::min(n, limits_.max_header_bytes - header_bytes_);
    std::memcpy(out, buffer_.data() + begin_, n);
    begin_ += n;
    if (phase_ == Phase::kHeaders) header_bytes_ += n;
    if (phase_ == Phase::kBody) body_read_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* data, size_t size) override {
    if (size == 0) return 0;
    auto deadline = Steady::now() + std::chrono::milliseconds(limits_.write_timeout_ms);
    for (;;) {
      short wait_for = 0;
      ssize_t sent = transport_.Send(data, size, &wait_for);
      if (sent >= 0) return sent;
      if (sent == kFailed || !Wait(wait_for, deadline)) return kFailed;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getpeername(transport_.sock(), reinterpret_cast<sockaddr*>(&address), &length) == 0)
      NumericAddress(address, length, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(transport_.sock(), reinterpret_cast<sockaddr*>(&address), &length) == 0)
      NumericAddress(address, length, ip, port);
  }
  socket_t socket() const override { return transport_.sock(); }

 private:
  enum class Phase { kIdle, kHeaders, kBody };

  void EnterPhase(Phase phase) {
    phase_ = phase;
    phase_start_ = Steady::now();
  }

  // The end of the current wait for input: the phase's own limit.
  Steady::time_point Deadline() const {
    switch (phase_) {
      case Phase::kIdle:
        return phase_start_ + std::chrono::milliseconds(limits_.idle_timeout_ms);
      case Phase::kHeaders:
        return phase_start_ + std::chrono::milliseconds(limits_.header_timeout_ms);
      case Phase::kBody:
        break;
    }
    return Steady::now() + std::chrono::milliseconds(limits_.body_idle_timeout_ms);
  }

  // Idle connections and slow headers give their worker up while other
  // connections wait for one; so does everything but a body in progress
  // when the server stops.
  bool MustYield() const {
    if (cut_off_) return true;
    if (phase_ == Phase::kBody) return false;
    if (listening_ == INVALID_SOCKET) return true;
    return queued_ > 0 &&
           Steady::now() - phase_start_ >= std::chrono::milliseconds(limits_.busy_grace_ms);
  }

  // Until the socket has `events` (true), or `deadline` passes or the
  // connection must yield (false).
  bool Wait(short events, Steady::time_point deadline) const {
    for (;;) {
      if (MustYield()) return false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
      if (left.count() <= 0) return false;
      int ready = PollSocket(transport_.sock(), events,
                             static_cast<int>(std::min<int64_t>(left.count(), kTickMillis)));
      if (ready != 0) return ready > 0;
    }
  }

  // Data that is already there is taken without a poll; only an empty
  // transport is waited for, up to the phase's limit.
  ssize_t Fill() {
    auto deadline = Deadline();
    for (;;) {
      short wait_for = 0;
      ssize_t received = transport_.Receive(buffer_.data(), buffer_.size(), &wait_for);
      if (received >= 0) {
        begin_ = 0;
        end_ = static_cast<size_t>(received);
        return received;
      }
      if (received == kFailed || !Wait(wait_for, deadline)) return kFailed;
    }
  }

  BufferedHttpServer::Transport& transport_;
  const HttpConnectionLimits& limits_;
  const std::atomic<socket_t>& listening_;
  const std::atomic<size_t>& queued_;
  const std::atomic<bool>& cut_off_;
  std::vector<char> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
  Phase phase_ = Phase::kIdle;
  Steady::time_point phase_start_ = Steady::now();
  size_t header_bytes_ = 0;
  uint64_t body_read_ = 0;
  uint64_t expected_body_ = 0;
  bool headers_done_ = false;
  bool framing_known_ = false;
};

// The connection whose request this thread is answering, for the
// post-routing handler (httplib runs a connection's requests, handlers and
// answers on one thread).
thread_local ConnectionStream* t_connection = nullptr;

// After an answer with `Connection: close` whose request was not read to its
// end: the peer may still be sending; reading (and discarding) a while
// longer lets it take in the answer before the close, where closing at once
// would reset the connection and lose the answer.
void Linger(BufferedHttpServer::Transport& transport, int linger_ms) {
  transport.CloseSending();
  auto deadline = Steady::now() + std::chrono::milliseconds(linger_ms);
  std::vector<char> scratch(64u << 10);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
    if (left.count() <= 0 ||
        PollSocket(transport.sock(), POLLIN, static_cast<int>(left.count())) <= 0)
      return;
    ssize_t n = ::recv(transport.sock(), scratch.data(), scratch.size(), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return;
  }
}

}  // namespace

BufferedHttpServer::BufferedHttpServer(HttpConnectionLimits limits)
    : limits_(limits), queued_(std::make_shared<std::atomic<size_t>>(0)) {
  new_task_queue = [limits = limits_, queued = queued_] {
    return new ConnectionPool(limits.workers, limits.max_queued, queued);
  };
  set_read_timeout(std::chrono::milliseconds(limits_.body_idle_timeout_ms));
  set_write_timeout(std::chrono::milliseconds(limits_.write_timeout_ms));
  set_keep_alive_timeout(std::max(1, limits_.idle_timeout_ms / 1000));
  set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    if (t_connection == nullptr || t_connection->BodyFinished()) return;
    res.headers.erase("Keep-Alive");
    if (res.get_header_value("Connection") != "close") res.set_header("Connection", "close");
  });
}

BufferedHttpServer::~BufferedHttpServer() = default;

std::unique_ptr<BufferedHttpServer::Transport> BufferedHttpServer::OpenTransport(int sock) {
  return std::make_unique<PlainTransport>(sock);
}

bool BufferedHttpServer::process_and_close_socket(socket_t sock) {
  std::unique_ptr<Transport> transport = t_refuse_connection ? nullptr : OpenTransport(sock);
  bool ok = false;
  if (transport) {
    ConnectionStream stream(*transport, limits_, svr_sock_, *queued_, *cut_off_);
    bool linger = false;
    t_connection = &stream;
    for (size_t left = keep_alive_max_count_; left > 0; --left) {
      if (!stream.WaitForRequest()) break;
      stream.BeginRequest();
      bool connection_closed = false;
      ok = process_request(stream, left == 1, connection_closed,
                           [&](httplib::Request& req) { stream.HeadersDone(req); });
      if (!stream.BodyFinished()) {
        linger = true;
        break;
      }
      if (!ok || connection_closed) break;
    }
    t_connection = nullptr;
    if (linger) Linger(*transport, limits_.linger_ms);
    transport.reset();
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

BufferedHttpsServer::BufferedHttpsServer(const std::string& certificate, const std::string& key,
                                         HttpConnectionLimits limits)
    : BufferedHttpServer(limits) {
  context_ = SSL_CTX_new(TLS_server_method());
  if (context_ == nullptr) return;
  SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
  SSL_CTX_set_mode(context_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(context_, certificate.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(context_, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(context_) != 1) {
    SSL_CTX_free(context_);
    context_ = nullptr;
  }
}

BufferedHttpsServer::~BufferedHttpsServer() {
  if (context_ != nullptr) SSL_CTX_free(context_);
}

std::unique_ptr<BufferedHttpServer::Transport> BufferedHttpsServer::OpenTransport(int sock) {
  // The handshake counts as the first request's headers: it must be done
  // within their time.
  int flags = ::fcntl(sock, F_GETFL);
  if (flags < 0 || ::fcntl(sock, F_SETFL, flags | O_NONBLOCK) != 0) return nullptr;
  SSL* ssl = SSL_new(context_);
  if (ssl == nullptr) return nullptr;
  auto transport = std::make_unique<TlsTransport>(sock, ssl);
  if (SSL_set_fd(ssl, sock) != 1) return nullptr;
  auto deadline = Steady::now() + std::chrono::milliseconds(limits().header_timeout_ms);
  for (;;) {
    ERR_clear_error();
    int done = SSL_accept(ssl);
    if (done == 1) return transport;
    int error = SSL_get_error(ssl, done);
    short events = error == SSL_ERROR_WANT_READ    ? POLLIN
                   : error == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                   : 0;
    if (events == 0) return nullptr;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
    if (left.count() <= 0 ||
        PollSocket(sock, events, static_cast<int>(std::min<int64_t>(left.count(), kTickMillis))) <
            0)
      return nullptr;
    if (svr_sock_ == INVALID_SOCKET) return nullptr;
  }
}

}  // namespace ferry
