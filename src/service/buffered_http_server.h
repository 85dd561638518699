// BufferedHttpServer: the vault's plain-HTTP server. It is httplib::Server
// with one change: each connection reads from its socket in large pieces.
//
// Debian ships cpp-httplib as a compiled library, built to read at most
// 4 KiB per recv() and to poll() before each: an upload of 1.3 GB costs the
// vault ~650,000 system calls, the largest share of its CPU after SHA-256 —
// CPU its clients on the same machine wait for. httplib lets a server hand
// its request parser a Stream of its own (the extension point its SSLServer
// uses); this one receives up to 256 KiB at a time into a buffer that lives
// as long as the connection and serves the parser's small reads from it.
// HTTPS connections keep httplib's SSLServer as they are.
#pragma once

#include <httplib.h>

namespace ferry {

class BufferedHttpServer : public httplib::Server {
 private:
  // httplib's keep-alive loop, with the connection's stream (and its buffer)
  // kept from one request to the next.
  bool process_and_close_socket(socket_t sock) override;
};

}  // namespace ferry
