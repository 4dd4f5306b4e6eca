#!/usr/bin/env python3
"""A DNS delay proxy, UDP and TCP: what netem would do, on machines where netem does not work.

    python3 bench/delayproxy.py --delay-ms 20 127.0.1.1:53=127.100.1.1:53 [FRONT=BACKEND ...]

Each FRONT address:port is bound (UDP socket and TCP listener); every query that arrives there is forwarded
to BACKEND after `--delay-ms`, and the answer goes back at once, from FRONT, to the asker: one added delay per
query, as a round trip to a distant server would add. Prints "ready" on stdout once every socket is bound.

UDP runs in one thread around an epoll loop and a timer heap (no task per packet: a few microseconds per
packet, so the proxy does not eat the CPU the measured client needs). The query ID is rewritten on the way to
the backend (one upstream socket per backend, so thousands of client ports need no thousands of sockets) and
restored on the way back. TCP is rare in DNS (truncated answers): a thread per connection, each
client-to-server chunk delayed.

SIGUSR1 writes the counters (queries forwarded per front, TCP connections) as JSON to `--stats FILE`.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import itertools
import json
import os
import selectors
import signal
import socket
import sys
import threading
import time


def parse_pair(text: str) -> tuple[tuple[str, int], tuple[str, int]]:
    front, _, back = text.partition("=")

    def addr(s: str) -> tuple[str, int]:
        host, _, port = s.rpartition(":")
        return host, int(port)

    return addr(front), addr(back)


class Forward:
    """One FRONT=BACKEND pair, UDP side."""

    def __init__(self, front: tuple[str, int], back: tuple[str, int]) -> None:
        self.front_addr, self.back_addr = front, back
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(front)
        self.up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.up.bind((back[0], 0))
        self.up.connect(back)
        for s in (self.front, self.up):
            s.setblocking(False)
            for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                with contextlib.suppress(OSError):
                    s.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
        self.ids = itertools.cycle(range(65536))
        self.waiting: dict[int, tuple[tuple[str, int], bytes]] = {}  # upstream id -> (asker, asker's id)
        self.queries = 0


def serve_tcp(listener: socket.socket, back: tuple[str, int], delay: float, counters: dict[str, int]) -> None:
    def pump(src: socket.socket, dst: socket.socket, wait: float) -> None:
        try:
            while data := src.recv(65535):
                if wait:
                    time.sleep(wait)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def handle(conn: socket.socket) -> None:
        try:
            upstream = socket.create_connection(back, timeout=5)
            upstream.settimeout(None)
        except OSError:
            conn.close()
            return
        t = threading.Thread(target=pump, args=(upstream, conn, 0.0), daemon=True)
        t.start()
        pump(conn, upstream, delay)
        t.join()
        conn.close()
        upstream.close()

    while True:
        conn, _ = listener.accept()
        counters["tcp_connections"] += 1
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--stats", help="file written with the counters on SIGUSR1")
    parser.add_argument("pairs", nargs="+", metavar="FRONT=BACKEND")
    args = parser.parse_args()
    delay = args.delay_ms / 1000.0

    forwards = [Forward(*parse_pair(p)) for p in args.pairs]
    counters = {"tcp_connections": 0}
    for f in forwards:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(f.front_addr)
        listener.listen(256)
        threading.Thread(target=serve_tcp, args=(listener, f.back_addr, delay, counters), daemon=True).start()

    def dump(*_: object) -> None:
        if args.stats:
            data = {
                "udp_queries": {f"{h}:{p}": f.queries for f in forwards for h, p in [f.front_addr]},
                **counters,
            }
            with open(args.stats + ".tmp", "w") as out:
                json.dump(data, out)
            os.replace(args.stats + ".tmp", args.stats)

    signal.signal(signal.SIGUSR1, dump)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    sel = selectors.DefaultSelector()
    for f in forwards:
        sel.register(f.front, selectors.EVENT_READ, (f, True))
        sel.register(f.up, selectors.EVENT_READ, (f, False))
    timers: list[tuple[float, int, Forward, bytes]] = []
    seq = itertools.count()
    print("ready", flush=True)

    while True:
        timeout = max(0.0, timers[0][0] - time.monotonic()) if timers else None
        try:
            events = sel.select(timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        for key, _ in events:
            f, from_asker = key.data
            sock = key.fileobj
            while True:
                try:
                    data, addr = sock.recvfrom(65535)  # type: ignore[union-attr]
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:  # e.g. ICMP port unreachable from the backend
                    continue
                if len(data) < 12:
                    continue
                if from_asker:
                    qid = next(f.ids)
                    f.waiting[qid] = (addr, data[:2])
                    f.queries += 1
                    heapq.heappush(timers, (now + delay, next(seq), f, qid.to_bytes(2, "big") + data[2:]))
                else:
                    item = f.waiting.pop(int.from_bytes(data[:2], "big"), None)
                    if item is not None:
                        asker, their_id = item
                        try:  # noqa: SIM105 - the hot loop: no context manager per packet
                            f.front.sendto(their_id + data[2:], asker)
                        except OSError:
                            pass
        now = time.monotonic()
        while timers and timers[0][0] <= now:
            _, _, f, data = heapq.heappop(timers)
            try:  # noqa: SIM105 - the hot loop
                f.up.send(data)
            except OSError:
                pass


if __name__ == "__main__":
    main()
