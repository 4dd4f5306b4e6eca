"""UDP to one recursive resolver over a few long-lived sockets, answers matched to questions by message ID.

Why not a socket per query (dnspython's `asyncquery.udp`): opening and closing a socket was about half of the
client's CPU in a fleet run, and a socket closed when its try times out throws away the answer that arrives a
little later. A resolver slowed down by a dead server behind it answers late, not never; with the try's socket
gone, the late answer looks like loss, the query is sent again, and the pacing slows down for nothing. Here every
try of a query stays open until the query is over, so whichever answer comes first is used, and a try answered
late tells the pacing "slow", not "lost".

Each try gets its own random ID, so an answer says which try it answers (an unambiguous round trip). The sockets
are connected to the resolver's address, so the kernel drops datagrams from anyone else; a few of them, each on
its own random source port, keep some of the port randomness a socket per query had (RFC 5452).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from typing import Any

from dnscheck.collect.wire import question, repeats

SOCKETS = 4
_ids = random.SystemRandom()


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.channel.received(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: the waiting tries time out and are sent again, perhaps elsewhere.
        self.channel.errors += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.channel.dropped(self)


class Channel:
    """Long-lived UDP sockets to one resolver address."""

    def __init__(self, address: str, port: int, sockets: int = SOCKETS) -> None:
        self.address = address
        self.port = port
        self.size = sockets
        self.errors = 0
        self._endpoints: list[_Endpoint] = []
        self._opening: asyncio.Lock | None = None
        # ID -> (the question as sent, its name lower-cased; the future of its try)
        self._pending: dict[int, tuple[bytes, asyncio.Future[tuple[bytes, float]]]] = {}
        self._turn = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    async def send(self, wire: bytes) -> tuple[int, asyncio.Future[tuple[bytes, float]]]:
        """Send `wire` under a fresh ID; the ID and a future that gets the first datagram carrying it, with the time
        it arrived."""
        endpoint = await self._endpoint()
        loop = asyncio.get_running_loop()
        qid = _ids.randrange(65536)
        while qid in self._pending:
            qid = _ids.randrange(65536)
        future: asyncio.Future[tuple[bytes, float]] = loop.create_future()
        self._pending[qid] = (question(wire), future)
        assert endpoint.transport is not None
        try:
            endpoint.transport.sendto(qid.to_bytes(2, "big") + wire[2:])
        except OSError as exc:
            self._pending.pop(qid, None)
            future.set_exception(exc)
        return qid, future

    def forget(self, qid: int) -> None:
        pending = self._pending.pop(qid, None)
        if pending is not None and not pending[1].done():
            pending[1].cancel()

    def received(self, data: bytes) -> None:
        pending = self._pending.get(int.from_bytes(data[:2], "big")) if len(data) >= 12 else None
        if pending is None:
            return
        asked, future = pending
        # A datagram under a pending ID that does not repeat the question (forged with a guessed ID, or stray) is
        # dropped here, so that it cannot hide the real answer arriving just after it. The caller parses the rest.
        if not future.done() and repeats(data, asked):
            future.set_result((data, time.monotonic()))

    def rearm(self, qid: int) -> asyncio.Future[tuple[bytes, float]] | None:
        """A new future for `qid` after a datagram that could not be read as an answer (garbled)."""
        if qid not in self._pending:
            return None
        future: asyncio.Future[tuple[bytes, float]] = asyncio.get_running_loop().create_future()
        self._pending[qid] = (self._pending[qid][0], future)
        return future

    def dropped(self, endpoint: _Endpoint) -> None:
        if endpoint in self._endpoints:
            self._endpoints.remove(endpoint)

    async def _endpoint(self) -> _Endpoint:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (watch rounds, tests): the old sockets belong to the old one
            self.close()
            self._loop, self._opening = loop, None
        if len(self._endpoints) < self.size:
            if self._opening is None:
                self._opening = asyncio.Lock()
            async with self._opening:
                if len(self._endpoints) < self.size:
                    self._endpoints.append(await self._open())
        self._turn = (self._turn + 1) % len(self._endpoints)
        return self._endpoints[self._turn]

    async def _open(self) -> _Endpoint:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        _, endpoint = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self), remote_addr=(self.address, self.port), family=family
        )
        return endpoint

    def close(self) -> None:
        for endpoint in list(self._endpoints):
            if endpoint.transport is not None:
                with contextlib.suppress(RuntimeError):  # its event loop is closed already
                    endpoint.transport.close()
        self._endpoints.clear()
        for _, future in self._pending.values():
            if not future.done():
                future.cancel()
        self._pending.clear()
