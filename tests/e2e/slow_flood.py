#!/usr/bin/env python3
"""A flood of slow HTTP connections (the "slowloris" attack) for the e2e tests.

slow_flood.py PORT COUNT GAP_SECONDS [STATUS_FILE]

Keeps COUNT connections open to 127.0.0.1:PORT, each sending one byte of a request whose
headers never end every GAP_SECONDS; a connection the server closes is opened again at
once. Runs until killed. STATUS_FILE, if given, gets a line "open N cut M" after every
round (how many connections are open, how many the server has cut so far), so that a
test can wait until the flood is in place instead of sleeping.
"""
import socket
import sys
import time

port, count, gap = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
status_file = sys.argv[4] if len(sys.argv) > 4 else None
REQUEST = b"GET /vault/v1/version HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000000


def connect():
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setblocking(False)
        return [s, 0]
    except OSError:
        return None


conns = [connect() for _ in range(count)]
cut = 0
while True:
    for i, c in enumerate(conns):
        if c is None:
            conns[i] = connect()
            continue
        s, sent = c
        try:
            closed = s.recv(4096, socket.MSG_PEEK) == b""
        except BlockingIOError:
            closed = False
        except OSError:
            closed = True
        if not closed:
            try:
                s.send(REQUEST[sent:sent + 1])
                c[1] = sent + 1
            except BlockingIOError:
                pass
            except OSError:
                closed = True
        if closed:
            cut += 1
            s.close()
            conns[i] = connect()
    if status_file:
        with open(status_file + ".tmp", "w") as f:
            f.write("open %d cut %d\n" % (sum(c is not None for c in conns), cut))
        import os
        os.replace(status_file + ".tmp", status_file)
    time.sleep(gap)
