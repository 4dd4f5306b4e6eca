"""The batch runner: one result per line, duplicates checked once, order kept or streamed, memory bounded,
a slow input never stalling the checks; and the per-server query limit. Fake check functions: no DNS.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import threading
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from dnscheck.models import Result, Verdict
from dnscheck.normalise import Target
from dnscheck.runner import Runner, read_in_thread


def ok(target: Target, verdict: Verdict = Verdict.SAFE) -> Result:
    return Result(target.input, target.domain, target.registered_domain, verdict, None, ())


class FakeCheck:
    """Counts calls per domain; a domain's delay and outcome are chosen by its first label."""

    def __init__(self, delays: dict[str, float] | None = None) -> None:
        self.calls: dict[str, int] = {}
        self.delays = delays or {}
        self.inflight = 0
        self.peak = 0

    async def __call__(self, target: Target) -> Result:
        self.calls[target.domain] = self.calls.get(target.domain, 0) + 1
        self.inflight += 1
        self.peak = max(self.peak, self.inflight)
        try:
            await asyncio.sleep(self.delays.get(target.domain, 0.001))
            if target.domain.startswith("crash"):
                raise RuntimeError("boom")
            return ok(target, Verdict.BLOCKED if target.domain.startswith("m365") else Verdict.SAFE)
        finally:
            self.inflight -= 1


def collect(lines: object, check: FakeCheck, ordered: bool = True, concurrency: int = 10,
            window: int | None = None) -> list[Result]:
    async def go() -> list[Result]:
        runner = Runner(check, concurrency, window)
        return [r async for r in runner.run(lines, ordered=ordered)]  # type: ignore[arg-type]

    return asyncio.run(go())


def test_duplicates_are_checked_once_and_answered_on_every_line() -> None:
    check = FakeCheck()
    lines = ["contoso.com", "CONTOSO.COM", "fabrikam.com", "https://contoso.com/owa", "admin@contoso.com."]
    results = collect(lines, check)
    assert [r.input for r in results] == lines  # each line keeps its own input text
    assert [r.domain for r in results] == ["contoso.com", "contoso.com", "fabrikam.com", "contoso.com",
                                           "contoso.com"]
    assert check.calls == {"contoso.com": 1, "fabrikam.com": 1}


def test_a_duplicate_in_flight_shares_the_running_check() -> None:
    check = FakeCheck({"slow.com": 0.05})
    results = collect(["slow.com"] * 20, check)
    assert len(results) == 20 and check.calls == {"slow.com": 1}


def test_invalid_lines_become_input_invalid_results() -> None:
    check = FakeCheck()
    lines = ["not a domain", "contoso.com", "com", "1.2.3.4", "a..b.com", "x" * 2000]
    results = collect(lines, check)
    assert len(results) == len(lines)
    assert [r.domain for r in results] == [None, "contoso.com", None, None, None, None]
    for r in (results[0], *results[2:]):
        assert r.verdict is Verdict.UNKNOWN
        assert [f.code for f in r.findings] == ["INPUT_INVALID"]
    assert len(results[-1].input) < 300  # a huge line is echoed back cut short
    assert check.calls == {"contoso.com": 1}


def test_a_crashing_check_is_one_unknown_result_and_the_others_go_on() -> None:
    results = collect(["a.com", "crash.com", "b.com"], FakeCheck())
    assert [r.verdict for r in results] == [Verdict.SAFE, Verdict.UNKNOWN, Verdict.SAFE]
    assert "boom" in results[1].findings[0].message


def test_a_normaliser_crash_is_one_invalid_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import dnscheck.runner as runner_mod

    real = runner_mod.normalise

    def flaky(raw: str) -> object:
        if raw == "explode.com":
            raise ValueError("tables missing")
        return real(raw)

    monkeypatch.setattr(runner_mod, "normalise", flaky)
    results = collect(["a.com", "explode.com", "b.com"], FakeCheck())
    assert [r.findings[0].code if r.findings else None for r in results] == [None, "INPUT_INVALID", None]
    assert "tables missing" in results[1].findings[0].message


def test_ordered_mode_keeps_input_order_whatever_the_timing() -> None:
    rng = random.Random(4)
    names = [f"d{i}.com" for i in range(300)]
    check = FakeCheck({n: rng.uniform(0, 0.01) for n in names})
    results = collect(names, check, ordered=True, concurrency=40, window=64)
    assert [r.domain for r in results] == names


def test_unordered_mode_streams_in_completion_order() -> None:
    check = FakeCheck({"slow.com": 0.2, "fast.com": 0.0})
    results = collect(["slow.com", "fast.com", "fast2.com"], check, ordered=False)
    assert [r.domain for r in results][-1] == "slow.com"
    assert {r.domain for r in results} == {"slow.com", "fast.com", "fast2.com"}


def test_concurrency_is_bounded() -> None:
    check = FakeCheck({f"d{i}.com": 0.005 for i in range(200)})
    collect([f"d{i}.com" for i in range(200)], check, concurrency=7)
    assert check.peak == 7


@pytest.mark.parametrize("ordered", [True, False])
def test_input_is_read_at_most_a_window_ahead(ordered: bool) -> None:
    """Constant memory: lines are pulled only as results are handed over."""
    read = 0
    handed = 0
    ahead = 0

    def lines() -> Iterator[str]:
        nonlocal read
        for i in range(2000):
            read += 1
            yield f"d{i}.com"

    async def go() -> None:
        nonlocal handed, ahead
        runner = Runner(FakeCheck(), concurrency=8, window=32)
        async for _ in runner.run(lines(), ordered=ordered):
            handed += 1
            ahead = max(ahead, read - handed)

    asyncio.run(go())
    assert handed == 2000
    assert ahead <= 32 + 1


def test_one_slow_domain_does_not_stop_the_others_in_ordered_mode() -> None:
    """Head-of-line: while the first domain hangs, the window keeps the others checked."""
    names = ["slow.com"] + [f"d{i}.com" for i in range(100)]
    check = FakeCheck({"slow.com": 0.3})
    start = time.monotonic()
    results = collect(names, check, concurrency=10, window=200)
    assert [r.domain for r in results] == names
    assert time.monotonic() - start < 0.6  # the 100 others were done while slow.com waited


def test_the_dedupe_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import dnscheck.runner as runner_mod

    monkeypatch.setattr(runner_mod, "CACHE_SIZE", 10)
    check = FakeCheck()
    names = [f"d{i}.com" for i in range(50)]

    async def go() -> Runner:
        runner = Runner(check, 4)
        async for _ in runner.run(names + names[-5:]):
            pass
        return runner

    runner = asyncio.run(go())
    assert len(runner._done) == 10
    assert all(check.calls[n] == 1 for n in names)  # the recent duplicates came from the cache


# --- reading the input --------------------------------------------------------------------------------------

def test_read_in_thread_keeps_every_line_in_order() -> None:
    async def go() -> list[str]:
        return [x async for x in read_in_thread(iter([f"l{i}" for i in range(5000)]), high_water=64)]

    assert asyncio.run(go()) == [f"l{i}" for i in range(5000)]


def test_a_slow_input_does_not_stall_checks_in_flight() -> None:
    """`producer | dnscheck check -i - -f jsonl`: the first answer comes before the next line does."""
    second_line = threading.Event()

    def slow_lines() -> Iterator[str]:
        yield "first.com"
        second_line.wait(5)  # blocks this thread, as a read on a quiet pipe would
        yield "second.com"

    async def go() -> list[str]:
        seen = []
        runner = Runner(FakeCheck(), 4)
        async for r in runner.run(read_in_thread(slow_lines()), ordered=False):
            seen.append(r.domain)
            second_line.set()
        return seen

    start = time.monotonic()
    assert asyncio.run(go()) == ["first.com", "second.com"]
    assert time.monotonic() - start < 2


def test_an_input_error_is_raised_after_the_lines_before_it() -> None:
    def broken() -> Iterator[str]:
        yield "a.com"
        yield "b.com"
        raise OSError("disk on fire")

    async def go() -> list[str]:
        seen: list[str] = []
        runner = Runner(FakeCheck(), 4)
        with pytest.raises(OSError, match="disk on fire"):
            async for r in runner.run(read_in_thread(broken())):
                seen.append(r.domain or "")
        return seen

    assert asyncio.run(go()) == ["a.com", "b.com"]


# --- the CLI's --input --------------------------------------------------------------------------------------

def _cli(args: list[str], stdin: bytes | None = None) -> tuple[int, str]:
    from dnscheck.cli import cli

    r = CliRunner().invoke(cli, args, input=stdin)
    return r.exit_code, r.stdout


ZONE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "m365.zone")


@pytest.fixture
def fake_source(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every domain answered from fixtures/m365.zone's records, moved to that domain: no DNS."""
    import dnscheck.app as app

    class Source:
        label = "fake"
        recursive = False

        def covers(self, name: str) -> bool:
            return True

        async def lookup(self, name: str, rdtype: str) -> object:
            from dnscheck.models import Answered, Record

            if name.startswith("dead"):
                from dnscheck.models import Undetermined

                return Undetermined(name, rdtype, "timed out")
            if rdtype == "A" and name == "mx.example.net":  # the MX host has an address: mail can flow
                return Answered(name, rdtype, (Record(name, "A", "192.0.2.25", 300),))
            if rdtype in ("MX", "NS") and name.count(".") == 1:
                value = "10 mx.example.net" if rdtype == "MX" else "ns1.example.net"
                return Answered(name, rdtype, (Record(name, rdtype, value, 300, value.split()[-1]),))
            return Answered(name, rdtype, ())

    monkeypatch.setattr(app, "build_source", lambda *a, **k: Source())


def test_input_file_comments_blanks_duplicates_invalid_and_binary(tmp_path: os.PathLike[str],
                                                                  fake_source: None) -> None:
    path = os.path.join(tmp_path, "domains.txt")
    raw = (b"# a list\n\ncontoso.com\nfabrikam.com  # trailing comment\ncontoso.com\n"
           b"\xff\xfe\x00binary\nnot a domain\n   \ndead.com\n\xc3\x28.com\nbooks.example.org")
    with open(path, "wb") as f:
        f.write(raw)
    rc, out = _cli(["check", "--mode", "resolver", "-i", path, "-f", "jsonl"])
    results = [json.loads(x) for x in out.splitlines()]
    assert sorted(r["input"] for r in results) == sorted([
        "contoso.com", "fabrikam.com", "contoso.com", "\\xff\\xfe\x00binary", "not a domain", "dead.com",
        "\\xc3(.com", "books.example.org"])
    invalid = [r for r in results if r["domain"] is None]
    assert len(invalid) == 3 and all(r["findings"][0]["code"] == "INPUT_INVALID" for r in invalid)
    assert rc == 3  # unknown: the invalid and dead lines


def test_a_binary_file_gives_one_invalid_result_per_line(tmp_path: os.PathLike[str],
                                                         fake_source: None) -> None:
    path = os.path.join(tmp_path, "blob.bin")
    data = bytes(random.Random(1).randrange(256) for _ in range(4000))
    with open(path, "wb") as f:
        f.write(data)
    expected = 0
    for line in data.split(b"\n"):
        text = line.decode("utf-8", "surrogateescape")
        if not text.lstrip().startswith("#") and text.split(" #", 1)[0].strip():
            expected += 1
    rc, out = _cli(["check", "--mode", "resolver", "-i", path, "-f", "json"])
    doc = json.loads(out)
    assert len(doc["results"]) == expected > 0
    assert all(r["verdict"] == "unknown" for r in doc["results"])
    assert rc == 3


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_ordered_formats_keep_input_order(fmt: str, fake_source: None) -> None:
    names = [f"d{i}.example.com" for i in range(60)]
    rc, out = _cli(["check", "--mode", "resolver", "-i", "-", "-f", fmt], ("\n".join(names) + "\n").encode())
    if fmt == "json":
        got = [r["input"] for r in json.loads(out)["results"]]
    else:
        import csv
        import io

        # one row per finding: a domain's rows are consecutive
        got = list(dict.fromkeys(row["input"] for row in csv.DictReader(io.StringIO(out, newline=""))))
    assert got == names


def test_an_unreadable_input_is_a_usage_error_before_any_output(tmp_path: os.PathLike[str]) -> None:
    rc, out = _cli(["check", "-i", os.path.join(tmp_path, "missing.txt"), "-f", "json"])
    assert rc == 64 and out == ""


# --- per-server limit ---------------------------------------------------------------------------------------

def test_per_server_limit_caps_queries_in_flight_to_one_address(monkeypatch: pytest.MonkeyPatch) -> None:
    import dns.message
    import dns.nameserver

    from dnscheck.collect.resolver import LimitedNameserver, ServerLimit

    inflight: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def fake_query(self: dns.nameserver.Do53Nameserver, *args: object, **kwargs: object) -> str:
        inflight[self.address] = inflight.get(self.address, 0) + 1
        peak[self.address] = max(peak.get(self.address, 0), inflight[self.address])
        await asyncio.sleep(0.002)
        inflight[self.address] -= 1
        return "answer"

    monkeypatch.setattr(dns.nameserver.Do53Nameserver, "async_query", fake_query)
    limit = ServerLimit(5)
    # Two nameserver objects for the same address share its budget; another address has its own.
    a1, a2 = LimitedNameserver("192.0.2.1", 53, limit), LimitedNameserver("192.0.2.1", 5353, limit)
    b = LimitedNameserver("192.0.2.2", 53, limit)
    req = dns.message.make_query("example.com", "A")

    async def go() -> None:
        await asyncio.gather(*(ns.async_query(req, 1.0, None, 0, False, None)
                               for ns in [a1, a2, b] * 40))

    asyncio.run(go())
    assert peak == {"192.0.2.1": 5, "192.0.2.2": 5}


def test_make_resolver_limits_every_plain_nameserver() -> None:
    from dnscheck.collect.resolver import LimitedNameserver, ServerLimit, make_resolver

    limit = ServerLimit(3)
    r = make_resolver([("127.0.0.1", 5300), ("::1", 53)], 2.0, limit, paced=False)
    assert all(isinstance(ns, LimitedNameserver) and ns._limit is limit for ns in r.nameservers)


def test_make_resolver_paces_every_resolver_up_to_the_per_server_ceiling() -> None:
    from dnscheck.collect.paced import PacedGroup
    from dnscheck.collect.resolver import ServerLimit, make_resolver

    r = make_resolver([("127.0.0.1", 5300), ("::1", 53)], 2.0, ServerLimit(3), rate=40)
    (group,) = r.nameservers
    assert isinstance(group, PacedGroup)
    assert [(str(u), u.ceiling, u.hard_rate) for u in group.upstreams] == [
        ("127.0.0.1:5300", 3, 40), ("[::1]:53", 3, 40)]


def test_per_server_option_reaches_the_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    import dnscheck.collect.resolver as res

    seen = {}
    real = res.make_resolver

    def spy(servers: object, timeout: float, limit: object = None, rate: object = None, **kw: object) -> object:
        seen["n"] = limit.n if limit is not None else None  # type: ignore[attr-defined]
        return real(servers, timeout, limit, rate, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(res, "make_resolver", spy)
    rc, _ = _cli(["check", "not a domain", "--resolver", "127.0.0.1:9", "--per-server", "17", "-f", "json"])
    assert rc == 3 and seen["n"] == 17
