"""`dnscheck watch`: the loop with a fake check, clock and sleep; the diff of what each server said; the state
file; durations; and the command wired to a zone file instead of DNS.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from dnscheck.models import (
    Answered,
    Delegation,
    Finding,
    Lookup,
    Record,
    Result,
    SeenRecord,
    ServerView,
    Severity,
    Ttls,
    Undetermined,
    Verdict,
)
from dnscheck.normalise import Target
from dnscheck.watch import Event, WatchState, observe, parse_duration, reached, views, watch

ZONE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "m365.zone")
T0 = 1_800_000_000.0
OLD_MX = Record("contoso.com", "MX", "0 contoso-com.mail.protection.outlook.com", 3600)
NEW_MX = Record("contoso.com", "MX", "10 mx.newhost.net", 300)
SPF = Record("contoso.com", "TXT", "v=spf1 include:spf.protection.outlook.com -all", 3600)


def res(verdict: Verdict, *records: Record, findings: tuple[Finding, ...] = (), domain: str = "contoso.com",
        **typed: Any) -> Result:
    return Result(domain, domain, domain, verdict, None, findings,
                  tuple(SeenRecord(r, False) for r in records), **typed)


def f(code: str, sev: Severity, record: Record | None = None) -> Finding:
    return Finding(code, sev, (), record)


BLOCKED = res(Verdict.BLOCKED, OLD_MX, SPF, findings=(f("MX_M365", Severity.BLOCKED, OLD_MX),
                                                      f("SPF_M365", Severity.WARNING, SPF)))
WARNING = res(Verdict.WARNING, NEW_MX, SPF, findings=(f("SPF_M365", Severity.WARNING, SPF),))
SAFE = res(Verdict.SAFE, NEW_MX)


class Fake:
    """A scripted world: each round's results, a clock that only moves when slept."""

    def __init__(self, rounds: list[list[Result]]) -> None:
        self.rounds = rounds
        self.round = 0
        self.now = T0
        self.slept: list[float] = []
        self.events: list[Event] = []

    async def check_all(self, targets: list[Target]) -> list[Result]:
        results = self.rounds[min(self.round, len(self.rounds) - 1)]
        self.round += 1
        self.now += 2  # a round takes a little time
        return results

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def run(self, until: Verdict = Verdict.SAFE, interval: float = 60, max_wait: float = 3600,
            state: WatchState | None = None) -> Verdict:
        targets = [Target("contoso.com", "contoso.com", "contoso.com")]
        return asyncio.run(watch(targets, self.check_all, until=until, interval=interval, max_wait=max_wait,
                                 state=state or WatchState(), emit=self.events.append, clock=self.clock,
                                 sleep=self.sleep))

    def lines(self) -> list[str]:
        return [e.text for e in self.events]


# --- durations ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "seconds"), [
    ("30", 30), ("30s", 30), ("5m", 300), ("6h", 21600), ("1d", 86400), ("1h30m", 5400), ("1.5h", 5400),
    (" 2m 10s ", 130), ("0", 0), ("6H", 21600)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "5x", "-5m", "5m-", "five"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_until_ladder() -> None:
    assert reached(Verdict.SAFE, Verdict.SAFE) and reached(Verdict.SAFE, Verdict.WARNING)
    assert reached(Verdict.WARNING, Verdict.WARNING) and not reached(Verdict.WARNING, Verdict.SAFE)
    assert not reached(Verdict.UNKNOWN, Verdict.WARNING) and not reached(Verdict.BLOCKED, Verdict.WARNING)


# --- the loop -----------------------------------------------------------------------------------------------

def test_watch_reports_each_change_and_stops_when_safe() -> None:
    fake = Fake([[BLOCKED], [BLOCKED], [WARNING], [SAFE]])
    assert fake.run(max_wait=3 * 3600) is Verdict.SAFE
    lines = fake.lines()
    assert lines[0] == "contoso.com: blocked (MX_M365, SPF_M365)"
    assert "contoso.com: blocked -> warning (SPF_M365)" in lines
    assert ("contoso.com: MX contoso.com on resolver: 0 contoso-com.mail.protection.outlook.com -> "
            "10 mx.newhost.net") in lines
    assert "contoso.com: warning -> safe" in lines
    assert any(t.startswith("contoso.com: TXT contoso.com on resolver: removed (was v=spf1") for t in lines)
    assert fake.events[-1].kind == "done"
    # Safe only once caches can no longer hold the removed SPF record (its TTL, 3600 s, after it was seen gone).
    txt_gone = next(e.at for e in fake.events if e.kind == "record" and "TXT" in e.text)
    assert fake.events[-1].at >= txt_gone + 3600 and set(fake.slept) == {60}
    # The unchanged second round printed nothing.
    kinds = [e.kind for e in fake.events]
    assert kinds.count("record") == 2 and kinds.count("verdict") == 2 and kinds.count("cache") == 1


def test_watch_until_warning_stops_at_warning_and_exits_like_check() -> None:
    fake = Fake([[BLOCKED], [WARNING], [SAFE]])
    assert fake.run(until=Verdict.WARNING) is Verdict.WARNING
    assert fake.round == 2
    assert Verdict.WARNING.exit_code == 1


def test_watch_gives_up_after_max_wait_with_the_worst_verdict() -> None:
    fake = Fake([[BLOCKED]])
    assert fake.run(interval=60, max_wait=150) is Verdict.BLOCKED
    # Rounds take 2 s: the last sleep ends at the deadline, then a last round.
    assert fake.slept == [60, 60, 24]
    assert fake.events[-1].kind == "timeout"
    assert "still contoso.com blocked" in fake.events[-1].text


def test_watch_with_zero_max_wait_checks_once() -> None:
    fake = Fake([[SAFE]])
    assert fake.run(max_wait=0) is Verdict.SAFE and fake.round == 1
    fake = Fake([[BLOCKED]])
    assert fake.run(max_wait=0) is Verdict.BLOCKED and fake.slept == []


def test_all_domains_must_reach_the_target_in_the_same_round() -> None:
    other_safe = res(Verdict.SAFE, domain="fabrikam.com")
    other_blocked = res(Verdict.BLOCKED, domain="fabrikam.com")
    fake = Fake([[SAFE, other_blocked], [SAFE, other_safe]])
    assert fake.run() is Verdict.SAFE and fake.round == 2


def test_a_failed_lookup_is_not_a_removed_record() -> None:
    failed = res(Verdict.UNKNOWN, SPF, findings=(
        f("LOOKUP_FAILED", Severity.UNKNOWN, Record("contoso.com", "MX", "")),))
    fake = Fake([[BLOCKED], [failed], [BLOCKED]])
    fake.run(max_wait=120)
    records = [e.text for e in fake.events if e.kind == "record"]
    assert records == []
    assert "contoso.com: blocked -> unknown (LOOKUP_FAILED)" in fake.lines()


def test_a_crashed_check_changes_no_record() -> None:
    crashed = res(Verdict.UNKNOWN, findings=(f("LOOKUP_FAILED", Severity.UNKNOWN),), complete=False)
    fake = Fake([[BLOCKED], [crashed], [BLOCKED]])
    fake.run(max_wait=120)
    assert [e.kind for e in fake.events] == ["start", "verdict", "verdict", "timeout"]


def _delegation(mx_on_a: str, mx_on_b: str, *others: Lookup) -> dict[str, Any]:
    def server(name: str, address: str, mx: str) -> ServerView:
        soa = Answered("contoso.com", "SOA", (Record("contoso.com", "SOA", "ns1 h 1 2 3 4 5", 3600),), aa=True)
        return ServerView(name, address, soa, Answered("contoso.com", "NS"),
                          Answered("contoso.com", "MX", (Record("contoso.com", "MX", mx, 3600),), aa=True),
                          (Undetermined("contoso.com", "TXT", "timed out"), *others))

    servers = (server("ns1.newhost.net", "192.0.2.1", mx_on_a), server("ns2.newhost.net", "192.0.2.2", mx_on_b))
    return {"delegation": Delegation("contoso.com", "com", (), (), (), servers)}


def test_changes_are_reported_per_authoritative_server() -> None:
    old, new = OLD_MX.value, NEW_MX.value
    r1 = res(Verdict.BLOCKED, OLD_MX, **_delegation(old, old))
    r2 = res(Verdict.BLOCKED, OLD_MX, **_delegation(new, old))  # ns1 has the new zone, ns2 not yet
    r3 = res(Verdict.SAFE, NEW_MX, **_delegation(new, new))
    fake = Fake([[r1], [r2], [r3]])
    fake.run()
    records = [e.text for e in fake.events if e.kind == "record"]
    assert records[0] == f"contoso.com: MX contoso.com on ns1.newhost.net (192.0.2.1): {old} -> {new}"
    assert f"contoso.com: MX contoso.com on ns2.newhost.net (192.0.2.2): {old} -> {new}" in records
    assert f"contoso.com: MX contoso.com on resolver: {old} -> {new}" in records


def test_views_skip_failed_answers_and_keep_empty_ones() -> None:
    gone = Answered("autodiscover.contoso.com", "CNAME", rcode="NXDOMAIN")
    seen, failed = views(res(Verdict.BLOCKED, OLD_MX, **_delegation(OLD_MX.value, OLD_MX.value, gone)))
    assert seen[("ns1.newhost.net (192.0.2.1)", "autodiscover.contoso.com", "CNAME")].values == ()
    assert ("ns1.newhost.net (192.0.2.1)", "contoso.com", "TXT") in failed
    assert seen[("resolver", "contoso.com", "MX")].ttl == 3600


# --- the state file -----------------------------------------------------------------------------------------

def test_state_file_keeps_when_each_change_was_first_seen(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "cutover.json")
    fake = Fake([[BLOCKED], [WARNING], [WARNING], [SAFE]])
    fake.run(state=WatchState.load(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["cutover.json"]
    with open(path) as fh:
        doc = json.load(fh)
    assert doc["schema"] == "dnscheck-watch/1"
    d = doc["domains"]["contoso.com"]
    assert d["verdict"] == "safe"
    mx = next(c for c in d["changes"] if c["type"] == "MX")
    # The change was seen after round 2 (T0 + 2s + 60s sleep + 2s); the old MX was last seen after round 1.
    assert mx["first_seen"] == "2027-01-15T08:01:04Z"
    assert mx["old_last_seen"] == "2027-01-15T08:00:02Z"
    assert mx["old_ttl"] == 3600 and mx["old"] == [OLD_MX.value] and mx["new"] == [NEW_MX.value]
    assert mx["server"] == "resolver"
    assert d["rrsets"]["resolver|contoso.com|MX"]["values"] == [NEW_MX.value]


def test_a_later_run_starts_from_the_state_and_reports_changes_meanwhile(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "cutover.json")
    Fake([[BLOCKED]]).run(max_wait=0, state=WatchState.load(path))
    fake = Fake([[SAFE]])
    fake.run(state=WatchState.load(path))
    assert fake.lines()[0] == "contoso.com: blocked -> safe"
    assert any("MX contoso.com on resolver: 0 contoso-com" in t for t in fake.lines())


def test_a_flip_seen_again_keeps_its_first_time(tmp_path: os.PathLike[str]) -> None:
    state = WatchState()
    observe(state, BLOCKED, T0)
    observe(state, WARNING, T0 + 60)
    observe(state, BLOCKED, T0 + 120)
    observe(state, WARNING, T0 + 180)
    mx = [c for c in state.domains["contoso.com"].changes if c["type"] == "MX"]
    assert len(mx) == 2  # old->new and new->old, each once
    assert mx[0]["first_seen"] == "2027-01-15T08:01:00Z" and mx[0]["seen_again"] == "2027-01-15T08:03:00Z"


def test_a_broken_state_file_is_a_usage_error(tmp_path: os.PathLike[str]) -> None:
    from dnscheck.errors import ConfigError

    path = os.path.join(tmp_path, "state.json")
    for text in ["{not json", '{"schema": "other"}', "[]", '{"schema": "dnscheck-watch/1", "domains": 3}']:
        with open(path, "w") as fh:
            fh.write(text)
        with pytest.raises(ConfigError):
            WatchState.load(path)


# --- the command, against a zone file -----------------------------------------------------------------------

@pytest.fixture
def zone_source(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import dnscheck.app as app
    from dnscheck.collect.zonefile import ZoneFileSource, load_zone

    monkeypatch.setattr(app, "build_source",
                        lambda *a, **k: ZoneFileSource(load_zone(ZONE, "contoso.com"), ZONE))
    yield


def test_watch_command_exits_like_check(zone_source: None, tmp_path: os.PathLike[str]) -> None:
    from dnscheck.cli import cli

    state = os.path.join(tmp_path, "s.json")
    r = CliRunner().invoke(cli, ["watch", "contoso.com", "CONTOSO.com", "--max-wait", "0",
                                 "--mode", "resolver", "--state", state])
    assert r.exit_code == 2, r.output
    lines = r.stdout.splitlines()
    assert lines[0].endswith("contoso.com: blocked (AUTODISCOVER_M365, DKIM_M365, MDM_M365, MSOID_M365, "
                             "MX_M365, NS_M365, SIP_M365, SPF_M365, VERIFY_TXT_M365)")
    assert "gave up after" in lines[-1]
    assert len(lines) == 2  # the duplicate argument is watched once
    with open(state) as fh:
        assert json.load(fh)["domains"]["contoso.com"]["verdict"] == "blocked"


@pytest.mark.parametrize(("args", "message"), [
    (["watch"], "Missing argument"),
    (["watch", "not a domain"], "cannot watch"),
    (["watch", "x.com", "--interval", "0"], "minimum"),
    (["watch", "x.com", "--max-wait", "soon"], "not a duration"),
    (["watch", "x.com", "--until", "blocked"], "Invalid value"),
])
def test_watch_usage_errors(args: list[str], message: str) -> None:
    from dnscheck.cli import cli

    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2 or r.exit_code == 64  # CliRunner bypasses _Group.main's mapping onto 64
    assert message in r.output


# --- safe_after: caches may still hold the old answer --------------------------------------------------------

def test_safe_is_not_reached_while_caches_may_hold_the_old_answer() -> None:
    ttl = {"ttl": Ttls(None, None, None, None)}  # longest: Microsoft's default, 3600 s
    blocked = res(Verdict.BLOCKED, OLD_MX, findings=(f("MX_M365", Severity.BLOCKED, OLD_MX),), **ttl)
    safe = res(Verdict.SAFE, NEW_MX, **ttl)
    fake = Fake([[blocked], [safe]])
    state = WatchState()
    assert fake.run(interval=600, max_wait=6 * 3600, state=state) is Verdict.SAFE
    cache = [e for e in fake.events if e.kind == "cache"]
    assert len(cache) == 1 and "caches may hold the old answers until" in cache[0].text
    changed = state.changed_at("contoso.com")
    assert changed is not None
    done = fake.events[-1]
    assert done.kind == "done" and done.at >= changed.timestamp() + 3600  # not before the TTL ran out
    assert fake.round >= 7  # the change, then rounds every 600 s until an hour had passed


def test_until_warning_does_not_wait_for_caches() -> None:
    ttl = {"ttl": Ttls(None, None, None, None)}  # longest: Microsoft's default, 3600 s
    blocked = res(Verdict.BLOCKED, OLD_MX, findings=(f("MX_M365", Severity.BLOCKED, OLD_MX),), **ttl)
    fake = Fake([[blocked], [res(Verdict.SAFE, NEW_MX, **ttl)]])
    assert fake.run(until=Verdict.WARNING) is Verdict.WARNING
    assert fake.round == 2
