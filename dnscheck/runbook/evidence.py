"""Evidence and caches: what each domain's live check saw, and when its caches can no longer hold the old answers.

Pure: the clock is a parameter. The state keeps, per domain, a history of what live checks saw (a verdict and the
mail/DNS findings, with the time each was first seen). The change time of a domain is:
- given by the admin (--changed-at) or by a `dnscheck watch --state` file, when either is known and not
  contradicted by the history (old answers seen after it);
- else the first time this runbook saw the domain's current answers after seeing other ones;
- else (the first run already sees the new answers) the first time it saw them: the change may have been made
  seconds before, so the runbook waits as if it had (give --changed-at to say when it really was).
`safe_after` = change time + the longest TTL that governs caches (dnscheck.ttl), as the check computes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dnscheck.codes import Topic, topic_of
from dnscheck.models import Result, ServerView, Undetermined, Verdict
from dnscheck.runbook.model import Evidence, Said, name_of
from dnscheck.ttl import M365_DEFAULT_TTL

History = dict[str, list[dict[str, Any]]]  # domain -> [{"key", "verdict", "first_seen", "last_seen"}]


@dataclass(frozen=True)
class Run:
    """How this run checked: live or a planned zone file, through what, in which mode, when."""

    now: datetime
    live: bool
    via: str
    mode: str
    changed_at: datetime | None = None  # --changed-at
    watch: Callable[[str], datetime | None] | None = None  # from --watch-state


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def key_of(r: Result) -> str:
    """What a change of the mail or DNS answers looks like: the verdict, the mail/DNS findings, the MX and NS
    records seen. A leftover cleaned up is no change for the caches of MX and NS."""
    codes = sorted({f.code for f in r.findings if topic_of(f) in (Topic.MAIL, Topic.DNS)})
    records = sorted(f"{s.record.type} {s.record.value}" for s in r.records if s.record.type in ("MX", "NS"))
    return "|".join([r.verdict.value, ",".join(codes), ";".join(records)])


def remember(history: History, results: list[Result], run: Run) -> History:
    """The history with this run's live results added. A planned zone or an unknown verdict is not evidence of
    a change, so it is not remembered."""
    out = {d: list(h) for d, h in history.items()}
    if not run.live:
        return out
    now = iso(run.now)
    for r in results:
        if r.verdict is Verdict.UNKNOWN:
            continue
        entries = out.setdefault(name_of(r), [])
        key = key_of(r)
        if entries and entries[-1].get("key") == key:
            entries[-1] = {**entries[-1], "last_seen": now}
        else:
            entries.append({"key": key, "verdict": r.verdict.value, "first_seen": now, "last_seen": now})
    return out


def change_time(domain: str, history: History, run: Run) -> tuple[datetime | None, str]:
    """When the domain's records last changed, and how that is known."""
    entries = history.get(domain, [])
    seen = parse(entries[-1]["first_seen"]) if entries else None
    given = run.changed_at or (run.watch(domain) if run.watch else None)
    how = "given" if run.changed_at else "watch"
    if given is not None:
        # This runbook saw the old answers after the given time: the change came later, so the given time is
        # out of date; the first time the new answers were seen is the conservative bound.
        if seen is not None and len(entries) > 1 and given <= parse(entries[-2]["last_seen"]):
            return seen, "seen"
        return given, how
    if seen is None:
        return None, ""
    return seen, "seen" if len(entries) > 1 else "first-seen"


def longest_ttl(r: Result) -> int:
    return r.ttl.longest if r.ttl is not None else M365_DEFAULT_TTL


def evidence_of(r: Result, history: History, run: Run) -> Evidence:
    changed, how = change_time(name_of(r), history, run) if run.live else (None, "")
    safe = changed + timedelta(seconds=longest_ttl(r)) if changed else None
    return Evidence(
        domain=name_of(r),
        live=run.live,
        via=run.via,
        mode=run.mode,
        checked_at=iso(run.now),
        verdict=r.verdict.value,
        said=_said(r, run.via),
        authoritative_reached=_reached(r, run),
        changed_at=iso(changed) if changed else None,
        safe_after=iso(safe) if safe else None,
        changed_how=how,
    )


def _reached(r: Result, run: Run) -> bool | None:
    """In auto or authoritative mode: did at least one authoritative server answer for the zone?"""
    if not run.live or run.mode == "resolver":
        return None
    d = r.delegation
    if d is None or d.failure:
        return False
    return any(v.authoritative for v in d.servers)


def _said(r: Result, via: str) -> tuple[Said, ...]:
    mx = tuple(s.record.value for s in r.records if s.record.type == "MX")
    ns = tuple(s.record.value for s in r.records if s.record.type == "NS")
    servers = r.delegation.servers if r.delegation is not None else ()
    return (Said(via, mx, ns), *(_server_said(v) for v in servers))


def _server_said(v: ServerView) -> Said:
    values: dict[str, tuple[str, ...]] = {"MX": (), "NS": ()}
    errors = []
    for lookup, kind in ((v.mx, "MX"), (v.ns, "NS")):
        if isinstance(lookup, Undetermined):
            errors.append(f"{kind}: {lookup.reason}")
        else:
            values[kind] = tuple(rec.value for rec in lookup.records if rec.type == kind)
    return Said(
        f"{v.name} ({v.address})", values["MX"], values["NS"], "; ".join(errors) or None, v.authoritative
    )
