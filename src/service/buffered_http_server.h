// BufferedHttpServer: the vault's HTTP server, plain (BufferedHttpServer) or
// over TLS (BufferedHttpsServer). It is httplib::Server with its connection
// loop replaced, for two reasons.
//
// Speed: Debian ships cpp-httplib as a compiled library, built to read at
// most 4 KiB per recv() and to poll() before each: an upload of 1.3 GB costs
// the vault ~650,000 system calls, the largest share of its CPU after
// SHA-256. httplib lets a server hand its request parser a Stream of its own
// (the extension point its SSLServer uses); ours receives up to 256 KiB at a
// time into a buffer that lives as long as the connection.
//
// Safety: every peer is hostile (docs/security.md, "A hostile network peer or
// HTTP client"), and httplib alone trusts it in three ways this loop does not:
// - A request whose body was not read to its end (a handler refused it
//   early, a PUT stopped mid-body on a full disk, a GET carrying a body, a
//   chunked body) ends the connection: the answer says `Connection: close`
//   and nothing after it is parsed. httplib would parse the rest of the body
//   as the next request — request smuggling behind any proxy that shares
//   connections. The connection then lingers (draining, never parsing) for
//   up to `linger_ms` so that the peer can read the answer before the close.
// - Time: a request's line and headers must arrive within `header_timeout_ms`
//   of its first byte (httplib limits the gap between bytes only, so one byte
//   every 2 s held a worker forever), a body may pause at most
//   `body_idle_timeout_ms`, and a kept-alive connection waits at most
//   `idle_timeout_ms` for its next request.
// - Workers: each connection holds one of `workers` threads for as long as it
//   lives. While connections queue for a worker, every connection that has
//   idled or spent more than `busy_grace_ms` on its headers gives its worker
//   up, so that a flood of trickling connections cannot starve real clients;
//   past `max_queued` waiting connections, new ones are closed at once.
// Headers are also limited in total (`max_header_bytes`), not just per line.
//
// The server installs httplib's post-routing handler itself (to mark answers
// `Connection: close`); do not replace it.
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <atomic>
#include <memory>
#include <string>

#include "util/status.h"

namespace ferry {

struct HttpConnectionLimits {
  size_t workers = 64;      // request threads; most wait on the network or the disk
  size_t max_queued = 256;  // connections waiting for a worker before new ones get 503
  int header_timeout_ms = 10000;
  int body_idle_timeout_ms = 30000;
  int write_timeout_ms = 30000;
  int idle_timeout_ms = 5000;
  int busy_grace_ms = 1000;
  int linger_ms = 2000;
  size_t max_header_bytes = 64u << 10;  // request line and headers together
};

class BufferedHttpServer : public httplib::Server {
 public:
  explicit BufferedHttpServer(HttpConnectionLimits limits = {});
  ~BufferedHttpServer() override;

  const HttpConnectionLimits& limits() const { return limits_; }

  // Ends a shutdown's grace period: every connection, including those in
  // the middle of a request body or an answer, stops waiting for its peer,
  // so that reads and writes that would block fail at once. Call after stop().
  void CutOff() { *cut_off_ = true; }

  // The transport of one accepted socket: the plain socket, or TLS over it.
  class Transport;

 protected:
  // Returns nullptr (and closes nothing) when the connection cannot start,
  // e.g. a failed TLS handshake.
  virtual std::unique_ptr<Transport> OpenTransport(int sock);

 private:
  bool process_and_close_socket(socket_t sock) override;

  HttpConnectionLimits limits_;
  std::shared_ptr<std::atomic<size_t>> queued_;
  std::shared_ptr<std::atomic<bool>> cut_off_ = std::make_shared<std::atomic<bool>>(false);
};

// The same over TLS: the certificate and key are PEM files.
class BufferedHttpsServer : public BufferedHttpServer {
 public:
  BufferedHttpsServer(const std::string& certificate, const std::string& key,
                      HttpConnectionLimits limits = {});
  ~BufferedHttpsServer() override;
  bool is_valid() const override { return context_ != nullptr; }

 protected:
  std::unique_ptr<Transport> OpenTransport(int sock) override;

 private:
  SSL_CTX* context_ = nullptr;
};

}  // namespace ferry
