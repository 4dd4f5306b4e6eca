"""The tries of one query to the paced resolvers (dnscheck.collect.paced), and what each says about its resolver.

A try that gets no answer within the retransmission timeout is sent again, but it stays open: its answer, if it
comes late, is used all the same (over dnscheck.collect.channel, every try has its own message ID). Each try is
judged once: answered in time; `late` (answered after it was sent again: a slow resolver, which cutting the pace
does not cure); `lost` (still unanswered a moment after another try was answered: a resolver shedding load); or
`abandoned` (the deadline came first). The pacing hears of a timeout at once, as a loss, so that it reacts to a
rate limit in time, and a late answer takes that loss back.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import dns.exception
import dns.message

from dnscheck.collect.upstream import Upstream

T = TypeVar("T")

# After an answer, how long an earlier try's answer may still come: a resolver that was working on the question
# answers every copy of it at once (Unbound joins them), back to back.
GRACE = 0.05


def request_wire(request: dns.message.Message) -> bytes:
    """The request's wire form. The resolver's questions all have one shape (one question, EDNS0 with a payload
    size, no option, no TSIG), which this packs directly: dnspython's renderer took ~36 us per query, ~6% of a
    fleet run's CPU. Any other shape goes through dnspython."""
    if (
        len(request.question) == 1
        and not (request.answer or request.authority or request.additional)
        and request.edns == 0
        and request.ednsflags == 0
        and not request.options
        and not request.pad
        and request.tsig is None
    ):
        q = request.question[0]
        head = struct.pack("!HHHHHH", request.id, request.flags, 1, 0, 0, 1)
        opt = struct.pack("!HHBHHIH", q.rdtype, q.rdclass, 0, 41, request.payload, 0, 0)  # root owner, OPT
        name = q.name.to_wire()
        assert name is not None  # None only when given a file to write to
        return head + name + opt
    return request.to_wire()


@dataclass(eq=False)
class Try:
    upstream: Upstream
    qid: int
    future: asyncio.Future[tuple[bytes, float]]
    sent: float
    holding: bool = True  # holds a place in its resolver's window
    rtt: float = 0.0
    timed_out: bool = False  # its retransmission timeout passed (the pacing counted it lost, for now)
    blame: bool = False  # lost, while the query was answered when sent again (not a SERVFAIL): the resolver's doing


def dnspython_reader(
    request: dns.message.QueryMessage, one_rr_per_rrset: bool = False, ignore_trailing: bool = False
) -> Callable[[bytes], dns.message.Message]:
    """Reads an answer to `request` with dnspython (DNSException: it is not one)."""

    def read(data: bytes) -> dns.message.Message:
        message = dns.message.from_wire(
            data, one_rr_per_rrset=one_rr_per_rrset, ignore_trailing=ignore_trailing
        )
        message.id = request.id  # the try's own ID matched; the question must match too
        if not request.is_response(message):
            raise dns.exception.FormError("not an answer to the question")
        return message

    return read


class Tries(Generic[T]):
    """The tries of one question, sent until one is answered or the deadline passes. `read` makes an answer of a
    datagram, or raises dns.exception.DNSException when the datagram is not one."""

    def __init__(self, wire: bytes, deadline: float, read: Callable[[bytes], T]) -> None:
        self.wire = wire
        self.deadline = deadline
        self.read = read
        self.open: list[Try] = []
        self.sent = 0

    async def send_and_wait(self, upstream: Upstream) -> tuple[Try, T] | None:
        """Send one more try to `upstream`, then wait for an answer to any open try: None when this try's
        retransmission timeout passed first (time to try again); dns.exception.Timeout at the deadline."""
        if time.monotonic() >= self.deadline:
            raise dns.exception.Timeout
        try:
            await upstream.acquire(self.deadline, retry=self.sent > 0)
        except TimeoutError:
            raise dns.exception.Timeout from None
        rto = upstream.rto(self.sent)
        until = min(self.deadline, time.monotonic() + rto)
        self.sent += 1
        try:
            qid, future = await upstream.channel.send(self.wire)
        except OSError:  # no route, or the like: as silent as a lost query, but said at once
            upstream.release()
            upstream.timed_out()
            await asyncio.sleep(max(0.0, until - time.monotonic()))
            return await self._waited(None)
        current = Try(upstream, qid, future, time.monotonic())
        self.open.append(current)
        got = await self._first(until)
        if got is None and current.holding:  # presumed lost: its place goes to the next try
            current.holding = False
            upstream.release()
            upstream.timed_out()
            current.timed_out = True
        return await self._waited(got)

    async def _waited(self, got: tuple[Try, T] | None) -> tuple[Try, T] | None:
        if got is None and time.monotonic() >= self.deadline:
            raise dns.exception.Timeout
        return got

    async def _first(self, until: float) -> tuple[Try, T] | None:
        while True:
            for t in list(self.open):
                if t.future.done():
                    message = self._read(t)
                    if message is not None:
                        return t, message
            remaining = until - time.monotonic()
            waiting = [t.future for t in self.open if not t.future.done()]
            if remaining <= 0:
                return None
            if not waiting:
                await asyncio.sleep(remaining)
                return None
            await asyncio.wait(waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)

    def _read(self, t: Try) -> T | None:
        """The answer a finished try got, or None (and the try listens again, or is closed)."""
        if t.future.cancelled() or t.future.exception() is not None:
            self._close(t)
            return None
        data, arrived = t.future.result()
        t.rtt = arrived - t.sent
        try:
            return self.read(data)
        except dns.exception.DNSException:
            pass
        # Not an answer to this question (garbled, or forged with a guessed ID): keep listening for the real one.
        rearmed = t.upstream.channel.rearm(t.qid)
        if rearmed is None:
            self._close(t)
        else:
            t.future = rearmed
        return None

    def drop(self, t: Try) -> None:
        """A try whose answer is not used (REFUSED, or a SERVFAIL asked again)."""
        self._close(t)

    def settle(self, answered: Try, blame: bool) -> None:
        """The query is answered by `answered`: the tries sent before it are judged a moment later, late or lost
        (`blame`: count those lost as dropped by their resolver, the query being answered when sent again);
        those sent after it are just closed."""
        self._close(answered)
        earlier = [t for t in self.open if t.sent < answered.sent]
        for t in [t for t in self.open if t.sent >= answered.sent]:
            self._close(t)
        for t in earlier:
            t.blame = blame
            if t.holding:
                t.holding = False
                t.upstream.release()
        self.open = []
        if earlier:
            asyncio.get_running_loop().call_later(GRACE, _judge, earlier)

    def close(self) -> None:
        """The query is over (deadline, or an error): tries still open are unanswered, cause unknown."""
        for t in list(self.open):
            t.upstream.abandoned()
            self._close(t)

    def _close(self, t: Try) -> None:
        if t in self.open:
            self.open.remove(t)
        if t.holding:
            t.holding = False
            t.upstream.release()
        t.upstream.channel.forget(t.qid)


def _judge(earlier: list[Try]) -> None:
    for t in earlier:
        f = t.future
        if f.done() and not f.cancelled() and f.exception() is None:
            t.upstream.late(f.result()[1] - t.sent)
        else:
            t.upstream.dropped(t.blame)
        t.upstream.channel.forget(t.qid)
