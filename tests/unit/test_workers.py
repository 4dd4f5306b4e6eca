"""--workers and --shard: several processes over one input, results merged back in input order (or streamed),
memory bounded by the window, a dead worker's lines still answered; shards that partition any input. A fake
source (no DNS): the workers are forked, so they inherit it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from dnscheck.app import worker_setup
from dnscheck.settings import CheckSettings, DnsSettings, Mode, default_workers
from dnscheck.shard import Shard, slice_of
from dnscheck.workers import Pool, share


@pytest.fixture
def fake_source(monkeypatch: pytest.MonkeyPatch) -> None:
    """MX and NS for every registered domain, answered after a random short delay, so that results complete
    out of order; a domain named die* kills its worker process."""
    import asyncio

    import dnscheck.app as app

    class Source:
        label = "fake"
        recursive = False

        def covers(self, name: str) -> bool:
            return True

        async def lookup(self, name: str, rdtype: str) -> object:
            from dnscheck.models import Answered, Record

            if name.startswith("die"):
                os._exit(9)
            await asyncio.sleep(random.random() * 0.01)
            if rdtype == "A" and name == "mx.example.net":  # the MX host has an address: mail can flow
                return Answered(name, rdtype, (Record(name, "A", "192.0.2.25", 300),))
            if rdtype in ("MX", "NS") and name.count(".") == 1:
                value = "10 mx.example.net" if rdtype == "MX" else "ns1.example.net"
                return Answered(name, rdtype, (Record(name, rdtype, value, 300, value.split()[-1]),))
            return Answered(name, rdtype, ())

    monkeypatch.setattr(app, "build_source", lambda *a, **k: Source())


def _settings(concurrency: int = 10) -> CheckSettings:
    return CheckSettings(dns=DnsSettings(mode=Mode.RESOLVER, timeout=5, concurrency=concurrency))


def _cli(args: list[str], stdin: bytes | None = None) -> tuple[int, str]:
    from dnscheck.cli import cli

    r = CliRunner().invoke(cli, args, input=stdin)
    return r.exit_code, r.stdout


# --- shards ---------------------------------------------------------------------------------------------------


def test_shard_parse_and_errors() -> None:
    assert Shard.parse("2/8") == Shard(2, 8) and str(Shard.parse(" 1 / 1 ")) == "1/1"
    for bad in ("0/3", "4/3", "1/0", "x", "1/", "-1/2", "1.5/3"):
        with pytest.raises(ValueError):
            Shard.parse(bad)


def test_shards_partition_any_input_whatever_its_order() -> None:
    lines = [f"d{i}.com" for i in range(3000)] + ["not a domain", "\udcff.com", "1.2.3.4"]
    for n in (1, 2, 3, 7):
        parts = [list(Shard(k, n).select(lines)) for k in range(1, n + 1)]
        assert sorted(x for p in parts for x in p) == sorted(lines)  # each line in exactly one shard
        shuffled = random.Random(n).sample(lines, len(lines))
        assert [set(Shard(k, n).select(shuffled)) for k in range(1, n + 1)] == [set(p) for p in parts]
        if n > 1:
            assert min(map(len, parts)) > 0.8 * len(lines) / n  # balanced, on average


def test_shard_of_a_line_is_stable_across_runs_and_spellings() -> None:
    # Fixed values: a change of hash would move every domain to another host between two versions.
    assert [slice_of(f"d{i}.com", 8) for i in range(8)] == [
        slice_of(f"D{i}.COM.", 8) for i in range(8)
    ]
    assert slice_of("contoso.com", 8) == _blake_slice("contoso.com", 8)


def _blake_slice(text: str, n: int) -> int:
    import hashlib

    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") % n + 1


def test_cli_shards_together_give_every_line_once(fake_source: None) -> None:
    names = [f"d{i}.com" for i in range(40)] + ["not a domain"]
    stdin = ("\n".join(names) + "\n").encode()
    got: list[str] = []
    for k in (1, 2, 3):
        rc, out = _cli(["check", "--mode", "resolver", "-i", "-", "-f", "jsonl", "--shard", f"{k}/3"], stdin)
        got += [json.loads(x)["input"] for x in out.splitlines()]
    assert sorted(got) == sorted(names)


@pytest.mark.parametrize("bad", [["--shard", "4/3"], ["--shard", "x"], ["--workers", "0"]])
def test_bad_fleet_options_are_usage_errors(bad: list[str]) -> None:
    rc, out = _cli(["check", "contoso.com", *bad])
    assert rc == 64 and out == ""


# --- workers --------------------------------------------------------------------------------------------------


def test_default_workers_and_shares() -> None:
    assert default_workers(1) == 1 and default_workers(0) == 1
    assert 1 <= default_workers(None) <= (os.cpu_count() or 1)
    part = share(_settings(concurrency=50), 3)
    assert part.dns.concurrency == 17 and part.dns.per_server == 67 and part.workers == 1


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_workers_keep_input_order(fmt: str, fake_source: None) -> None:
    names = [f"d{i}.com" for i in range(80)]
    stdin = ("\n".join(names) + "\n").encode()
    rc, one = _cli(["check", "--mode", "resolver", "-i", "-", "-f", fmt, "--workers", "1"], stdin)
    rc3, three = _cli(["check", "--mode", "resolver", "-i", "-", "-f", fmt, "--workers", "3"], stdin)
    assert rc == rc3 == 0
    if fmt == "json":  # the same report but for the times
        one, three = ([r["input"] for r in json.loads(x)["results"]] for x in (one, three))  # type: ignore[misc]
        assert one == names
    if fmt != "table":
        assert one == three


def test_workers_stream_jsonl_one_result_per_line(fake_source: None) -> None:
    names = [f"d{i % 50}.com" for i in range(200)] + ["not a domain"] * 3
    rc, out = _cli(
        ["check", "--mode", "resolver", "-i", "-", "-f", "jsonl", "--workers", "2"], ("\n".join(names)).encode()
    )
    results = [json.loads(x) for x in out.splitlines()]
    assert sorted(r["input"] for r in results) == sorted(names) and rc == 3


def test_pool_reads_no_further_than_its_window(fake_source: None) -> None:
    read = 0

    def lines() -> Iterator[str]:
        nonlocal read
        for i in range(500):
            read += 1
            yield f"d{i}.com"

    pool = Pool(_settings(), 2, worker_setup, window=16)
    handed = 0
    for _ in pool.results(lines()):
        handed += 1
        assert read <= handed + 16 + 1
    assert handed == 500


def test_a_dead_worker_s_lines_are_answered_unknown_and_the_others_go_on(fake_source: None) -> None:
    names = [f"d{i}.com" for i in range(30)] + ["die.com"] + [f"e{i}.com" for i in range(30)]
    results = list(Pool(_settings(), 2, worker_setup).results(iter(names)))
    assert [r.input for r in results] == names  # one each, in order
    lost = [r for r in results if r.verdict.value == "unknown"]
    assert any(r.domain == "die.com" for r in lost)
    assert all("ended unexpectedly" in r.findings[0].arguments["reason"] for r in lost)
    assert len(lost) < len(names)  # the other worker kept checking


def test_no_worker_left_every_line_still_answered(fake_source: None) -> None:
    names = ["die1.com", "die2.com"] + [f"d{i}.com" for i in range(20)]
    results = list(Pool(_settings(), 2, worker_setup, window=4).results(iter(names)))
    assert [r.input for r in results] == names
    assert all(r.verdict.value == "unknown" for r in results[:2])


def test_an_input_that_fails_midway_is_raised_after_the_results_read(fake_source: None) -> None:
    def lines() -> Iterator[str]:
        yield "a.com"
        yield "b.com"
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for r in Pool(_settings(), 2, worker_setup).results(lines()):
            got.append(r.input)
    assert got == ["a.com", "b.com"]


def test_a_worker_stops_when_its_parent_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from dnscheck import workers

    r, w = multiprocessing.Pipe(duplex=False)
    w.send((0, "a.com"))
    monkeypatch.setattr(workers, "POLL_S", 0.01)
    assert list(workers._received(r, parent=os.getppid() + 1)) == [(0, "a.com")]


def test_settings_are_plain_data_for_the_workers() -> None:
    s = dataclasses.replace(_settings(), shard=Shard(1, 2), workers=4)
    import pickle

    assert pickle.loads(pickle.dumps(s)) == s
