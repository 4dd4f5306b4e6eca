"""Issue 16, the core classes: per-server failures never read as safe, resolver answers checked for consistency,
deadlines that bound queueing, TCP after truncation and the circuit breaker. The fake server plays the hostile
side (tests/fakeserver.py); everything stays on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import dns.flags
import dns.message
import dns.rcode
import pytest

import dnscheck.collect.run as run_mod
from dnscheck.check import Options, check
from dnscheck.collect.authoritative import ask
from dnscheck.collect.resolver import ResolverSource, make_resolver
from dnscheck.collect.run import Run
from dnscheck.models import Answered, Undetermined, Verdict
from dnscheck.normalise import Target, normalise
from tests import fakeserver as fs
from tests.fakeserver import Data, FakeServer, no_offsite_packets
from tests.unit.test_classify import NEW_NS, _delegation, _view, observe, run

D = "contoso.com"
NEW_MX = "mx1.newmail.example"


# ------------------------------------------------------- 1. a failed per-server probe never lets it be safe


def _failed(view_: object, rdtype: str, reason: str, silent: bool) -> object:
    field = {"MX": "mx", "NS": "ns", "SOA": "soa"}[rdtype]
    name = D
    return dataclasses.replace(view_, **{field: Undetermined(name, rdtype, reason, "192.0.2.2", 5, silent)})  # type: ignore[type-var]


FAILURES = [
    ("MX", "no answer (timed out)", True),  # lost, or truncated with a TCP that hangs
    ("MX", "answered SERVFAIL", False),
    ("MX", "bad answer: BadResponse: a response from another question", False),
    ("NS", "no answer (timed out)", True),
    ("SOA", "answered SERVFAIL", False),
]


@pytest.mark.parametrize(("rdtype", "reason", "silent"), FAILURES)
@pytest.mark.parametrize("required", [False, True])
def test_one_server_failing_a_probe_is_never_safe(
    rdtype: str, reason: str, silent: bool, required: bool
) -> None:
    broken = _failed(_view(NEW_NS[1], "192.0.2.2"), rdtype, reason, silent)
    d = _delegation(servers=(_view(NEW_NS[0], "192.0.2.1"), broken), required=required)
    got, codes, c = run(observe(delegation=d))
    assert got is (Verdict.UNKNOWN if required else Verdict.WARNING), c.findings
    f = next(f for f in c.findings if f.code == "LOOKUP_FAILED" and f.variant == "server")
    args = dict(f.args)
    assert args["host"] == NEW_NS[1] and args["address"] == "192.0.2.2" and rdtype in args["types"]
    assert args["reason"] == reason


def test_the_same_server_answering_at_another_address_settles_it() -> None:
    broken = _failed(_view(NEW_NS[1], "192.0.2.2"), "MX", "no answer (timed out)", True)
    d = _delegation(servers=(_view(NEW_NS[0], "192.0.2.1"), broken, _view(NEW_NS[1], "2001:db8::2")))
    got, codes, c = run(observe(delegation=d))
    assert got is Verdict.SAFE, c.findings


def test_a_refusing_server_is_lame_not_failing() -> None:
    refusing = _failed(_view(NEW_NS[1], "192.0.2.2"), "SOA", "answered REFUSED", False)
    d = _delegation(servers=(_view(NEW_NS[0], "192.0.2.1"), refusing))
    got, codes, c = run(observe(delegation=d))
    assert "NS_LAME" in codes and got is Verdict.WARNING, c.findings


# ------------------------------------------------------------ 2. inconsistent resolver answers are not answers


def _nodata_ns_with_soa_of(zone: str) -> fs.Handler:
    def handler(query: dns.message.Message | None, wire: bytes, transport: str) -> fs.Reply:
        assert query is not None
        soa = fs.rrset(
            zone, 300, "SOA", f"a.ns.{zone.strip('.')}. h. 1 3600 600 86400 300".replace(" . ", " ")
        )
        return fs.response(query, authority=[soa])

    return handler


def _target(domain: str) -> Target:
    t = normalise(domain)
    assert isinstance(t, Target)
    return t


@pytest.mark.parametrize("soa_zone", [".", "com.", "unrelated.example.", "contoso.com."])
def test_nodata_for_ns_with_an_implausible_soa_is_undetermined(soa_zone: str) -> None:
    data = Data(
        {
            "contoso.com": [f"MX 10 {NEW_MX}."],
            "com": ["NS a.gtld-servers.net."],
            ".": ["NS a.root-servers.net."],
            "unrelated.example": ["NS ns1.unrelated.example."],
            **fs.NEW_MAIL,
        },
        zones=("contoso.com", "com", "unrelated.example", fs.NEW_MAIL_ZONE),
        faults={("contoso.com", "NS"): _nodata_ns_with_soa_of(soa_zone)},
    )
    with no_offsite_packets(), FakeServer(data) as srv:
        src = ResolverSource(make_resolver([srv.address], 3))
        r = asyncio.run(check(_target(D), src, Options(timeout=3, mode="resolver")))
    assert r.verdict is Verdict.UNKNOWN, r.findings
    assert any(f.code == "LOOKUP_FAILED" and "NS" in str(f.record) for f in r.findings)


def test_records_of_other_names_in_an_answer_are_ignored() -> None:
    def stuffed(query: dns.message.Message | None, wire: bytes, transport: str) -> fs.Reply:
        assert query is not None
        resp = fs.response(
            query, answer=[fs.rrset("elsewhere.example", 300, "MX", "0 x.mail.protection.outlook.com.")]
        )
        resp.flags |= dns.flags.AA
        return resp

    async def go(port: int) -> object:
        return await ask(Run(), "127.0.0.1", D, "MX", time.monotonic() + 2, port)

    with no_offsite_packets(), FakeServer(stuffed) as srv:
        lk = asyncio.run(go(srv.address[1]))
    assert isinstance(lk, Answered) and lk.records == ()


# -------------------------------------------------------------- 3. deadlines that bound queueing and TCP


@pytest.mark.parametrize(
    "then", [fs.never, fs.tcp_short_frame, fs.drip(0.2)], ids=["tcp-hangs", "short-frame", "trickle"]
)
def test_tcp_after_truncation_shares_the_deadline(then: fs.Handler) -> None:
    async def go(port: int) -> tuple[object, float]:
        start = time.monotonic()
        lk = await ask(Run(), "127.0.0.1", D, "MX", start + 1.5, port)
        return lk, time.monotonic() - start

    with no_offsite_packets(), FakeServer(fs.truncated(then)) as srv:
        lk, took = asyncio.run(go(srv.address[1]))
    assert isinstance(lk, Undetermined)
    assert took <= 1.5 * 1.1 + 0.2, took


def test_waiting_for_a_server_slot_counts_against_the_deadline() -> None:
    data = Data(
        {D: [f"MX 10 {NEW_MX}."]},
        zones=(D,),
        faults={
            (D, "MX"): lambda q, w, t: fs.Delay(Data({D: [f"MX 10 {NEW_MX}."]}, zones=(D,))(q, w, t), 0.4)
        },
    )

    async def go(port: int) -> list[float]:
        r = Run(per_server=1)
        start = time.monotonic()

        async def one() -> float:
            await ask(r, "127.0.0.1", D, "MX", time.monotonic() + 1.0, port)
            return time.monotonic() - start

        return await asyncio.gather(*(one() for _ in range(8)))

    with no_offsite_packets(), FakeServer(data) as srv:
        took = asyncio.run(go(srv.address[1]))
    assert max(took) <= 1.0 * 1.1 + 0.2, took


def test_udp_is_retried_within_the_deadline_when_a_packet_is_lost() -> None:
    answered: list[int] = []
    good = Data({D: [f"MX 10 {NEW_MX}."]}, zones=(D,))

    def lossy(query: dns.message.Message | None, wire: bytes, transport: str) -> fs.Reply:
        answered.append(1)
        return None if len(answered) == 1 else good(query, wire, transport)

    async def go(port: int) -> object:
        return await ask(Run(), "127.0.0.1", D, "MX", time.monotonic() + 3, port)

    with no_offsite_packets(), FakeServer(lossy) as srv:
        lk = asyncio.run(go(srv.address[1]))
    assert isinstance(lk, Answered) and lk.records, lk


def test_a_server_that_keeps_timing_out_is_down_for_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_mod, "QUIET", 0.3)

    async def go(port: int) -> tuple[object, float]:
        r = Run()
        await asyncio.gather(
            *(ask(r, "127.0.0.1", f"d{i}.com", "MX", time.monotonic() + 1.0, port) for i in range(6))
        )
        start = time.monotonic()
        lk = await ask(r, "127.0.0.1", "later.com", "MX", time.monotonic() + 1.0, port)
        return lk, time.monotonic() - start

    with no_offsite_packets(), FakeServer(fs.never) as srv:
        lk, took = asyncio.run(go(srv.address[1]))
    assert isinstance(lk, Undetermined) and lk.silent and "marked down" in lk.reason, lk
    assert took < 0.05


def test_admission_waits_for_a_backlog_to_drain() -> None:
    async def go() -> float:
        r = Run(per_server=1)
        server = r.authoritative.server("192.0.2.1")
        server.latency = 1.0
        server.waiting = 10  # ten seconds of work queued for a one-slot server
        start = time.monotonic()

        async def drain() -> None:
            await asyncio.sleep(0.3)
            server.waiting = 0

        async def admitted() -> None:
            async with r.admitted(timeout=4.0):
                pass

        await asyncio.gather(admitted(), drain())
        return time.monotonic() - start

    assert 0.25 <= asyncio.run(go()) < 1.0


def test_domains_in_flight_grow_step_by_step() -> None:
    async def go() -> list[int]:
        r = Run()
        peak: list[int] = []

        async def one() -> None:
            async with r.admitted(timeout=4.0):
                peak.append(r.active)
                await asyncio.sleep(0.01)

        await asyncio.gather(*(one() for _ in range(100)))
        return peak

    peak = asyncio.run(go())
    assert max(peak[:16]) <= run_mod.START_DOMAINS and max(peak) > run_mod.START_DOMAINS


# ------------------------------------------------------------------------ issue 14: the shape of collect/


def _imports(path: str) -> set[str]:
    import ast

    tree = ast.parse(open(path, encoding="utf-8").read())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dnscheck.collect"):
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("dnscheck.collect")}
    return out


def test_collect_modules_import_each_other_without_a_cycle() -> None:
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "dnscheck" / "collect"
    graph = {
        f"dnscheck.collect.{p.stem}": _imports(str(p)) for p in root.glob("*.py") if p.stem != "__init__"
    }
    graph = {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}
    done: set[str] = set()

    def visit(m: str, path: tuple[str, ...]) -> None:
        assert m not in path, f"import cycle: {' -> '.join((*path, m))}"
        if m in done:
            return
        for d in graph[m]:
            visit(d, (*path, m))
        done.add(m)

    for m in graph:
        visit(m, ())


def test_the_planner_knows_sources_only_through_the_protocol() -> None:
    import pathlib

    text = (pathlib.Path(__file__).resolve().parents[2] / "dnscheck" / "collect" / "plan.py").read_text()
    assert "ResolverSource" not in text and "ZoneFileSource" not in text


def test_no_run_state_lives_in_module_globals() -> None:
    import dnscheck.collect.authoritative as auth

    assert not any(isinstance(v, run_mod.RunCache | run_mod.ServerLimit) for v in vars(auth).values())


@pytest.mark.parametrize("fault", [fs.garbage, fs.servfail, fs.wrong_id, fs.wrong_question, fs.short_header])
def test_a_server_answering_badly_is_undetermined_within_the_deadline(fault: fs.Handler) -> None:
    async def go(port: int) -> tuple[object, float]:
        start = time.monotonic()
        lk = await ask(Run(), "127.0.0.1", D, "MX", start + 1.5, port)
        return lk, time.monotonic() - start

    with no_offsite_packets(), FakeServer(fault) as srv:
        lk, took = asyncio.run(go(srv.address[1]))
    assert isinstance(lk, Undetermined), lk
    assert took <= 1.5 * 1.1 + 0.2, took
