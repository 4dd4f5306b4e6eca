"""Hostile and broken DNS through a fake resolver (tests/fakeserver.py): what Knot cannot be made to send.

Each scenario is one domain whose answers misbehave in one way: a wrong ID, a wrong question, garbage, a TCP
fallback that hangs up or sends garbage, REFUSED, SERVFAIL, a slow drip, silence, CNAME loops and long chains,
an answer for another name, odd rdata, huge RRsets. All scenarios run at once (one deadline), through the real
ResolverSource and plan.collect, and every one must come out as anything but "safe" when it cannot be told,
within --timeout + 10% + 0.5 s. A few run through the installed `dnscheck` command as well.

Nothing here sends a packet anywhere but 127.0.0.1: the in-process checks run under `no_offsite_packets()`,
and the subprocess runs use --mode resolver or a server that never answers (so there is no address to probe).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import dns.message
import pytest

from dnscheck.check import Options, check
from dnscheck.collect.resolver import ResolverSource, make_resolver
from dnscheck.formats import FORMATS, Summary, get_format
from dnscheck.models import Result, Severity, Verdict
from dnscheck.normalise import Target, normalise
from tests import fakeserver as fs
from tests.fakeserver import Data, FakeServer, no_offsite_packets, response, rrset
from tests.schema import validate_output

TIMEOUT = 0.8  # for the scenarios that can only end at the deadline
ANSWERED_TIMEOUT = (
    3.0  # for the others: generous, so that a loaded machine cannot turn an answer into a timeout
)
BOUND = TIMEOUT * 1.1 + 0.5  # the promise: --timeout + 10% + 0.5 s
PARALLEL = 8  # checks at once: the fake server and the checks share one interpreter
# faults that leave the client nothing to do but wait for the deadline
SILENT = {
    "wrong-id",
    "wrong-question",
    "garbage",
    "noise",
    "short-header",
    "tc-then-short-frame",
    "tc-then-silence",
    "slow-drip",
    "never",
}
NEW_MX = "10 mx1.newmail.example."
M365_MX = "0 contoso-com.mail.protection.outlook.com."

HOSTILE_TXT = (
    r'"\027[2J\027[1;31mSAFE\027[0m" "\008\013\010Injected: line" "\000nul" "\226\128\174evil-rtl"'
    r' "\194\155c1-csi" "\255\254not-utf8" "\007bell"'
)


def healthy(
    domain: str,
    *,
    mx: str = NEW_MX,
    txt: tuple[str, ...] = ('"v=spf1 include:spf.newmail.example -all"',),
    extra: dict[str, list[str]] | None = None,
) -> dict[str, list[str]]:
    records = {
        domain: [
            f"MX {mx}",
            "NS ns1.newdns.example.",
            "NS ns2.newdns.example.",
            "A 192.0.2.10",
            *(f"TXT {t}" for t in txt),
        ]
    }
    records.update(extra or {})
    return records


def unrelated_answer(query: dns.message.Message | None, wire: bytes, transport: str) -> fs.Reply:
    """NOERROR, but the answer is another name's MX: must never be taken as this name's."""
    assert query is not None
    return response(query, answer=[rrset("other.example.", 300, "MX", "10 mx1.newmail.example.")])


def loop_in_answer(query: dns.message.Message | None, wire: bytes, transport: str) -> fs.Reply:
    """A broken resolver that returns a CNAME loop with NOERROR instead of SERVFAIL."""
    assert query is not None
    q = query.question[0].name.to_text()
    return response(query, answer=[rrset(q, 300, "CNAME", "b." + q), rrset("b." + q, 300, "CNAME", q)])


def odd_rdata(query: dns.message.Message | None, wire: bytes, transport: str) -> fs.Reply:
    """An answer of an unknown type (generic RFC 3597 rdata) to an MX question."""
    assert query is not None
    q = query.question[0].name.to_text()
    return response(query, answer=[rrset(q, 300, "TYPE65280", r"\# 4 deadbeef")])


@dataclass
class Scenario:
    records: dict[str, list[str]]
    faults: dict[tuple[str, str], fs.Handler] = field(default_factory=dict)
    verdict: Verdict | tuple[Verdict, ...] = Verdict.UNKNOWN
    codes: set[str] | None = None  # exactly these codes (when given)
    must: set[str] = field(default_factory=set)  # at least these codes
    failed_severity: Severity | None = None  # LOOKUP_FAILED must be there, at this severity


def _mx_fault(name: str, handler: fs.Handler, verdict: Verdict = Verdict.UNKNOWN) -> tuple[str, Scenario]:
    d = f"mx-{name}.com"
    return d, Scenario(healthy(d), {(d, "MX"): handler}, verdict, failed_severity=Severity.UNKNOWN)


def _ns_fault(name: str, handler: fs.Handler) -> tuple[str, Scenario]:
    d = f"ns-{name}.com"
    return d, Scenario(healthy(d), {(d, "NS"): handler}, Verdict.UNKNOWN, failed_severity=Severity.UNKNOWN)


def _chain(domain: str, prefix: str, n: int) -> dict[str, list[str]]:
    hops = [f"{prefix}.{domain}"] + [f"hop{i}.{domain}" for i in range(1, n + 1)]
    out = {a: [f"CNAME {b}."] for a, b in zip(hops, hops[1:], strict=False)}
    out[hops[-1]] = ["A 192.0.2.20"]
    return out


FAULTS: dict[str, fs.Handler] = {
    "wrong-id": fs.wrong_id,
    "wrong-question": fs.wrong_question,
    "garbage": fs.garbage,
    "noise": fs.pure_noise,
    "short-header": fs.short_header,
    "refused": fs.refused,
    "servfail": fs.servfail,
    "formerr": fs.formerr,
    "tc-then-garbage": fs.truncated(fs.garbage),
    "tc-then-close": fs.truncated(fs.tcp_close),
    "tc-then-short-frame": fs.truncated(fs.tcp_short_frame),
    "tc-then-wrong-id": fs.truncated(fs.wrong_id),
    "tc-then-wrong-question": fs.truncated(fs.wrong_question),
    "tc-then-silence": fs.truncated(fs.never),
    "slow-drip": fs.drip(0.25),
    "never": fs.never,
    "unrelated-answer": unrelated_answer,
    "loop-in-answer": loop_in_answer,
    "odd-rdata": odd_rdata,
}


def _scenarios() -> dict[str, Scenario]:
    s: dict[str, Scenario] = {}
    s["healthy.com"] = Scenario(healthy("healthy.com"), verdict=Verdict.SAFE, codes=set())
    s["tenant.com"] = Scenario(healthy("tenant.com", mx=M365_MX), verdict=Verdict.BLOCKED, codes={"MX_M365"})
    for name, handler in FAULTS.items():
        d, sc = _mx_fault(name, handler)
        s[d] = sc
    for name in ("wrong-id", "garbage", "refused", "servfail", "tc-then-close", "never", "unrelated-answer"):
        d, sc = _ns_fault(name, FAULTS[name])
        s[d] = sc
    s["all-dead.com"] = Scenario(
        healthy("all-dead.com"),
        {("all-dead.com", "*"): fs.never},
        Verdict.UNKNOWN,
        failed_severity=Severity.UNKNOWN,
    )
    # a leftover name that fails: a warning, never safe
    d = "leftover-servfail.com"
    s[d] = Scenario(
        healthy(d),
        {(f"autodiscover.{d}", "CNAME"): fs.servfail},
        Verdict.WARNING,
        codes={"LOOKUP_FAILED"},
        failed_severity=Severity.WARNING,
    )
    d = "leftover-garbage.com"
    s[d] = Scenario(
        healthy(d),
        {(f"msoid.{d}", "CNAME"): fs.truncated(fs.garbage)},
        Verdict.WARNING,
        codes={"LOOKUP_FAILED"},
        failed_severity=Severity.WARNING,
    )
    # CNAME loops and long chains
    d = "leftover-loop.com"
    s[d] = Scenario(
        healthy(d, extra={f"autodiscover.{d}": [f"CNAME a.{d}."], f"a.{d}": [f"CNAME autodiscover.{d}."]}),
        verdict=Verdict.WARNING,
        codes={"LOOKUP_FAILED"},
        failed_severity=Severity.WARNING,
    )
    d = "leftover-long.com"
    s[d] = Scenario(
        healthy(d, extra=_chain(d, "autodiscover", 12)),
        verdict=Verdict.WARNING,
        codes={"LOOKUP_FAILED"},
        failed_severity=Severity.WARNING,
    )
    d = "leftover-long-m365.com"  # the end of a long chain could have been Microsoft's
    s[d] = Scenario(
        healthy(
            d, extra={**_chain(d, "autodiscover", 12), f"hop12.{d}": ["CNAME autodiscover.outlook.com."]}
        ),
        verdict=(Verdict.WARNING,),
        must={"LOOKUP_FAILED"},
    )
    d = "mxhost-loop.com"
    s[d] = Scenario(
        healthy(
            d, mx=f"10 mail.{d}.", extra={f"mail.{d}": [f"CNAME m2.{d}."], f"m2.{d}": [f"CNAME mail.{d}."]}
        ),
        verdict=Verdict.UNKNOWN,
        failed_severity=Severity.UNKNOWN,
    )
    d = "mxhost-long.com"
    s[d] = Scenario(
        healthy(d, mx=f"10 mail.{d}.", extra=_chain(d, "mail", 12)),
        verdict=Verdict.UNKNOWN,
        failed_severity=Severity.UNKNOWN,
    )
    d = "mxhost-cname-m365.com"
    s[d] = Scenario(
        healthy(
            d, mx=f"10 mail.{d}.", extra={f"mail.{d}": ["CNAME contoso-com.mail.protection.outlook.com."]}
        ),
        verdict=Verdict.BLOCKED,
        codes={"MX_CNAME_M365"},
    )
    d = "apex-loop.com"  # the domain itself is a CNAME loop: the resolver says SERVFAIL
    s[d] = Scenario(
        {d: [f"CNAME x.{d}."], f"x.{d}": [f"CNAME {d}."]},
        verdict=Verdict.UNKNOWN,
        failed_severity=Severity.UNKNOWN,
    )
    # odd but legal data
    d = "null-mixed.com"
    s[d] = Scenario(
        healthy(d, extra={d: ["MX 0 .", f"MX {M365_MX}", "NS ns1.newdns.example.", "A 192.0.2.10"]}),
        verdict=Verdict.BLOCKED,
        must={"MX_NULL", "MX_M365"},
    )
    d = "null-only.com"
    s[d] = Scenario(healthy(d, mx="0 ."), verdict=Verdict.SAFE, codes={"MX_NULL"})
    d = "mx-ip-literal.com"
    s[d] = Scenario(
        healthy(d, mx="10 192.0.2.25."),
        verdict=Verdict.WARNING,
        codes={"LOOKUP_FAILED"},
        failed_severity=Severity.WARNING,
    )
    d = "nxdomain-apex.com"
    s[d] = Scenario(
        {f"other.{d}": ["A 192.0.2.1"]},
        faults={(d, "*"): lambda q, w, t: response(q, 3)},
        verdict=Verdict.UNKNOWN,
        codes={"DOMAIN_NXDOMAIN"},
    )
    # a huge TXT RRset: truncated over UDP, complete over TCP, and the M365 include in it is found
    d = "huge-txt.com"
    big = tuple(f'"filler-{i:03d}-{"x" * 90}"' for i in range(40)) + (
        '"v=spf1 include:spf.protection.outlook.com -all"',
    )
    s[d] = Scenario(healthy(d, txt=big), verdict=Verdict.WARNING, codes={"SPF_M365"})
    # hostile TXT content
    d = "hostile-txt.com"
    s[d] = Scenario(
        healthy(d, txt=(HOSTILE_TXT, '"v=spf1 include:spf.newmail.example -all"')),
        verdict=Verdict.SAFE,
        codes=set(),
    )
    return s


SCENARIOS = _scenarios()


def _silent(domain: str) -> bool:
    return domain == "all-dead.com" or any(domain in (f"mx-{x}.com", f"ns-{x}.com") for x in SILENT)


@dataclass
class Ran:
    results: dict[str, Result]
    elapsed: dict[str, float]
    server: FakeServer


@pytest.fixture(scope="module")
def ran() -> Iterator[Ran]:
    records: dict[str, list[str]] = {}
    faults: dict[tuple[str, str], fs.Handler] = {}
    for sc in SCENARIOS.values():
        for owner, lines in sc.records.items():
            records.setdefault(owner, []).extend(x for x in lines if x not in records.get(owner, []))
        faults.update(sc.faults)
    records.update(fs.NEW_MAIL)
    data = Data(records, zones=(*SCENARIOS, fs.NEW_MAIL_ZONE), faults=faults)

    async def one(domain: str, sem: asyncio.Semaphore) -> tuple[str, Result, float]:
        t = normalise(domain)
        assert isinstance(t, Target)
        timeout = TIMEOUT if _silent(domain) else ANSWERED_TIMEOUT
        async with sem if not _silent(domain) else contextlib.nullcontext():  # the silent ones only wait
            # one resolver per domain: the per-server query limit must not make domains wait for each other
            # here
            src = ResolverSource(make_resolver([srv.address], timeout))
            start = time.monotonic()
            result = await check(t, src, Options(timeout=timeout, mode="resolver", explain=True))
            return domain, result, time.monotonic() - start

    async def all_() -> list[tuple[str, Result, float]]:
        sem = asyncio.Semaphore(PARALLEL)
        # the ones that wait for the deadline first, so that their waits overlap
        order = sorted(SCENARIOS, key=lambda d: not _silent(d))
        return await asyncio.gather(*(one(d, sem) for d in order))

    with no_offsite_packets(), FakeServer(data) as srv:
        out = asyncio.run(all_())
        yield Ran({d: r for d, r, _ in out}, {d: e for d, _, e in out}, srv)


def _describe(r: Result) -> str:
    return "\n".join(f"  {f.severity.value} {f.code}: {f.message}" for f in r.findings)


@pytest.mark.parametrize("domain", list(SCENARIOS))
def test_scenario(ran: Ran, domain: str) -> None:
    sc, r = SCENARIOS[domain], ran.results[domain]
    codes = {f.code for f in r.findings}
    expected = sc.verdict if isinstance(sc.verdict, tuple) else (sc.verdict,)
    assert r.verdict in expected, f"{domain}: {r.verdict}\n{_describe(r)}"
    if sc.verdict is not Verdict.SAFE:
        assert r.verdict is not Verdict.SAFE
    if sc.codes is not None:
        assert codes == sc.codes, f"{domain}\n{_describe(r)}"
    assert sc.must <= codes, f"{domain}\n{_describe(r)}"
    if sc.failed_severity is not None:
        failed = [f for f in r.findings if f.code == "LOOKUP_FAILED"]
        assert failed and any(f.severity is sc.failed_severity for f in failed), _describe(r)
        for f in failed:
            assert f.message and "Traceback" not in f.message


@pytest.mark.parametrize(
    "domain", [d for d in SCENARIOS if d.startswith(("mx-wrong", "ns-wrong", "mx-tc-then-wrong"))]
)
def test_spoofed_answers_are_never_taken(ran: Ran, domain: str) -> None:
    """A wrong-ID or wrong-question answer carried an Exchange Online MX (or another name's A): it must be
    dropped, not believed."""
    r = ran.results[domain]
    assert "MX_M365" not in {f.code for f in r.findings}
    assert not any("spoof" in s.record.value or "elsewhere" in s.record.name for s in r.records)


def test_an_answer_for_another_name_is_not_this_names(ran: Ran) -> None:
    r = ran.results["mx-unrelated-answer.com"]
    assert not any(s.record.name == "other.example" for s in r.records)
    assert any("does not answer the question" in f.message for f in r.findings)


def test_every_check_finished_within_the_bound(ran: Ran) -> None:
    silent = {d: e for d, e in ran.elapsed.items() if _silent(d)}
    assert len(silent) >= 13
    slow = {d: round(e, 2) for d, e in silent.items() if e > BOUND}
    assert not slow, f"over {BOUND:.2f} s: {slow}"
    # the silent ones really did wait for the deadline; a quick failure did not
    assert all(e >= TIMEOUT * 0.9 for e in silent.values()), silent
    assert ran.elapsed["mx-refused.com"] < ANSWERED_TIMEOUT / 2


def test_truncation_falls_back_to_tcp(ran: Ran) -> None:
    asked = ran.server.queries
    assert ("udp", "huge-txt.com", "TXT") in asked and ("tcp", "huge-txt.com", "TXT") in asked
    txts = [s for s in ran.results["huge-txt.com"].records if s.record.type == "TXT"]
    assert len(txts) == 41


def test_tcp_faults_were_reached_over_tcp(ran: Ran) -> None:
    asked = {(t, n) for t, n, _ in ran.server.queries}
    for d in ("mx-tc-then-garbage.com", "mx-tc-then-close.com", "mx-tc-then-wrong-id.com"):
        assert ("tcp", d) in asked, d


# ----------------------------------------------------------------------------------------- hostile TXT output


def _render(fmt: str, results: list[Result]) -> str:
    out = io.StringIO()
    f = get_format(fmt)(out, False)
    f.begin()
    summary = Summary()
    for r in results:
        summary.add(r)
        f.result(r)
    f.end(summary)
    return out.getvalue()


_RAW_CONTROLS = (
    {chr(c) for c in range(0x20) if chr(c) not in "\n"} | {chr(0x7F)} | {chr(c) for c in range(0x80, 0xA0)}
)
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def test_hostile_txt_is_kept_verbatim_in_the_data(ran: Ran) -> None:
    r = ran.results["hostile-txt.com"]
    (hostile,) = [s.record.value for s in r.records if s.record.type == "TXT" and "SAFE" in s.record.value]
    for piece in (
        "\x1b[2J",
        "\x08\r\nInjected: line",
        "\x00nul",
        "\u202eevil-rtl",
        "\x9bc1-csi",
        "\x07bell",
        "\ufffd",
    ):
        assert piece in hostile, piece  # undecodable bytes become U+FFFD, never a crash


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_hostile_txt_never_reaches_the_terminal_raw(ran: Ran, fmt: str) -> None:
    """Every format: no raw control or bidi character survives (JSON escapes them, the others clean them)."""
    text = _render(fmt, [ran.results["hostile-txt.com"], ran.results["mx-garbage.com"]])
    lines = text.replace("\r\n", "\n") if fmt == "csv" else text
    found = sorted({hex(ord(c)) for c in lines if c in _RAW_CONTROLS or c in _BIDI})
    assert not found, f"{fmt}: raw characters {found}"
    assert "Injected: line" not in text.split("\n")[0:1] or fmt in ("json", "jsonl")


def test_hostile_txt_in_the_explain_trace_is_cleaned(ran: Ran) -> None:
    text = _render("table", [ran.results["hostile-txt.com"]])
    assert "\\x1b[2J" in text  # shown, escaped
    assert "\\u202e" in text
    assert not any(line.startswith("Injected: line") for line in text.splitlines())


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_hostile_txt_round_trips_through_json(ran: Ran, fmt: str) -> None:
    r = ran.results["hostile-txt.com"]
    text = _render(fmt, [r])
    assert all(c == "\n" or ord(c) >= 0x20 for c in text)
    results = validate_output(text, fmt)
    values = [rec["value"] for rec in results[0]["records"] if rec["type"] == "TXT"]
    assert any("\x1b[2J" in v and "\u202e" in v for v in values)


# ------------------------------------------------------------------------------------ the installed command

DNSCHECK = shutil.which("dnscheck")
needs_cli = pytest.mark.skipif(DNSCHECK is None, reason="the dnscheck command is not installed")


def _run(args: list[str], timeout: float = 30) -> tuple[subprocess.CompletedProcess[str], float]:
    assert DNSCHECK is not None
    env = {**os.environ, "NO_COLOR": "1"}
    start = time.monotonic()
    p = subprocess.run([DNSCHECK, *args], capture_output=True, text=True, timeout=timeout, env=env)
    return p, time.monotonic() - start


@pytest.fixture(scope="module")
def startup() -> float:
    """How long the interpreter takes to start the command at all (measured, subtracted from wall times)."""
    if DNSCHECK is None:
        return 0.0
    _, t = _run(["--version"])
    return t


@needs_cli
def test_cli_time_bound_against_a_silent_server_probing_the_delegation(startup: float) -> None:
    """--mode auto (the default): the resolver never answers, so there is no zone and nothing to probe."""
    timeout = 0.6
    with FakeServer(fs.never) as srv:
        p, wall = _run(
            ["check", "contoso.com", "--resolver", srv.spec, "--timeout", str(timeout), "-f", "json"]
        )
    assert p.returncode == 3, p.stderr
    (result,) = validate_output(p.stdout, "json")
    assert result["verdict"] == "unknown"
    bound = timeout * 1.1 + 0.5
    assert result["elapsed_ms"] <= bound * 1000, result["elapsed_ms"]
    # the whole process: the check, plus starting Python and importing dnspython (slower than --version)
    assert wall <= bound + 3 * startup + 1.0, f"wall {wall:.2f} s, start-up {startup:.2f} s"


@needs_cli
def test_cli_batch_with_dead_and_dripping_domains_finishes_in_bounded_time(
    tmp_path: pytest.TempPathFactory, startup: float
) -> None:
    """Ten domains, one of which never answers and one that drips its answers: every line gets a result, each
    within its deadline, and the run takes one deadline, not one per dead domain."""
    # Long enough that a live domain answers well within it on a loaded 2-core machine (the fake server shares
    # the CPU with the check): the bounds below are relative to it.
    timeout = 1.5
    live = [f"live{i}.com" for i in range(8)]
    records: dict[str, list[str]] = dict(fs.NEW_MAIL)
    for d in live:
        records.update(healthy(d))
    data = Data(
        records,
        zones=(*live, "dead.com", "drip.com", fs.NEW_MAIL_ZONE),
        faults={("dead.com", "*"): fs.never, ("drip.com", "*"): fs.drip(0.2)},
    )
    inp = tmp_path / "domains.txt"  # type: ignore[operator]
    inp.write_text("\n".join([*live[:4], "dead.com", *live[4:], "drip.com"]) + "\n")
    with FakeServer(data) as srv:
        p, wall = _run(
            [
                "check",
                "--input",
                str(inp),
                "--resolver",
                srv.spec,
                "--timeout",
                str(timeout),
                "--mode",
                "resolver",
                "-f",
                "jsonl",
            ]
        )
    results = validate_output(p.stdout, "jsonl")
    assert sorted(r["domain"] for r in results) == sorted([*live, "dead.com", "drip.com"])
    by = {r["domain"]: r["verdict"] for r in results}
    assert by["dead.com"] == by["drip.com"] == "unknown" and all(by[d] == "safe" for d in live), by
    assert p.returncode == 3
    bound = timeout * 1.1 + 0.5
    assert all(r["elapsed_ms"] <= bound * 1000 for r in results), [r["elapsed_ms"] for r in results]
    # the whole process: the check, plus starting Python and importing dnspython (slower than --version)
    assert wall <= bound + 3 * startup + 1.0, f"wall {wall:.2f} s, start-up {startup:.2f} s"


@needs_cli
def test_cli_hostile_txt_table_with_explain(startup: float) -> None:
    data = Data(
        {**healthy("hostile-txt.com", txt=(HOSTILE_TXT,)), **fs.NEW_MAIL}, zones=("hostile-txt.com", fs.NEW_MAIL_ZONE)
    )
    with FakeServer(data) as srv:
        p, _ = _run(
            [
                "check",
                "hostile-txt.com",
                "--resolver",
                srv.spec,
                "--timeout",
                "3",
                "--mode",
                "resolver",
                "--explain",
                "--color",
                "always",
            ]
        )
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    # colour codes are ours (SGR for the verdict); none of the TXT's escapes came through raw
    stripped = __import__("re").sub(r"\x1b\[[0-9;]*m", "", out)
    assert not [c for c in stripped if c in _RAW_CONTROLS or c in _BIDI]
    assert "\\x1b[2J" in out and "2J" not in stripped.replace("\\x1b[2J", "")
    assert not any(line.startswith("Injected: line") for line in out.splitlines())


def test_the_fake_server_never_answers_garbage_queries() -> None:
    """Sanity for the fixture itself: a non-DNS datagram gets no reply, and the server keeps serving."""
    import socket

    data = Data(healthy("sanity.com"), zones=("sanity.com",))
    with no_offsite_packets(), FakeServer(data) as srv:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.3)
        s.sendto(b"\xff" * 7, srv.address)
        with pytest.raises(TimeoutError):
            s.recvfrom(4096)
        q = dns.message.make_query("sanity.com", "MX")
        s.sendto(q.to_wire(), srv.address)
        reply = dns.message.from_wire(s.recvfrom(4096)[0])
        s.close()
    assert reply.id == q.id and reply.answer


def test_offsite_guard_refuses_packets_off_the_machine() -> None:
    import socket

    with no_offsite_packets():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            with pytest.raises(fs.OffsiteTraffic):
                s.sendto(b"x", ("192.0.2.1", 53))
            with pytest.raises(fs.OffsiteTraffic):
                s.connect(("198.51.100.1", 53))
        finally:
            s.close()
        with pytest.raises(fs.OffsiteTraffic):
            socket.getaddrinfo("example.com", 53)
    assert sys.audit is not None
    _ = json  # keep the import for readers running snippets from here
