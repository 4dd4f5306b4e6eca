"""Paced resolvers (dnscheck.collect.paced): retries within the deadline, SERVFAIL asked once more, REFUSED storms
backed off, loss beyond the usual share slowing the pace, --rate as a hard cap, a silent resolver skipped while
another answers, and the diagnostics. Against a small UDP resolver on loopback that misbehaves on demand.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.edns
import dns.message
import dns.rcode
import dns.rrset
import pytest

from dnscheck.collect.paced import Counts, PacedGroup, describe, merge, overload
from dnscheck.collect.resolver import ResolverSource, ServerLimit, make_resolver
from dnscheck.models import Answered, Undetermined


@dataclass
class Behaviour:
    drop: float = 0.0  # share dropped at random
    qps: float | None = None  # drop what exceeds this rate (token bucket, burst of one tenth)
    refuse_first: int = 0  # REFUSED to the first N queries
    servfail_once: bool = False  # SERVFAIL the first time each name is asked
    refuse_names: set[str] = field(default_factory=set)  # always REFUSED (a policy)
    silent: bool = False
    delay: float = 0.0  # answer this long after the first copy of a question, every copy at once (as Unbound does)
    forge_first: bool = False  # first send an answer to another question under the same ID


class FakeResolver(asyncio.DatagramProtocol):
    def __init__(self, b: Behaviour) -> None:
        self.b = b
        self.seen: dict[str, int] = {}
        self.joined: dict[str, list[tuple[dns.message.Message, tuple[str, int]]]] = {}
        self.received = 0
        self.tokens = (b.qps or 0) / 10
        self.last = time.monotonic()
        self.rng = random.Random(7)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.DatagramTransport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received += 1
        q = dns.message.from_wire(data)
        name = q.question[0].name.to_text(omit_final_dot=True)
        r = dns.message.make_response(q)
        if self.b.silent or self.rng.random() < self.b.drop or not self._token():
            return
        if self.received <= self.b.refuse_first or name in self.b.refuse_names:
            r.set_rcode(dns.rcode.REFUSED)
        elif self.b.servfail_once and name not in self.seen:
            r.set_rcode(dns.rcode.SERVFAIL)
        else:
            r.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "A", "192.0.2.1"))
        self.seen[name] = self.seen.get(name, 0) + 1
        if self.b.forge_first:
            forged = dns.message.make_response(dns.message.make_query("forged.example", "A"))
            forged.id = q.id
            self.transport.sendto(forged.to_wire(), addr)
        if self.b.delay:
            copies = self.joined.setdefault(name, [])
            copies.append((r, addr))
            if len(copies) == 1:
                asyncio.get_running_loop().call_later(self.b.delay, self._answer_all, name)
            return
        self.transport.sendto(r.to_wire(), addr)

    def _answer_all(self, name: str) -> None:
        for r, addr in self.joined.pop(name, []):
            self.transport.sendto(r.to_wire(), addr)

    def _token(self) -> bool:
        if self.b.qps is None:
            return True
        now = time.monotonic()
        self.tokens = min(self.b.qps / 10, self.tokens + (now - self.last) * self.b.qps)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


async def _serve(b: Behaviour) -> tuple[FakeResolver, tuple[str, int], asyncio.DatagramTransport]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(lambda: FakeResolver(b), local_addr=("127.0.0.1", 0))
    return proto, transport.get_extra_info("sockname")[:2], transport  # type: ignore[return-value]


def _run(behaviours: list[Behaviour], names: list[str], timeout: float = 5.0, rate: float | None = None,
         ceiling: int = 200, concurrency: int = 50,
         check: Callable[[ResolverSource, list[object]], None] | None = None) -> tuple[list[object], ResolverSource]:
    async def go() -> tuple[list[object], ResolverSource]:
        servers = [await _serve(b) for b in behaviours]
        src = ResolverSource(make_resolver([s[1] for s in servers], timeout, ServerLimit(ceiling), rate))
        sem = asyncio.Semaphore(concurrency)

        async def one(n: str) -> object:
            async with sem:
                return await src.lookup(n, "A")

        out = list(await asyncio.gather(*(one(n) for n in names)))
        for _, _, t in servers:
            t.close()
        return out, src

    return asyncio.run(go())


NAMES = [f"d{i}.example.com" for i in range(300)]


def test_random_loss_is_retried_within_the_deadline_and_said() -> None:
    out, src = _run([Behaviour(drop=0.3)], NAMES, timeout=5)
    assert all(isinstance(x, Answered) for x in out)
    (address, c), = src.pacing()
    assert 0.2 < c.lost / c.sent < 0.4 and c.answered == len(NAMES) and c.recovered == c.lost
    said = describe(address, c, 200)
    assert any("unanswered" in s and "sent again" in s for s in said)


def test_a_rate_limit_slows_the_pace_to_what_is_served() -> None:
    names = [f"r{i}.example.com" for i in range(1200)]
    start = time.monotonic()
    out, src = _run([Behaviour(qps=400)], names, timeout=10)
    took = time.monotonic() - start
    assert all(isinstance(x, Answered) for x in out)
    (address, c), = src.pacing()
    # the pace was cut to about the limit: to 0.9 x what a half-second answered, and a half-second can answer the
    # limit plus the limiter's burst (a tenth of a second's worth), 480/s; answers held up by a busy event loop can
    # land in the next half-second, so the bound is that best half-second itself (measured: 392-424 under load)...
    assert c.lowest_rate is not None and c.lowest_rate < 400 + 40 / 0.5
    assert took < 1200 / 400 * 1.6  # ...and the run still went at a good share of the allowed rate
    assert any("pace lowered" in s for s in describe(address, c, 200))


def test_a_slow_resolver_is_waited_for_not_read_as_lossy() -> None:
    # A resolver slowed by a dead server behind it answers every copy of a question late, all at once: the first
    # answer is used, whichever try it answers, and nothing is counted as dropped, so the pace is not cut.
    out, src = _run([Behaviour(delay=1.3)], NAMES, timeout=5)
    assert all(isinstance(x, Answered) for x in out)
    (address, c), = src.pacing()
    assert c.recovered == 0 and c.lost == 0 and c.lowest_rate is None, c
    assert c.late > 0 and c.sent < 3 * len(NAMES), c
    assert not any("unanswered" in s or "pace lowered" in s for s in describe(address, c, 200))


def test_an_answer_to_another_question_under_the_same_id_is_ignored() -> None:
    out, _ = _run([Behaviour(forge_first=True)], NAMES[:20])
    assert all(isinstance(x, Answered) and x.records for x in out), out[:2]


def test_rate_is_a_hard_cap() -> None:
    start = time.monotonic()
    out, src = _run([Behaviour()], NAMES[:60], rate=100)
    assert all(isinstance(x, Answered) for x in out)
    assert time.monotonic() - start >= 0.45  # 60 queries at 100/s, after a burst of 5


def test_servfail_is_asked_once_more() -> None:
    out, src = _run([Behaviour(servfail_once=True)], NAMES[:20])
    assert all(isinstance(x, Answered) for x in out)
    assert src.pacing()[0][1].servfail == 20


def test_a_refused_storm_is_backed_off_and_asked_again() -> None:
    out, src = _run([Behaviour(refuse_first=40)], NAMES[:60], timeout=8)
    assert all(isinstance(x, Answered) for x in out), [x for x in out if not isinstance(x, Answered)][:3]
    assert src.pacing()[0][1].refused >= 10


def test_a_lone_refused_is_an_answer_passed_on_at_once() -> None:
    start = time.monotonic()
    out, _ = _run([Behaviour(refuse_names={"policy.example.com"})], ["policy.example.com", *NAMES[:30]], timeout=5)
    assert isinstance(out[0], Undetermined) and "REFUSED" in out[0].reason
    assert all(isinstance(x, Answered) for x in out[1:])
    assert time.monotonic() - start < 2


def test_a_silent_resolver_is_skipped_while_the_other_answers() -> None:
    out, src = _run([Behaviour(silent=True), Behaviour()], NAMES, timeout=8, concurrency=20, rate=150)
    assert all(isinstance(x, Answered) for x in out)
    (dead, c_dead), (alive, c_alive) = src.pacing()
    assert c_alive.answered == len(NAMES) and c_dead.answered == 0
    assert c_dead.sent < len(NAMES) / 4  # not asked its share
    assert c_dead.skipped and any("skipped" in s for s in describe(dead, c_dead, 200))


def test_several_resolvers_share_the_load() -> None:
    out, src = _run([Behaviour(), Behaviour()], NAMES)
    assert all(isinstance(x, Answered) for x in out)
    (_, a), (_, b) = src.pacing()
    assert a.answered > 50 and b.answered > 50


def test_a_deadline_is_never_passed() -> None:
    start = time.monotonic()
    out, _ = _run([Behaviour(silent=True)], NAMES[:10], timeout=1.0)
    assert all(isinstance(x, Undetermined) and x.silent for x in out)
    assert time.monotonic() - start < 1.0 * 1.1 + 0.5


def test_merge_and_overload_across_workers() -> None:
    a = Counts(sent=100, answered=80, lost=20, recovered=20, lowest_window=10, lowest_rate=50.0)
    b = Counts(sent=100, answered=90, lost=10, recovered=10, lowest_window=12)
    merged = merge([("r1", a), ("r1", b), ("r2", Counts(sent=10, answered=10, lowest_window=100))])
    assert merged["r1"].lost == 30 and merged["r1"].lowest_window == 22 and merged["r1"].lowest_rate == 50
    assert overload([("r1", a), ("r2", Counts(sent=10, answered=10))]) == ("r1", "20.0%")
    assert overload([("r2", Counts(sent=10, answered=10))]) is None
    assert describe("r2", merged["r2"], 100) == []


def test_group_reports_the_server_that_answered() -> None:
    out, _ = _run([Behaviour(), Behaviour()], NAMES[:40])
    servers = {x.server for x in out if isinstance(x, Answered)}
    assert len(servers) == 2 and all(s and s.startswith("127.0.0.1:") for s in servers)


@pytest.mark.parametrize("bad", [PacedGroup([("127.0.0.1", 53)], 10)])
def test_group_is_async_only(bad: PacedGroup) -> None:
    with pytest.raises(NotImplementedError):
        bad.query(dns.message.make_query("a.example", "A"), 1, None, 0, False)


@pytest.mark.parametrize("name,rdtype", [
    ("contoso.com", "MX"), ("selector1._domainkey.contoso.com", "CNAME"), ("_sip._tls.contoso.com", "SRV"),
    ("xn--bcher-kva.example", "TXT"), (".", "NS"), ("a" * 63 + ".example", "A"), ("CaSe.ExAmPlE", "AAAA"),
])
@pytest.mark.parametrize("edns", [dict(use_edns=0, payload=1232), dict(use_edns=0, payload=4096), dict(use_edns=False),
                                  dict(use_edns=0, want_dnssec=True), dict(use_edns=0, options=[
                                      dns.edns.GenericOption(dns.edns.OptionType.NSID, b"")])])
def test_request_wire_is_dnspythons(name: str, rdtype: str, edns: dict[str, object]) -> None:
    from dnscheck.collect.tries import request_wire

    q = dns.message.make_query(name, rdtype, **edns)  # type: ignore[arg-type]
    assert request_wire(q) == q.to_wire()
