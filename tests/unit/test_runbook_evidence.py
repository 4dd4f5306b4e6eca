"""History of live verdicts and the change time that starts safe_after. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dnscheck.models import Answered, Delegation, Finding, Record, Result, ServerView, Severity, Verdict
from dnscheck.runbook.evidence import Run, change_time, evidence_of, remember
from dnscheck.ttl import Ttls

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
D = "contoso.com"


def res(verdict: Verdict, *codes: str, ttl: int = 300, delegation: Delegation | None = None) -> Result:
    fs = tuple(Finding(c, Severity.BLOCKED, (), Record(D, "MX", "x")) for c in codes)
    return Result(D, D, D, verdict, None, fs, ttl=Ttls(ttl, None, None, None), delegation=delegation)


def server(aa: bool) -> ServerView:
    soa = Answered(D, "SOA", (Record(D, "SOA", "ns1 h 1 2 3 4 5"),), aa=aa)
    mx = Answered(D, "MX", (Record(D, "MX", "10 mx1.newmail.net"),))
    return ServerView("ns1.newdns.net", "127.0.0.9", soa, Answered(D, "NS"), mx)


def run(at: datetime, live: bool = True, changed_at: datetime | None = None, mode: str = "resolver") -> Run:
    return Run(at, live, "resolver 127.0.0.1:5300", mode, changed_at)


def test_first_run_waits_as_if_the_change_were_just_made() -> None:
    h = remember({}, [res(Verdict.SAFE)], run(T0))
    e = evidence_of(res(Verdict.SAFE, ttl=7200), h, run(T0))  # the longest TTL: the assumed 3600 or more
    assert (e.changed_at, e.changed_how) == ("2026-03-01T12:00:00Z", "first-seen")
    assert e.safe_after == "2026-03-01T14:00:00Z"


def test_a_change_seen_starts_the_clock_and_repeats_do_not() -> None:
    h = remember({}, [res(Verdict.BLOCKED, "MX_M365")], run(T0))
    later = T0 + timedelta(hours=5)
    h = remember(h, [res(Verdict.SAFE)], run(later))
    h = remember(h, [res(Verdict.SAFE)], run(later + timedelta(minutes=5)))
    assert len(h[D]) == 2 and h[D][1]["last_seen"] == "2026-03-01T17:05:00Z"
    assert change_time(D, h, run(later)) == (later, "seen")


def test_unknown_and_planned_results_are_not_history() -> None:
    assert remember({}, [res(Verdict.UNKNOWN)], run(T0)) == {}
    assert remember({}, [res(Verdict.SAFE)], run(T0, live=False)) == {}


def test_given_time_is_used_unless_the_old_answers_were_seen_after_it() -> None:
    given = T0 - timedelta(days=1)
    assert change_time(D, {}, run(T0, changed_at=given)) == (given, "given")
    h = remember({}, [res(Verdict.BLOCKED, "MX_M365")], run(T0))
    h = remember(h, [res(Verdict.SAFE)], run(T0 + timedelta(hours=1)))
    assert change_time(D, h, run(T0, changed_at=given)) == (T0 + timedelta(hours=1), "seen")
    between = T0 + timedelta(minutes=10)  # after the old answers were last seen: consistent, so believed
    assert change_time(D, h, run(T0, changed_at=between)) == (between, "given")


def test_authoritative_reached_only_when_a_server_answered_with_aa() -> None:
    ok = Delegation(D, "com", (), (), (), (server(True),))
    e = evidence_of(res(Verdict.SAFE, delegation=ok), {}, run(T0, mode="auto"))
    assert e.authoritative_reached is True
    assert e.said[1].server == "ns1.newdns.net (127.0.0.9)" and e.said[1].mx == ("10 mx1.newmail.net",)
    failed = Delegation(D, "com", (), (), (), (), failure="no answer from the parent")
    lame = Delegation(D, "com", (), (), (), (server(False),))
    assert evidence_of(res(Verdict.SAFE, delegation=lame), {}, run(T0, mode="auto")).authoritative_reached is False
    assert evidence_of(res(Verdict.SAFE, delegation=failed), {}, run(T0, mode="auto")).authoritative_reached is False
    assert evidence_of(res(Verdict.SAFE), {}, run(T0, mode="auto")).authoritative_reached is False
    assert evidence_of(res(Verdict.SAFE), {}, run(T0, mode="resolver")).authoritative_reached is None
