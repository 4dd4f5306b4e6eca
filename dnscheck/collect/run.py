"""What one run (a `check` command, a `watch` round) shares across its domains, owned by an object it creates.

- Slots: at most `n` queries in flight to any one server address, however many domains are checked at once. A
  query waits for its slot inside its domain's deadline, never before it.
- A circuit breaker per address: a server that has timed out `BREAK_AFTER` times in a row, with no answer at all
  for `QUIET` seconds, is down for the rest of the run; later domains are told so at once, with the evidence,
  instead of each waiting out its own timeout on it.
- Admission: a domain starts (and its clock starts) only when the busiest server's queue can be served well
  within the timeout, so that a fleet never starts more work than its servers can answer in time.
- Caches of facts shared by many domains: the servers of a parent zone (com, org...), the addresses of a name
  server host or of an MX host. Never answers about a domain itself.

Semaphores belong to the event loop they are first used in: a `Run` is made for one loop (one `asyncio.run`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

from dnscheck.models import Answered, Lookup

PER_SERVER = 200  # default most queries in flight to any one resolver address (--per-server)
AUTHORITATIVE_PER_SERVER = 20  # to one authoritative server address, across all domains checked at once
BREAK_AFTER = 5  # timeouts in a row...
QUIET = 2.0  # ...and this many seconds without any answer: the server is down for the run
ADMIT_SHARE = 0.25  # a new domain starts when the busiest queue drains within this share of the timeout
START_DOMAINS = 16  # domains in flight at first; one more each time a domain ends with the queues short

T = TypeVar("T")


class Server:
    """One server address: its slots, how fast it answers, and whether it is down for the run."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.sem = asyncio.Semaphore(n)
        self.waiting = 0
        self.busy = 0
        self.latency = 0.05  # seconds, moving average of answered queries
        self.timeouts = 0  # in a row
        self.last_answer = time.monotonic()
        self.down: str | None = None  # the evidence, once down

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        self.waiting += 1
        try:
            await self.sem.acquire()
        finally:
            self.waiting -= 1
        self.busy += 1
        try:
            yield
        finally:
            self.busy -= 1
            self.sem.release()

    def answered(self, seconds: float) -> None:
        self.timeouts = 0
        self.last_answer = time.monotonic()
        self.latency += (seconds - self.latency) * 0.1

    def timed_out(self, what: str) -> None:
        """A query that was sent and got no answer at all in a full try (not one cut short by its deadline)."""
        self.timeouts += 1
        quiet = time.monotonic() - self.last_answer
        if self.down is None and self.timeouts >= BREAK_AFTER and quiet >= QUIET:
            self.down = (
                f"no answer: marked down for this run after {self.timeouts} timeouts in a row and "
                f"{quiet:.1f} s without any answer (last query: {what})"
            )

    def backlog(self) -> float:
        """Seconds the queries now waiting or in flight need, at the observed speed."""
        if self.down is not None:
            return 0.0
        return (self.waiting + self.busy) * self.latency / self.n


class ServerLimit:
    """Slots per server address; one instance is shared by everything that counts against the same budget."""

    def __init__(self, n: int = PER_SERVER) -> None:
        self.n = n
        self._servers: dict[str, Server] = {}

    def server(self, address: str) -> Server:
        s = self._servers.get(address)
        if s is None:
            s = self._servers[address] = Server(self.n)
        return s

    def slot(self, address: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self.server(address).slot()

    def backlog(self) -> float:
        return max((s.backlog() for s in self._servers.values()), default=0.0)


class RunCache(Generic[T]):
    """Facts shared while in flight and for at most MAX_AGE seconds; never kept when empty (a failure is asked
    again)."""

    MAX_AGE = 300.0

    def __init__(self, keep: Callable[[T], bool] | None = None) -> None:
        self._known: dict[str, tuple[float, asyncio.Future[T]]] = {}
        self._keep = keep  # whether a finished value may be reused (default: a non-empty one)

    async def get(self, key: str, make: Callable[[], Awaitable[T]]) -> T:
        now = time.monotonic()
        entry = self._known.get(key)
        if (
            entry is None
            or now - entry[0] > self.MAX_AGE
            or (entry[1].done() and not _kept(entry[1], self._keep))
        ):
            entry = self._known[key] = (now, asyncio.ensure_future(make()))
        return await asyncio.shield(entry[1])


def _kept(done: asyncio.Future[Any], keep: Callable[[Any], bool] | None = None) -> bool:
    if done.cancelled() or done.exception() is not None:
        return False
    value = done.result()
    if keep is not None:
        return keep(value)
    return bool(value[2] if isinstance(value, tuple) else value)


def has_address(lookups: tuple[Lookup, ...]) -> bool:
    """Whether address lookups found an A or AAAA record."""
    return any(
        isinstance(lk, Answered) and any(r.type in ("A", "AAAA") for r in lk.records) for lk in lookups
    )


class Run:
    """Made once per run (per event loop) and handed to every check of that run."""

    def __init__(self, per_server: int = AUTHORITATIVE_PER_SERVER, also: Iterable[ServerLimit] = ()) -> None:
        self.authoritative = ServerLimit(per_server)
        self._limits = [self.authoritative, *also]
        self.parents: RunCache[Any] = RunCache()
        self.hosts: RunCache[list[str]] = RunCache()
        # MX host addresses, kept only when found: a failure or an empty answer is asked again for the next domain
        self.mx_addresses: RunCache[tuple[Lookup, ...]] = RunCache(keep=has_address)
        self.active = 0  # domains in flight
        self.window = START_DOMAINS  # how many may be

    @classmethod
    def for_source(cls, source: object, parts: int = 1) -> Run:
        """A run that also watches the source's own server budget (a resolver's) when admitting domains.
        `parts`: the worker processes sharing the run, each with its share of the per-server budget."""
        limit = getattr(source, "server_limit", None)
        per_server = max(1, math.ceil(AUTHORITATIVE_PER_SERVER / parts))
        return cls(per_server, also=[limit] if isinstance(limit, ServerLimit) else [])

    def backlog(self) -> float:
        return max(limit.backlog() for limit in self._limits)

    @contextlib.asynccontextmanager
    async def admitted(self, timeout: float) -> AsyncIterator[None]:
        """Hold a domain back until the run can serve it within `timeout`; the domain's clock starts inside.

        Queues show only once the work is queued, so the number of domains in flight grows step by step (one more
        each time a domain ends while the busiest queue is short, a quarter fewer when it is long), like a
        congestion window: a fleet never starts more than its servers answer in time."""
        while self.active >= self.window or self.backlog() > timeout * ADMIT_SHARE:
            await asyncio.sleep(min(0.05, timeout / 20))
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
            if self.backlog() <= timeout * ADMIT_SHARE / 2:
                self.window += 1
            else:
                self.window = max(START_DOMAINS, self.window * 3 // 4)
