#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for the e2e tests (python3 stdlib only).

fault_proxy.py --listen-port-file FILE --upstream PORT [--seed N]
               [--rate-5xx R] [--rate-drop R] [--rate-truncate R] [--rate-stall R]
               [--stall-seconds S] [--max-faults-per-request K] [--log FILE]
               [--force KIND:REGEX]...

Sits between an agent and the vault on 127.0.0.1 and, for a fraction of the requests:
  5xx       answers 503 itself (the vault never sees the request)
  drop      forwards the request, then closes the client's connection without an answer
            (the vault did the work; the client must retry an idempotent request)
  truncate  forwards, then sends the answer's headers and half of its body and closes
            (half of its headers when it has no body, as a HEAD's)
  stall     waits --stall-seconds before forwarding
Decisions are deterministic: each is drawn from a hash of the seed, the request's method,
path and Range, and how often that same request has been seen, so a run is repeatable
whatever the order of concurrent requests, and a retried request meets a fresh decision.
A request is faulted at most --max-faults-per-request times (then passed), so a client
that retries always gets through. --force KIND:REGEX (repeatable) gives fault KIND to the
first request whose "METHOD PATH" matches REGEX (Python re.search), whatever the draw: a
test can be sure each kind of fault meets the requests it cares about. The port it listens on is written to FILE; a line per
request (decision, method, path, status, and for a truncate how it cut: cut-body or
cut-head, and "chunked" for a chunked answer) goes to --log.

Bodies are framed by Content-Length or chunked transfer encoding (Azurite answers chunked),
and an answer with neither runs to the end of the upstream connection. A chunked answer is
passed on with its framing as it came, so a truncated one ends without its last chunk: the
client sees the connection close in mid-answer, never an answer that looks complete.
"""
import argparse
import hashlib
import re
import socket
import threading
import time

p = argparse.ArgumentParser()
p.add_argument("--listen-port-file", required=True)
p.add_argument("--upstream", type=int, required=True)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--rate-5xx", type=float, default=0.0)
p.add_argument("--rate-drop", type=float, default=0.0)
p.add_argument("--rate-truncate", type=float, default=0.0)
p.add_argument("--rate-stall", type=float, default=0.0)
p.add_argument("--stall-seconds", type=float, default=2.0)
p.add_argument("--max-faults-per-request", type=int, default=3)
p.add_argument("--log")
p.add_argument("--force", action="append", default=[], metavar="KIND:REGEX")
args = p.parse_args()
KINDS = ("5xx", "drop", "truncate", "stall")
forced = []  # [kind, compiled regex, still to use]
for rule in args.force:
    kind, _, pattern = rule.partition(":")
    if kind not in KINDS or not pattern:
        p.error("--force wants KIND:REGEX with KIND one of %s, not %r" % (", ".join(KINDS), rule))
    forced.append([kind, re.compile(pattern), True])

lock = threading.Lock()
seen = {}    # request key -> times seen
faults = {}  # request key -> times faulted
log_file = open(args.log, "a", buffering=1) if args.log else None


def decide(key):
    with lock:
        n = seen.get(key, 0)
        seen[key] = n + 1
        if faults.get(key, 0) >= args.max_faults_per_request:
            return "pass"
        for rule in forced:
            if rule[2] and rule[1].search(key):
                rule[2] = False
                faults[key] = faults.get(key, 0) + 1
                return rule[0]
        digest = hashlib.sha256(("%d|%s|%d" % (args.seed, key, n)).encode()).digest()
        x = int.from_bytes(digest[:8], "big") / 2.0**64
        for name, rate in (("5xx", args.rate_5xx), ("drop", args.rate_drop),
                           ("truncate", args.rate_truncate), ("stall", args.rate_stall)):
            if x < rate:
                faults[key] = faults.get(key, 0) + 1
                return name
            x -= rate
        return "pass"


def read_head(f):
    """Request or status line and headers; None at EOF."""
    line = f.readline(65536)
    if not line:
        return None
    lines = [line]
    while True:
        h = f.readline(65536)
        if not h:
            return None
        lines.append(h)
        if h in (b"\r\n", b"\n"):
            return lines


def header(lines, name):
    for h in lines[1:]:
        k, _, v = h.partition(b":")
        if k.strip().lower() == name:
            return v.strip().decode()
    return None


def read_exact(f, n):
    out = bytearray()
    while len(out) < n:
        chunk = f.read(min(1 << 20, n - len(out)))
        if not chunk:
            raise ConnectionError("short body")
        out += chunk
    return bytes(out)


def read_chunked(f):
    """A chunked body as it was sent (sizes, chunks, last chunk, trailers), framing kept."""
    out = bytearray()
    while True:
        line = f.readline(65536)
        if not line.endswith(b"\n"):
            raise ConnectionError("short chunked body")
        out += line
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            break
        out += read_exact(f, size + 2)  # the chunk and its CRLF
    while True:  # trailers, up to the empty line
        line = f.readline(65536)
        if not line.endswith(b"\n"):
            raise ConnectionError("short chunked trailer")
        out += line
        if line in (b"\r\n", b"\n"):
            return bytes(out)


def read_body(f, lines, to_eof):
    """The body that `lines` (a head) announce: chunked, by Content-Length, or (for an
    answer with neither, when `to_eof`) everything up to the end of the connection."""
    encoding = (header(lines, b"transfer-encoding") or "").lower()
    if encoding == "chunked":
        return read_chunked(f)
    length = header(lines, b"content-length")
    if length is not None:
        return read_exact(f, int(length))
    return f.read() if to_eof else b""


def serve(client):
    cf = client.makefile("rb")
    try:
        while True:
            head = read_head(cf)
            if head is None:
                return
            method, path = head[0].split(b" ")[:2]
            method, path = method.decode(), path.decode()
            body = read_body(cf, head, to_eof=False)
            key = "%s %s %s" % (method, path, header(head, b"range") or "")
            decision = decide(key)
            status = "-"
            if decision == "5xx":
                msg = b'{"error": {"code": "unavailable", "message": "injected by fault_proxy"}}'
                client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                               b"Content-Length: %d\r\n\r\n%s" % (len(msg), msg))
                status = "503"
            else:
                if decision == "stall":
                    time.sleep(args.stall_seconds)
                up = socket.create_connection(("127.0.0.1", args.upstream))
                kept = [h for h in head[1:-1] if not h.lower().startswith(b"connection:")]
                up.sendall(head[0] + b"".join(kept) + b"Connection: close\r\n\r\n" + body)
                uf = up.makefile("rb")
                rhead = read_head(uf)
                if rhead is None:
                    up.close()
                    return
                status = rhead[0].split(b" ")[1].decode()
                no_body = method == "HEAD" or status in ("204", "304")
                rbody = b"" if no_body else read_body(uf, rhead, to_eof=True)
                up.close()
                if decision == "drop":
                    log(decision, method, path, status)
                    return
                rkept = [h for h in rhead[1:-1] if not h.lower().startswith(b"connection:")
                         and not h.lower().startswith(b"keep-alive:")]
                # Close-delimited upstream (no length, not chunked): give the client a length.
                framed = (no_body or header(rhead, b"content-length") is not None
                          or header(rhead, b"transfer-encoding") is not None)
                if not framed:
                    rkept.append(b"Content-Length: %d\r\n" % len(rbody))
                out = rhead[0] + b"".join(rkept) + b"\r\n"
                if decision == "truncate":
                    # Half the body; an answer without one (a HEAD's) loses half its head.
                    answer = out + rbody
                    cut = len(out) + len(rbody) // 2 if len(rbody) >= 2 else len(out) // 2
                    client.sendall(answer[:cut])
                    chunked = (header(rhead, b"transfer-encoding") or "").lower() == "chunked"
                    how = ("cut-body" if len(rbody) >= 2 else "cut-head") + (" chunked" if chunked else "")
                    log(decision, method, path, status, how)
                    return
                client.sendall(out + rbody)
            log(decision, method, path, status)
    except (OSError, ConnectionError, ValueError, IndexError):
        return
    finally:
        try:
            client.close()
        except OSError:
            pass


def log(decision, method, path, status, how=""):
    if log_file:
        with lock:
            log_file.write("%s %s %s %s%s\n" % (decision, method, path, status, " " + how if how else ""))


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(128)
with open(args.listen_port_file + ".tmp", "w") as f:
    f.write("%d\n" % listener.getsockname()[1])
import os
os.replace(args.listen_port_file + ".tmp", args.listen_port_file)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
