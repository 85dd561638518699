#!/usr/bin/env python3
"""Counting TCP proxy for bench/vault.sh (python3, stdlib only).

    tcp_count_proxy.py --route NAME=LISTEN_PORT:TARGET_PORT [--route ...] --control PORT
                       [--host 127.0.0.1] [--ready-file FILE] [--max-seconds 7200]
                       [--parent-pid PID] [--max-connections 256]

Forwards every connection to LISTEN_PORT on HOST to TARGET_PORT on HOST, byte for byte, and
counts the bytes in both directions per route: client→server (what a backup uploads: request
lines, headers and bodies) and server→client. It does not parse anything, so it measures every
tool the same way. TCP_NODELAY is set on both sides, so the proxy adds no Nagle delays.

Control: connect to the control port and send one line.
    stats        answers one line per route, "NAME C2S_BYTES S2C_BYTES CONNECTIONS ACTIVE",
                 then "end". It first waits (up to 5 s) until no proxied connection is open,
                 so a client that just exited is fully counted.
    quit         answers "bye" and stops the proxy.

Bounded: at most --max-connections proxied connections at once (others are refused), at most
64 KiB in flight per direction (the copy waits for the receiver), and it stops by itself after
--max-seconds, when --parent-pid exits, or on SIGTERM/SIGINT. When ready it writes its PID to
--ready-file.
"""

import argparse
import asyncio
import os
import signal
import socket
import sys
import time

CHUNK = 64 << 10


class Route:
    def __init__(self, name, listen_port, target_port):
        self.name = name
        self.listen_port = listen_port
        self.target_port = target_port
        self.c2s = 0
        self.s2c = 0
        self.connections = 0
        self.active = 0


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class Proxy:
    def __init__(self, args, routes):
        self.args = args
        self.routes = routes
        self.total_active = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.stop = asyncio.Event()

    async def pipe(self, reader, writer, route, attr):
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                setattr(route, attr, getattr(route, attr) + len(data))
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            try:
                if writer.can_write_eof():
                    writer.write_eof()
            except (ConnectionError, OSError, RuntimeError):
                pass

    async def handle(self, route, client_reader, client_writer):
        if self.total_active >= self.args.max_connections:
            client_writer.close()
            return
        self.total_active += 1
        self.idle.clear()
        route.active += 1
        route.connections += 1
        server_writer = None
        try:
            nodelay(client_writer)
            try:
                server_reader, server_writer = await asyncio.open_connection(self.args.host, route.target_port)
            except OSError:
                return
            nodelay(server_writer)
            await asyncio.gather(self.pipe(client_reader, server_writer, route, "c2s"),
                                 self.pipe(server_reader, client_writer, route, "s2c"))
        finally:
            for w in (client_writer, server_writer):
                if w is not None:
                    try:
                        w.close()
                    except (ConnectionError, OSError, RuntimeError):
                        pass
            route.active -= 1
            self.total_active -= 1
            if self.total_active == 0:
                self.idle.set()

    async def control(self, reader, writer):
        try:
            line = (await asyncio.wait_for(reader.readline(), 10)).decode(errors="replace").strip()
            if line == "stats":
                try:
                    await asyncio.wait_for(self.idle.wait(), 5)
                except asyncio.TimeoutError:
                    pass
                out = "".join(f"{r.name} {r.c2s} {r.s2c} {r.connections} {r.active}\n" for r in self.routes)
                writer.write((out + "end\n").encode())
            elif line == "quit":
                writer.write(b"bye\n")
                self.stop.set()
            else:
                writer.write(b"error: expected 'stats' or 'quit'\n")
            await writer.drain()
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def watchdog(self):
        deadline = time.monotonic() + self.args.max_seconds
        while not self.stop.is_set():
            if time.monotonic() > deadline:
                print("tcp_count_proxy: --max-seconds reached, stopping", file=sys.stderr)
                self.stop.set()
            elif self.args.parent_pid and not pid_alive(self.args.parent_pid):
                print("tcp_count_proxy: parent exited, stopping", file=sys.stderr)
                self.stop.set()
            try:
                await asyncio.wait_for(self.stop.wait(), 1)
            except asyncio.TimeoutError:
                pass

    async def main(self):
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        servers = []
        for route in self.routes:
            servers.append(await asyncio.start_server(
                lambda r, w, route=route: self.handle(route, r, w), self.args.host, route.listen_port))
        servers.append(await asyncio.start_server(self.control, self.args.host, self.args.control))
        if self.args.ready_file:
            tmp = self.args.ready_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(f"{os.getpid()}\n")
            os.replace(tmp, self.args.ready_file)
        await self.watchdog()
        for s in servers:
            s.close()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def parse_route(text):
    try:
        name, _, ports = text.partition("=")
        listen, _, target = ports.partition(":")
        if not name or " " in name:
            raise ValueError
        return Route(name, int(listen), int(target))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=LISTEN_PORT:TARGET_PORT, got {text!r}")


def main():
    p = argparse.ArgumentParser(description="Counting TCP proxy (see the module docstring).")
    p.add_argument("--route", type=parse_route, action="append", required=True,
                   help="NAME=LISTEN_PORT:TARGET_PORT (repeatable)")
    p.add_argument("--control", type=int, required=True, help="control port ('stats', 'quit')")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on and connect to")
    p.add_argument("--ready-file", help="write the PID here once listening")
    p.add_argument("--max-seconds", type=float, default=7200, help="stop after this long (default 7200)")
    p.add_argument("--parent-pid", type=int, default=0, help="stop when this process exits")
    p.add_argument("--max-connections", type=int, default=256, help="concurrent proxied connections")
    args = p.parse_args()
    asyncio.run(Proxy(args, args.route).main())


if __name__ == "__main__":
    main()
