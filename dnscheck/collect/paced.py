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

The group is one dnspython Nameserver, so that dnspython still builds requests, follows CNAMEs and validates
answers; it only decides who is asked, when, and how often.
"""

from __future__ import annotations

import asyncio
import math
import random
import statistics
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import dns.asyncquery
import dns.exception
import dns.message
import dns.nameserver
import dns.rcode

INITIAL_RTO = 0.4  # seconds, before any answer was timed
MIN_RTO = (
    0.15  # a resolver on the same host answers cached names in well under a millisecond; recursion takes more
)
MAX_RTO = 1.0  # a retry at least every second: with 30% loss, ten tries within 10 s all fail once in 170,000 queries
BUCKET_S = 0.5  # the interval over which loss is judged
MIN_SAMPLE = 20  # outcomes a bucket needs before it is judged
FIRST_CUT_SAMPLE = 100  # and before the first cut
CUT = 0.7  # multiplicative decrease
TRIAL_BUCKETS = 2  # a cut is judged on the second half-second after it (losses are noticed a timeout late)
TRIAL_S = 1.0  # no second cut of a shared pace within this long of one (it is still being tried)
MAX_SLOTS = (
    16  # resolvers whose pace worker processes share: the array holds their paces, then last cut times
)
GROW = 1.1  # growth of the window per clean bucket
RATE_GROW = 1.05  # growth of the learnt rate per clean bucket: 10% a second
MIN_WINDOW = 4
RETRY_AHEAD_S = 0.05  # a retry waits at most this long for its send time
REFUSED_TRIES = 4
REFUSED_SHARE = 0.3  # a share of REFUSED among recent answers that reads as rate limiting
SKIP_AFTER = 1.0  # seconds without an answer, while others answer, before a resolver is skipped
ADMIT_SHARE = 0.1  # a new domain starts while the queue ahead of it drains within this share of --timeout
PROBE_EVERY = 2.0  # a skipped resolver still gets one query this often, to notice that it is back


@dataclass
class Counts:
    sent: int = 0  # every datagram, retries included
    answered: int = 0
    lost: int = 0  # no answer within the retransmission timeout
    refused: int = 0
    servfail: int = 0
    lowest_window: float = 0.0
    lowest_rate: float | None = None  # the lowest send rate the pacing fell to (queries/s), if it ever cut
    skipped: bool = False
    held_to: int | None = None  # the fewest domains in flight the pace held the run to, if it ever did

    def as_dict(self, address: str) -> dict[str, Any]:
        return {
            "resolver": address,
            "sent": self.sent,
            "answered": self.answered,
            "unanswered": self.lost,
            "refused": self.refused,
            "servfail": self.servfail,
            "lowest_in_flight": round(self.lowest_window),
            "lowest_rate_qps": None if self.lowest_rate is None else round(self.lowest_rate),
            "skipped": self.skipped,
            "domains_held_to": self.held_to,
        }


class Upstream:
    """One resolver address: its window, its rate, its round-trip estimate and its counts."""

    def __init__(self, address: str, port: int, ceiling: int, rate: float | None = None) -> None:
        self.address = address
        self.port = port
        self.ceiling = max(1, ceiling)
        self.window = float(self.ceiling)
        self.hard_rate = rate
        self._cap: float | None = None  # learnt send rate, once loss was seen (see `cap`)
        self._shared: Any = None  # with worker processes: one learnt pace for them all (set by PacedGroup)
        self._slot = 0
        self._parts = 1
        self.inflight = 0
        self.waiting = 0  # queries waiting for room in the window
        self.served = 0.0  # the highest answer rate seen over a half-second (queries/s)
        self.srtt: float | None = None
        self.rttvar = 0.0
        self.counts = Counts(lowest_window=self.window)
        self._cond: asyncio.Condition | None = None
        self._next_send = 0.0
        self._bucket = (time.monotonic(), 0, 0)  # start, answered, lost
        self._losses: deque[float] = deque(maxlen=10)  # loss share of the last judged buckets
        self.last_answer = time.monotonic()
        self.last_probe = 0.0
        self.lost_since_answer = 0
        self.refused_share = 0.0  # of the last few dozen answers (moving average)
        # a cut being tried: the loss, cap and window before it, the half-seconds until it is judged, the cap set
        self._trial: tuple[float, float | None, float, int, float] | None = None

    def __str__(self) -> str:
        return f"{self.address}:{self.port}" if ":" not in self.address else f"[{self.address}]:{self.port}"

    # -- sending -----------------------------------------------------------------------------------------------

    def rto(self, attempt: int) -> float:
        base = INITIAL_RTO if self.srtt is None else self.srtt + 4 * self.rttvar
        base = min(MAX_RTO, max(MIN_RTO, base) * 2**attempt)
        return base * random.uniform(0.85, 1.15)

    @property
    def cap(self) -> float | None:
        """The learnt send rate of this process. With N worker processes the workers learn one rate together
        (a shared array of doubles, N times this): they meet the same limit, and one that cuts alone while the
        others go on would see no effect and undo its cut."""
        if self._shared is None:
            return self._cap
        total = float(self._shared[self._slot])
        return total / self._parts if total > 0 else None

    @cap.setter
    def cap(self, value: float | None) -> None:
        if self._shared is None:
            self._cap = value
        else:
            self._shared[self._slot] = value * self._parts if value is not None else 0.0

    def share_pace(self, shared: Any, slot: int, parts: int) -> None:
        self._shared, self._slot, self._parts = shared, slot, parts

    def rate(self) -> float | None:
        rates = [r for r in (self.hard_rate, self.cap) if r is not None]
        return min(rates) if rates else None

    async def acquire(self, deadline: float, retry: bool = False) -> None:
        """Wait for room in the window and for the next send time the rate allows; TimeoutError past `deadline`.

        A retry does not queue for the window again: it takes the place of its lost try, so that a lost query is
        sent again after its timeout, not after every query that arrived meanwhile."""
        if self._cond is None:
            self._cond = asyncio.Condition()
        if not retry:
            self.waiting += 1
            try:
                async with self._cond:
                    await asyncio.wait_for(
                        self._cond.wait_for(lambda: self.inflight < int(self.window)),
                        max(0.0, deadline - time.monotonic()),
                    )
            finally:
                self.waiting -= 1
        self.inflight += 1
        try:
            await self._pace(deadline, retry)
        except BaseException:  # cancelled (the domain's deadline) or out of time: the place is given back
            self.inflight -= 1
            self._wake(1)
            raise
        self.counts.sent += 1

    async def _pace(self, deadline: float, retry: bool) -> None:
        """Wait for this query's send time at the rate allowed. A retry goes near the front, and the queries
        queued move back by one place: a lost query is not made to wait behind the whole queue."""
        rate = self.rate()
        if rate:
            now = time.monotonic()
            burst = max(1.0, rate / 20)  # 50 ms worth
            at = max(now - burst / rate, self._next_send)
            if retry:  # near the front, and the queue behind moves back by one place: the rate still holds
                at = min(at, now + RETRY_AHEAD_S)
                self._next_send = max(self._next_send, now - burst / rate) + 1 / rate
            else:
                self._next_send = at + 1 / rate
            if at > deadline:
                raise TimeoutError
            if at > now:
                await asyncio.sleep(at - now)

    def release(self) -> None:
        self.inflight -= 1
        self._wake(1)

    def _wake(self, n: int | None = None) -> None:
        """Let `n` (None: all) of the queries waiting for the window check again."""
        if self.waiting and self._cond is not None:
            asyncio.ensure_future(self._notify(n))

    async def _notify(self, n: int | None) -> None:
        assert self._cond is not None
        async with self._cond:
            self._cond.notify(n if n is not None else self.waiting)

    # -- outcomes ----------------------------------------------------------------------------------------------

    def answered(self, rtt: float, first_try: bool) -> None:
        self.counts.answered += 1
        self.refused_share *= 0.95
        self.last_answer = time.monotonic()
        self.lost_since_answer = 0
        if first_try:  # Karn: a retried query's round trip is ambiguous
            if self.srtt is None:
                self.srtt, self.rttvar = rtt, rtt / 2
            else:
                self.rttvar += (abs(self.srtt - rtt) - self.rttvar) / 4
                self.srtt += (rtt - self.srtt) / 8
        self._tick(answered=1)

    def lost(self, refused: bool = False) -> None:
        if refused:
            self.counts.refused += 1
        else:
            self.counts.lost += 1
            self.lost_since_answer += 1
        self._tick(lost=1)

    def _tick(self, answered: int = 0, lost: int = 0) -> None:
        start, a, b = self._bucket
        a, b = a + answered, b + lost
        now = time.monotonic()
        if now - start < BUCKET_S:
            self._bucket = (start, a, b)
            return
        self._bucket = (now, 0, 0)
        n = a + b
        if n < MIN_SAMPLE:
            self._grow()  # too few to judge, and too few to be overloading anything
            return
        share = b / n
        self.served = max(self.served, a / (now - start))
        if self._trial is not None:
            self._judge_trial(share)
            return
        # More loss than usual, beyond chance (binomial, 3 standard deviations): the resolver is shedding load.
        usual = max(0.01, statistics.median(self._losses)) if self._losses else 0.01
        self._losses.append(share)
        # The first cut needs a fuller half-second: at the start answers are slow (cold caches), not limited.
        enough = n >= (MIN_SAMPLE if self.cap is not None else FIRST_CUT_SAMPLE)
        if enough and b > usual * n + 3 * math.sqrt(n * usual * (1 - usual)):
            self._cut(a / (now - start), share)
        else:
            self._grow()

    def _cut(self, answered_rate: float, share: float) -> None:
        before = self.cap
        self.window = max(MIN_WINDOW, min(self.window, self.inflight) * CUT)
        if self._shared is not None and time.monotonic() - self._shared[self._slot + MAX_SLOTS] < TRIAL_S:
            return  # another worker has just cut the shared pace: its trial decides
        # To what was answered (the resolver's pace, as far as one half-second tells), but never below four fifths of
        # the pace before: a noisy half-second must not halve the run's speed.
        self.cap = max(5.0, min(before or answered_rate, answered_rate) * 0.9, (before or 0.0) * 0.8)
        if self._shared is not None:
            self._shared[self._slot + MAX_SLOTS] = (
                time.monotonic()
            )  # system-wide clock: the other workers see it
        self._trial = (share, before, self.window / CUT, TRIAL_BUCKETS, self.cap)  # what to go back to

    def _judge_trial(self, share: float) -> None:
        """A cut is a trial: if the loss did not fall after it, the loss is not caused by the pace (a resolver
        that drops a share of everything, at any rate), so the cut is undone; otherwise it stands."""
        assert self._trial is not None
        loss, cap, window, left, made = self._trial
        if left > 1:  # queries lost before the cut are still being counted: judge on a later half-second
            self._trial = (loss, cap, window, left - 1, made)
            return
        self._trial = None
        if share >= loss * 0.7:
            if self.cap is not None and abs(self.cap - made) < made * 0.01:  # nobody has changed it since
                self.cap = cap
            self.window = max(self.window, window)
            return
        self.counts.lowest_window = min(self.counts.lowest_window, self.window)
        if self.cap is not None:
            low = self.counts.lowest_rate
            self.counts.lowest_rate = self.cap if low is None else min(low, self.cap)

    def _grow(self) -> None:
        self.window = min(float(self.ceiling), self.window * GROW + 1)
        cap = self.cap
        if cap is not None:  # gently: a rate limit is found again within a few seconds, not overrun
            self.cap = cap * RATE_GROW ** (1 / self._parts)  # each worker grows the shared pace
        self._wake()

    def backlog(self) -> tuple[int, float | None]:
        """Queries queued or in flight, and the rate they can be served at (queries/s; None: no limit known)."""
        return self.waiting + self.inflight, self.rate()

    def refusing(self) -> bool:
        """Refusing a large share of questions lately: rate limiting, worth backing off. A REFUSED among answers is
        a policy about one name: an answer, passed on as such."""
        self.refused_share += (1 - self.refused_share) * 0.05
        return self.refused_share >= REFUSED_SHARE

    def silent(self, now: float) -> bool:
        return self.lost_since_answer >= 3 and now - self.last_answer > SKIP_AFTER


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
        deadline = time.monotonic() + timeout
        attempt, servfails, refusals = 0, 0, 0
        upstream: Upstream | None = None
        while True:
            upstream = self.pick(avoid=upstream if attempt else None)
            response, rtt = await _ask(upstream, request, deadline, attempt, max_size)
            if response is None:
                upstream.lost()
                attempt += 1
                continue
            rcode = response.rcode()
            if rcode == dns.rcode.REFUSED and refusals < (REFUSED_TRIES if upstream.refusing() else 1):
                refusals += 1
                upstream.lost(refused=True)
                await asyncio.sleep(min(upstream.rto(refusals), max(0.0, deadline - time.monotonic())))
                continue
            upstream.answered(rtt, attempt == 0)
            if rcode == dns.rcode.SERVFAIL and servfails == 0 and time.monotonic() < deadline:
                servfails += 1
                upstream.counts.servfail += 1
                continue
            self._last = upstream
            return response

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


async def _ask(
    upstream: Upstream, request: dns.message.QueryMessage, deadline: float, attempt: int, tcp: bool
) -> tuple[dns.message.Message | None, float]:
    """One try: the response and its round trip, or (None, 0) when it stayed unanswered. Raises
    dns.exception.Timeout when the deadline has passed."""
    if time.monotonic() >= deadline:
        raise dns.exception.Timeout
    try:
        await upstream.acquire(deadline, retry=attempt > 0)
    except TimeoutError:
        raise dns.exception.Timeout from None
    start = time.monotonic()
    wait = min(upstream.rto(attempt), deadline - start)
    try:
        if not tcp:
            try:
                response = await dns.asyncquery.udp(
                    request,
                    upstream.address,
                    max(0.01, wait),
                    upstream.port,
                    ignore_unexpected=True,
                    raise_on_truncation=True,
                    ignore_errors=True,
                )
                return response, time.monotonic() - start
            except dns.message.Truncated:
                pass  # the same server, over TCP, within the same deadline
        response = await dns.asyncquery.tcp(
            request, upstream.address, max(0.01, deadline - start), upstream.port
        )
    except dns.exception.Timeout:
        if time.monotonic() >= deadline:
            upstream.lost()
            raise
        return None, 0.0
    except OSError:  # unreachable (ICMP), or no route: as silent as a timeout, but said at once
        await asyncio.sleep(max(0.0, min(wait, deadline - time.monotonic())))
        return None, 0.0
    finally:
        upstream.release()
    return response, time.monotonic() - start


# -- what the run says about its resolvers ----------------------------------------------------------------------

NOTABLE = 0.01  # a share of unanswered queries worth saying


def merge(parts: list[tuple[str, Counts]]) -> dict[str, Counts]:
    """One `Counts` per resolver from several (one per worker process): counts and pace added up."""
    out: dict[str, Counts] = {}
    for address, c in parts:
        m = out.setdefault(address, Counts(lowest_window=0.0))
        m.sent += c.sent
        m.answered += c.answered
        m.lost += c.lost
        m.refused += c.refused
        m.servfail += c.servfail
        m.lowest_window += c.lowest_window  # the workers' windows are shares of one ceiling
        if c.lowest_rate is not None:
            m.lowest_rate = (m.lowest_rate or 0.0) + c.lowest_rate
        m.skipped = m.skipped or c.skipped
        if c.held_to is not None:
            m.held_to = (m.held_to or 0) + c.held_to  # each worker's share of --concurrency
    return out


def describe(address: str, c: Counts, ceiling: int) -> list[str]:
    """Plain sentences about one resolver, for stderr and the JSON summary; none when all went well."""
    said = []
    if c.sent and (c.lost + c.refused) / c.sent >= NOTABLE:
        said.append(
            f"resolver {address} left {_pct(c.lost, c.sent)} of queries unanswered"
            + (f" and refused {_pct(c.refused, c.sent)}" if c.refused else "")
            + " (they were sent again)"
        )
    if c.lowest_rate is not None or round(c.lowest_window) < ceiling:
        said.append(
            f"resolver {address}: pace lowered to {round(c.lowest_rate or 0)} queries/s at the slowest"
            f", queries in flight to {max(1, round(c.lowest_window))} (of {ceiling})"
        )
    if c.held_to is not None:
        said.append(
            f"resolver {address}: domains checked at once lowered to {c.held_to} at the fewest, so that none "
            "waited out its --timeout in the queue"
        )
    if c.servfail:
        said.append(f"resolver {address} answered SERVFAIL {c.servfail} times (each asked once more)")
    if c.skipped:
        said.append(f"resolver {address} stopped answering and was skipped while the others answered")
    return said


def overload(parts: list[tuple[str, Counts]]) -> tuple[str, str] | None:
    """The resolver that lost the most queries, and the share, when it lost a notable share: the likely reason
    for a lookup that ran out of time."""
    worst = max(parts, key=lambda p: (p[1].lost + p[1].refused) / max(1, p[1].sent), default=None)
    if worst is None:
        return None
    address, c = worst
    share = (c.lost + c.refused) / max(1, c.sent)
    return (address, _pct(c.lost + c.refused, c.sent)) if share >= NOTABLE else None


def _pct(n: int, total: int) -> str:
    return f"{100 * n / max(1, total):.1f}%"
