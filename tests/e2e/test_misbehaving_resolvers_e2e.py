"""A fleet against resolvers that misbehave as public ones do under load: dnsdist in front of the lab's Unbound,
one dropping what exceeds 300 queries a second (a rate limit), one dropping 30% of queries at random. At the
default options every domain gets the verdict its zone gives (the only `unknown` are the domains that do not
exist), and the run says what the resolver did, on stderr and in the JSON summary. `--workers` and `--shard`
against the lab too. (How fast, against the limit's own time: bench/misbehaving.py, docs/performance.md.)
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest

from bench.fleetlab import EXPECTED, domain_of, kind_of, zone_text
from tests.lab import LOSSY, MAX_QPS, Lab
from tests.schema import validate_output

N = 1000  # the size: 0 unknown the world did not cause, on 1,000 domains at the default options
FRONTS = {
    "ratelimited": ([MAX_QPS.format(qps=300)], 5391),
    "lossy": ([LOSSY.format(share=0.3)], 5392),
}


@pytest.fixture(scope="module")
def fleet(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    zones = {domain_of(i): t for i in range(N) if (t := zone_text(i)) is not None}
    lab.set_zones("newdns", zones, timeout=60)
    path = str(tmp_path_factory.mktemp("fleet") / "domains.txt")
    with open(path, "w") as f:
        f.write("\n".join(domain_of(i) for i in range(N)) + "\n")
    return path, {domain_of(i): EXPECTED[kind_of(i)] for i in range(N)}


@pytest.mark.parametrize("front", list(FRONTS))
def test_no_unknown_the_world_did_not_cause(lab: Lab, dnscheck: object, fleet: tuple[str, dict[str, str]],
                                            front: str) -> None:
    rules, port = FRONTS[front]
    address = lab.misbehaving_resolver(front, rules, port)
    lab.flush()  # a cold cache: every domain costs the resolver its full recursion
    path, expected = fleet
    run = dnscheck("check", "-i", path, "-f", "json", "--resolver", address, resolver=False,  # type: ignore[operator]
                   timeout=300)
    assert run.rc in (2, 3), run
    results = validate_output(run.stdout, "json")
    got = {r["input"]: r["verdict"] for r in results}
    wrong = {d: (got.get(d), want) for d, want in expected.items() if got.get(d) != want}
    why = [(r["input"], r["elapsed_ms"], [f["message"] for f in r["findings"] if f["severity"] == "unknown"][:3])
           for r in results if r["input"] in wrong][:3]
    assert not wrong, f"{len(wrong)} wrong, e.g. {why}\n{run.stderr[-2000:]}"
    summary = json.loads(run.stdout)["summary"]
    (counts,) = summary["resolvers"]
    assert counts["resolver"] == address and counts["unanswered_then_answered"] > 0  # it dropped queries
    assert summary["diagnostics"] and all(f"dnscheck: {d}" in run.stderr for d in summary["diagnostics"])
    assert f"resolver {address} left" in run.stderr


def test_overloaded_domains_say_so(lab: Lab, dnscheck: object, fleet: tuple[str, dict[str, str]]) -> None:
    """A resolver that drops 90%, with a deadline too short to get through: the domains that end unknown say it
    was the resolver, and what to do."""
    address = lab.misbehaving_resolver("drop90", [LOSSY.format(share=0.9)], 5393)
    names = [domain_of(i) for i in range(20) if kind_of(i) != "nxdomain"]
    run = dnscheck("check", *names, "-f", "jsonl", "--mode", "resolver", "--timeout", "1.5",  # type: ignore[operator]
                   "--resolver", address, resolver=False)
    results = validate_output(run.stdout, "jsonl")
    unknown = [r for r in results if r["verdict"] == "unknown"]
    assert unknown, run
    for r in unknown:
        over = [f for f in r["findings"] if f["code"] == "LOOKUP_FAILED" and "overloaded" in f["message"]]
        assert over and "--rate" in over[0]["remediation"], r["findings"]


def test_workers_and_shards_against_the_lab(dnscheck: object, fleet: tuple[str, dict[str, str]],
                                            tmp_path: os.PathLike[str]) -> None:
    path, expected = fleet
    one = dnscheck("check", "-i", path, "-f", "json", "--workers", "1")  # type: ignore[operator]
    two = dnscheck("check", "-i", path, "-f", "json", "--workers", "2")  # type: ignore[operator]
    assert [r["input"] for r in json.loads(one.stdout)["results"]] == list(expected)
    assert [(r["input"], r["verdict"]) for r in json.loads(two.stdout)["results"]] == [
        (r["input"], r["verdict"]) for r in json.loads(one.stdout)["results"]]
    parts = [dnscheck("check", "-i", path, "-f", "jsonl", "--shard", f"{k}/3") for k in (1, 2, 3)]  # type: ignore[operator]
    merged = [json.loads(line) for p in parts for line in p.stdout.splitlines()]
    assert Counter(r["input"] for r in merged) == Counter(expected.keys())
    assert {r["input"]: r["verdict"] for r in merged} == expected
