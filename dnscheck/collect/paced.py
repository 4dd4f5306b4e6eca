"""Queries to recursive resolvers, paced to what each one actually serves.

Public resolvers drop or refuse what exceeds their rate limit, and some networks lose packets. A fleet run that
sends at full speed and gives up on the first silence turns both into `unknown` results. So, for each resolver:

- Retries within the time the caller gives (the domain's deadline, never past it): a query without an answer
  is sent again after a retransmission timeout learnt from the answers (smoothed round trip + 4 deviations, as
  TCP does, RFC 6298), doubled on each retry up to MAX_RTO, with jitter so that retries do not come in waves;
  SERVFAIL is asked again once; REFUSED (how some resolvers rate-limit) is backed off and asked again, a few
  times when the resolver refuses much of what it is asked.
- Pacing (AIMD, like TCP's congestion control): the queries in flight to it (`--per-server` is the ceiling) and
  its send rate are cut when a half-second shows more loss than its usual share (the median of the last few
  seconds) beyond chance, and grow back while answers flow. Each cut is a trial: when a half-second a little
  later loses as much, the loss was not the pace's doing (a lossy resolver drops a share of everything at any
  rate) and the cut is undone, so such a resolver is not slowed to nothing.
  `--rate QPS` is a hard cap on top.
- Several resolvers share the load (the least busy, relative to its window, is asked); one that stops answering
  while others answer is skipped, and tried again now and then.
- Counts for the run's diagnostics (`report`), and whether loss made a domain's lookups fail (`overloaded`).

The group only decides who is asked, when, and how often. dnscheck's resolver source hands it a packed query and a
reader (`exchange`: dnscheck.collect.wire reads the answer); it is also a dnspython Nameserver (`async_query`), so
that dns.asyncresolver can use it as it is, with dnspython reading the answers.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import dns.exception
import dns.flags
import dns.message
import dns.nameserver
import dns.rcode

from dnscheck.collect import transport
from dnscheck.collect.pace_report import Counts, describe, merge, overload
from dnscheck.collect.tries import Tries, dnspython_reader, request_wire
from dnscheck.collect.upstream import (
    ADMIT_SHARE,
    MAX_SLOTS,
    PROBE_EVERY,
    REFUSED_TRIES,
    SHARED_FIELDS,
    Upstream,
)


class _Answer(Protocol):
    @property
    def flags(self) -> int: ...

    def rcode(self) -> int: ...


R = TypeVar("R", bound=_Answer)

__all__ = ["MAX_SLOTS", "SHARED_FIELDS", "Counts", "PacedGroup", "Upstream", "describe", "merge", "overload"]


class PacedGroup(dns.nameserver.Nameserver):
    """All the resolvers of a run, as one dnspython nameserver."""

    def __init__(
        self, servers: list[tuple[str, int]], ceiling: int, rate: float | None = None, shared: Any = None
    ) -> None:
        super().__init__()
        self.upstreams = [Upstream(a, p, ceiling, rate) for a, p in servers]
        self._last = self.upstreams[0]
        if shared is not None:  # (array, parts): the pace learnt with the other worker processes
            array, parts = shared
            for i, u in enumerate(self.upstreams[:MAX_SLOTS]):
                u.share_pace(array, i, parts)

    def __str__(self) -> str:
        return ", ".join(str(u) for u in self.upstreams)

    def kind(self) -> str:
        return "Do53"

    def is_always_max_size(self) -> bool:
        return False

    def answer_nameserver(self) -> str:
        # dnspython asks right after async_query returns, with no await in between: `_last` is this query's.
        return self._last.address

    def answer_port(self) -> int:
        return self._last.port

    def query(self, *args: Any, **kwargs: Any) -> dns.message.Message:
        raise NotImplementedError("asynchronous use only")

    def pick(self, avoid: Upstream | None = None) -> Upstream:
        now = time.monotonic()
        live = [u for u in self.upstreams if not u.silent(now)]
        for u in self.upstreams:
            if u in live or not live:
                continue
            u.counts.skipped = True
            if now - u.last_probe > PROBE_EVERY:
                u.last_probe = now
                return u  # a skipped resolver's occasional probe
        choices = [u for u in live if u is not avoid] or live or self.upstreams
        return min(choices, key=lambda u: (u.inflight / u.window, random.random()))

    async def async_query(
        self,
        request: dns.message.QueryMessage,
        timeout: float,
        source: str | None,
        source_port: int,
        max_size: bool,
        backend: Any,
        one_rr_per_rrset: bool = False,
        ignore_trailing: bool = False,
    ) -> dns.message.Message:
        read = dnspython_reader(request, one_rr_per_rrset, ignore_trailing)
        response, upstream = await self.exchange(
            request_wire(request), time.monotonic() + timeout, read, max_size
        )
        self._last = upstream
        response.id = request.id
        return response

    async def exchange(
        self, wire: bytes, deadline: float, read: Callable[[bytes], R], tcp: bool = False
    ) -> tuple[R, Upstream]:
        """The answer to the query `wire`, read by `read` (a dnspython Message, or dnscheck.collect.wire's Reply:
        anything with `flags` and `rcode()`), and the resolver that gave it. dns.exception.Timeout at the
        deadline."""
        if tcp:
            chosen = self.pick()
            return read(await _tcp(chosen, wire, deadline)), chosen
        tries = Tries(wire, deadline, read)
        servfails, refusals = 0, 0
        upstream: Upstream | None = None
        try:
            while True:
                upstream = self.pick(avoid=upstream if tries.sent else None)
                got = await tries.send_and_wait(upstream)
                if got is None:
                    continue
                answered, response = got
                if response.flags & dns.flags.TC:  # the same server, over TCP, within the same deadline
                    response = read(await _tcp(answered.upstream, wire, deadline))
                rcode = response.rcode()
                if rcode == dns.rcode.REFUSED and refusals < (
                    REFUSED_TRIES if answered.upstream.refusing() else 1
                ):
                    refusals += 1
                    answered.upstream.refused(late=answered.timed_out)
                    tries.drop(answered)
                    await asyncio.sleep(
                        min(answered.upstream.rto(refusals), max(0.0, deadline - time.monotonic()))
                    )
                    continue
                answered.upstream.answered(answered.rtt, late=answered.timed_out)
                if rcode == dns.rcode.SERVFAIL and servfails == 0 and time.monotonic() < deadline:
                    servfails += 1
                    answered.upstream.counts.servfail += 1
                    tries.drop(answered)
                    continue
                # The tries sent before the one answered: late (answered a moment later: a slow resolver) or lost
                # (never answered: dropped by the resolver) - unless the end is a SERVFAIL, the answer of a
                # recursion that took that long because a server behind the resolver is dead.
                tries.settle(answered, blame=rcode != dns.rcode.SERVFAIL)
                return response, answered.upstream
        finally:
            tries.close()

    def report(self) -> list[Counts]:
        return [u.counts for u in self.upstreams]

    def admit(self, active: int, timeout: float) -> bool:
        """Whether one more domain may start now (`active` are running): only while the queries already queued
        can be served within a tenth of the timeout, at the pace the resolvers keep. Otherwise a domain would
        spend its deadline in the queue. The fewest domains in flight that this held the run to is counted."""
        now = time.monotonic()
        loads = [u.backlog() for u in self.upstreams if not u.silent(now)] or [
            u.backlog() for u in self.upstreams
        ]
        if active == 0 or any(r is None for _, r in loads):
            return True  # a resolver that takes all it is sent: nothing to hold back for
        queued, rate = sum(q for q, _ in loads), sum(r or 0.0 for _, r in loads)
        if queued / rate <= timeout * ADMIT_SHARE:
            return True
        for u in self.upstreams:
            held = u.counts.held_to
            u.counts.held_to = active if held is None else min(held, active)
        return False


async def _tcp(upstream: Upstream, wire: bytes, deadline: float) -> bytes:
    if time.monotonic() >= deadline:
        raise dns.exception.Timeout
    try:
        await upstream.acquire(deadline)
    except TimeoutError:
        raise dns.exception.Timeout from None
    start = time.monotonic()
    try:
        data = await transport.tcp(upstream.address, upstream.port, wire, max(0.01, deadline - start))
    except OSError:
        raise dns.exception.Timeout from None
    finally:
        upstream.release()
    upstream.answered(time.monotonic() - start)
    return data
