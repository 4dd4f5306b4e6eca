"""One recursive resolver as dnscheck.collect.paced sees it: its window of queries in flight, its send rate, its
round-trip estimate and retransmission timeout, and how loss moves them (AIMD, each cut a trial). See paced.py for
why; this module holds the state and the arithmetic.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from typing import Any

from dnscheck.collect.channel import Channel
from dnscheck.collect.pace_report import Counts

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
MAX_SLOTS = 16  # resolvers whose pace worker processes share
SHARED_FIELDS = 3  # the shared array holds their paces, then their last cut times, then their loss floors
GROW = 1.1  # growth of the window per clean bucket
RATE_GROW = 1.05  # growth of the learnt rate per clean bucket: 10% a second
# Once a cut has stood (the loss fell when the pace did: a rate limit), 2% a second: the limit is known to be near,
# and each overrun of it costs queries that must wait a timeout to be sent again.
RATE_GROW_NEAR_LIMIT = 1.01
MIN_WINDOW = 4
FLOOR_FADE = 0.84  # per half-second
FLOOR = 0.01  # the loss share taken as usual until a trial shows more is lost at any pace
RETRY_AHEAD_S = 0.05  # a retry waits at most this long for its send time
REFUSED_TRIES = 4
REFUSED_SHARE = 0.3  # a share of REFUSED among recent answers that reads as rate limiting
SKIP_AFTER = 1.0  # seconds without an answer, while others answer, before a resolver is skipped
ADMIT_SHARE = 0.1  # a new domain starts while the queue ahead of it drains within this share of --timeout
PROBE_EVERY = 2.0  # a skipped resolver still gets one query this often, to notice that it is back


class Upstream:
    """One resolver address: its window, its rate, its round-trip estimate and its counts."""

    def __init__(self, address: str, port: int, ceiling: int, rate: float | None = None) -> None:
        self.address = address
        self.port = port
        self.channel = Channel(address, port)
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
        # Of the tries whose timeout passed, the share never answered (moving average), the others being answered
        # late. A rate limiter drops, and never answers what it dropped; a resolver that is slow (a dead server
        # behind it, or too much work) answers late. Until drops are seen, a cut lowers only the queries in flight.
        self.never_answered = 0.0
        self.rttvar = 0.0
        self.counts = Counts(lowest_window=self.window)
        self._cond: asyncio.Condition | None = None
        self._next_send = 0.0
        self._bucket = (time.monotonic(), 0, 0)  # start, answered, lost
        # The share of queries this resolver loses at any pace (learnt when a cut did not lower the loss): loss
        # beyond it is the pace's doing. Not a running average of recent loss: against a rate limit, the loss
        # that overrunning it causes would soon read as usual, and the pace would creep up past the limit.
        self._floor_here = FLOOR
        self.last_answer = time.monotonic()
        self.last_probe = 0.0
        self.lost_since_answer = 0
        self.refused_share = 0.0  # of the last few dozen answers (moving average)
        # a cut being tried: the loss, cap and window before it, the half-seconds until it is judged, the cap set
        self._trial: tuple[float, float | None, float, int, float | None] | None = None

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

    @property
    def _floor(self) -> float:
        """The loss share this resolver shows at any pace; with worker processes, learnt by them together (one
        that learnt it alone would leave the others cutting the shared pace for loss no cut can cure)."""
        if self._shared is None:
            return self._floor_here
        return max(FLOOR, float(self._shared[self._slot + 2 * MAX_SLOTS]))

    @_floor.setter
    def _floor(self, value: float) -> None:
        if self._shared is None:
            self._floor_here = value
        else:
            self._shared[self._slot + 2 * MAX_SLOTS] = value

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

    def answered(self, rtt: float, late: bool = False) -> None:
        """A query answered (`late`: by a try whose timeout had passed: the loss it counted is taken back)."""
        self.counts.answered += 1
        self.counts.late += late
        if late:
            self._fate(answered=True)
        self.refused_share *= 0.95
        self.last_answer = time.monotonic()
        self.lost_since_answer = 0
        self._sample(rtt)
        self._tick(answered=1, lost=-1 if late else 0)

    def _sample(self, rtt: float) -> None:
        # Every try has its own message ID, so even a retried query's round trip is known (no need for Karn's rule).
        if self.srtt is None:
            self.srtt, self.rttvar = rtt, rtt / 2
        else:
            self.rttvar += (abs(self.srtt - rtt) - self.rttvar) / 4
            self.srtt += (rtt - self.srtt) / 8

    def timed_out(self) -> None:
        """A try went unanswered for its retransmission timeout: lost, for the pace, until its answer comes late
        (it is sent again, and still listened for)."""
        self.counts.timeouts += 1
        self.lost_since_answer += 1
        self._tick(lost=1)

    def late(self, rtt: float) -> None:
        """A try answered after it was sent again: the resolver is slow, not shedding load; the loss its timeout
        counted is taken back."""
        self.counts.late += 1
        self._fate(answered=True)
        self._sample(rtt)
        self._tick(lost=-1)

    def dropped(self, blame: bool) -> None:
        """A try never answered (`blame`: while the query was answered when sent again: the resolver's doing)."""
        self.counts.lost += 1
        if blame:
            self.counts.recovered += 1
            self._fate(answered=False)

    def _fate(self, answered: bool) -> None:
        self.never_answered += ((0.0 if answered else 1.0) - self.never_answered) * 0.1

    def abandoned(self) -> None:
        """A try never answered, with no later answer to tell why (the deadline came first)."""
        self.counts.lost += 1

    def refused(self, late: bool = False) -> None:
        """REFUSED to a question asked again, read as the resolver shedding load (one loss, not two, when the
        try's timeout had passed)."""
        self.counts.refused += 1
        if not late:
            self._tick(lost=1)

    def _tick(self, answered: int = 0, lost: int = 0) -> None:
        start, a, b = self._bucket
        a, b = a + answered, max(0, b + lost)  # a late answer may take back a loss counted in an earlier bucket
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
        usual = self._floor
        # The floor fades (half-life ~2 s) unless a trial confirms it: a floor learnt from a misjudged trial
        # must not let the pace overrun a rate limit for the rest of the run.
        self._floor = FLOOR + (usual - FLOOR) * FLOOR_FADE
        # The first cut needs a fuller half-second: at the start answers are slow (cold caches), not limited.
        enough = n >= (MIN_SAMPLE if self.cap is not None else FIRST_CUT_SAMPLE)
        if enough and b > usual * n + 3 * math.sqrt(n * usual * (1 - usual)):
            self._cut(a / (now - start), share)
        else:
            self._grow()

    def _cut(self, answered_rate: float, share: float) -> None:
        before, window = self.cap, self.window
        if self._shared is not None and time.monotonic() - self._shared[self._slot + MAX_SLOTS] < TRIAL_S:
            return  # another worker has just cut the shared pace: its trial decides (a cut here would stay uncut)
        self.window = max(MIN_WINDOW, min(self.window, self.inflight) * CUT)
        # Timeouts answered late are a queue (the resolver, or servers behind it, overloaded or dead): fewer queries
        # in flight is the cure, and the window alone does it, at whatever rate the answers come back. A rate
        # limiter drops, and never answers what it dropped: only then is the send rate cut, to what was answered
        # (as far as one half-second tells), never below four fifths of the pace before (a noisy half-second must
        # not halve the run's speed). Cutting the rate to the answer rate of a slow world would starve it. (Not
        # the round trip: on a busy client it grows with the client's own load, rate limiter or not.)
        if self.never_answered >= 0.5:
            self.cap = max(5.0, min(before or answered_rate, answered_rate) * 0.9, (before or 0.0) * 0.8)
        if self._shared is not None:
            self._shared[self._slot + MAX_SLOTS] = (
                time.monotonic()
            )  # system-wide clock: the other workers see it
        self._trial = (share, before, window, TRIAL_BUCKETS, self.cap)  # what to go back to

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
            self._floor = max(self._floor, share)  # lost as much at a lower pace: loss the pace does not cause
            # Back to the pace before the cut, unless it has grown past that since (lowered further since, by
            # another worker's cut in the same loss: that loss is the pace-independent one just learnt).
            if self.cap is not None and made is not None and self.cap <= made * 1.01:
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
            grow = RATE_GROW if self.counts.lowest_rate is None else RATE_GROW_NEAR_LIMIT
            self.cap = cap * grow ** (1 / self._parts)  # each worker grows the shared pace
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
