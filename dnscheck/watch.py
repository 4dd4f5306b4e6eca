"""The cutover monitor: re-check domains until each reaches the wanted verdict, and say what changed, when.

    dnscheck watch contoso.com --until safe --interval 60s --max-wait 6h --state cutover.json

Every round checks every domain (a domain that got there may slip back), compares what each server said
with the previous round and prints each difference as it is seen: the verdict, and each record set that
changed, on which server (the resolver, and each authoritative server when the delegation was probed). The
loop ends when all domains are at the wanted verdict or better in the same round, or when --max-wait has
passed; the exit code is the worst final verdict's, as for `check`.

With --state FILE the record sets and the time each change was first seen are kept (JSON, written atomically,
owner-only), so that a later run, or the TTL arithmetic of `safe_after`, can start from them: a change is
`{"first_seen", "server", "name", "type", "old", "new", "old_ttl", "old_last_seen"}`, and caches may hold
the old answer until `old_last_seen + old_ttl` at the latest.

The loop takes its check function, clock and sleep as arguments: it is tested without DNS and without waiting.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dnscheck.i18n import _, ngettext, number, when, word
from dnscheck.models import Result, ServerView, Undetermined, Verdict, run_verdict
from dnscheck.normalise import Target
from dnscheck.text import clean
from dnscheck.watch_state import SCHEMA, DomainState, WatchState  # noqa: F401 - re-exported

MAX_CHANGES = 200  # per domain, in the state file: the oldest are dropped beyond this
RESOLVER = "resolver"

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")


def parse_duration(text: str) -> float:
    """Seconds in `30`, `30s`, `5m`, `6h`, `1d` or a sum such as `1h30m`."""
    s = text.strip().lower()
    if not s:
        raise ValueError(_("empty duration"))
    total, pos = 0.0, 0
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m:
            raise ValueError(
                _("{text} is not a duration: write e.g. 30s, 5m, 6h or 1h30m").format(text=repr(text))
            )
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
        while pos < len(s) and s[pos] == " ":
            pos += 1
    return total


def reached(verdict: Verdict, until: Verdict) -> bool:
    """At the wanted verdict or a better one (unknown is never good enough)."""
    return verdict is not Verdict.UNKNOWN and verdict.rank <= until.rank


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- what each server said, per record set ---

Key = tuple[str, str, str]  # (server, owner name, type)
ANY: Key = ("*", "*", "*")  # in the failed set: the whole check failed, nothing can be compared


@dataclass(frozen=True)
class RRset:
    values: tuple[str, ...]
    ttl: int | None


def views(result: Result, resolver: str = RESOLVER) -> tuple[dict[Key, RRset], set[Key]]:
    """The record sets seen in one check, per server, and the keys that could not be looked up this time.

    A failed lookup is not a removed record: keys in the second set are never reported as changed. A check that
    could not run at all (`complete` False) has nothing to compare: every key is in doubt.
    """
    if not result.complete:
        return {}, {ANY}
    seen: dict[Key, list[tuple[str, int | None]]] = {}
    failed: set[Key] = set()
    for sr in result.records:
        r = sr.record
        seen.setdefault((resolver, r.name, r.type), []).append((r.value, r.ttl))
    for f in result.findings:
        if f.code == "LOOKUP_FAILED" and f.record is not None:
            failed.add((resolver, f.record.name, f.record.type))
    for server in result.delegation.servers if result.delegation else ():
        _server_view(server, seen, failed)
    out = {}
    for key, items in seen.items():
        ttls = [t for _, t in items if t is not None]
        out[key] = RRset(tuple(sorted({v for v, _ in items})), max(ttls) if ttls else None)
    return out, failed


def _server_view(server: ServerView, seen: dict[Key, list[tuple[str, int | None]]], failed: set[Key]) -> None:
    label = f"{server.name} ({server.address})"
    for lk in server.lookups:
        key = (label, lk.name, lk.rdtype)
        if isinstance(lk, Undetermined):
            failed.add(key)
            continue
        seen.setdefault(key, [])  # NXDOMAIN / NODATA: known to be empty on this server
        seen[key] += [(r.value, r.ttl) for r in lk.records if r.type in (lk.rdtype, "CNAME")]


def _skey(key: Key) -> str:
    return "|".join(key)


# --- events ---


@dataclass(frozen=True)
class Event:
    at: float
    domain: str
    kind: str  # "start" | "verdict" | "record" | "cache" | "done" | "timeout"
    text: str

    def line(self) -> str:
        return f"{iso(self.at)} {self.text}"


def observe(state: WatchState, result: Result, now: float, resolver: str = RESOLVER) -> list[Event]:
    """Fold one result into the state; the events describe what differs from what was known before."""
    domain = result.domain or result.input
    d = state.domains.setdefault(domain, DomainState())
    first = d.verdict is None
    events = _verdict_events(d, domain, result, now)
    current, failed = views(result, resolver)
    if ANY in failed:
        return events
    stamp = iso(now)
    for key in sorted(set(current) | {_unkey(k) for k in d.rrsets if _unkey(k)[0] != "*"}):
        if key in failed:
            continue
        new = current.get(key)
        if new is None and key[0] != resolver and _skey(key) in d.rrsets:
            continue  # an authoritative server not asked this round (probing skipped): not a removal
        event = _fold_rrset(d, domain, key, new, now, stamp, first)
        if event is not None:
            events.append(event)
    return events


def _verdict_events(d: DomainState, domain: str, result: Result, now: float) -> list[Event]:
    codes = ", ".join(sorted({f.code for f in result.findings if f.severity.value != "info"}))
    suffix = f" ({codes})" if codes else ""
    events = []
    if d.verdict is None:
        events.append(Event(now, domain, "start", clean(f"{domain}: {word(result.verdict.value)}{suffix}")))
    elif d.verdict != result.verdict.value:
        text = f"{domain}: {word(d.verdict)} -> {word(result.verdict.value)}{suffix}"
        events.append(Event(now, domain, "verdict", clean(text)))
    if d.verdict != result.verdict.value:
        d.verdict, d.verdict_since = result.verdict.value, iso(now)
    d.checked_at = iso(now)
    return events


def _fold_rrset(
    d: DomainState, domain: str, key: Key, new: RRset | None, now: float, stamp: str, first: bool
) -> Event | None:
    """Compare one record set with what was known; keep the new one; the event, if it changed."""
    old = d.rrsets.get(_skey(key))
    new_values = new.values if new else ()
    if old is not None and tuple(old["values"]) == new_values:
        old["last_seen"] = stamp
        if new is not None and new.ttl is not None:  # a resolver counts TTLs down: keep the largest seen
            old["ttl"] = max(new.ttl, old.get("ttl") or 0)
        return None
    if old is None and new is None:
        return None
    fresh = {
        "values": list(new_values),
        "ttl": new.ttl if new else None,
        "first_seen": stamp,
        "last_seen": stamp,
    }
    if old is None:
        # First sight of this record set: a baseline, not a change (unless the domain was already known).
        d.rrsets[_skey(key)] = fresh
        return _record_event(now, domain, key, (), new_values, d) if not first and new_values else None
    event = _record_event(now, domain, key, tuple(old["values"]), new_values, d, old)
    if new is None:
        del d.rrsets[_skey(key)]
    else:
        d.rrsets[_skey(key)] = fresh
    return event


def _unkey(s: str) -> Key:
    parts = s.split("|")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else ("*", "*", "*")


def _record_event(
    now: float,
    domain: str,
    key: Key,
    old: tuple[str, ...],
    new: tuple[str, ...],
    d: DomainState,
    before: dict[str, Any] | None = None,
) -> Event:
    server, name, rtype = key
    change = {
        "first_seen": iso(now),
        "server": server,
        "name": name,
        "type": rtype,
        "old": list(old),
        "new": list(new),
        "old_ttl": before.get("ttl") if before else None,
        "old_last_seen": before.get("last_seen") if before else None,
    }
    known = next(
        (
            c
            for c in d.changes
            if all(c.get(k) == change[k] for k in ("server", "name", "type", "old", "new"))
        ),
        None,
    )
    if known is None:
        d.changes.append(change)
        del d.changes[:-MAX_CHANGES]
    else:  # the same flip seen again (servers disagreeing, a rollback): first_seen stays the first time
        known["seen_again"] = iso(now)
    where = server
    if not old:
        what = _("added {values}").format(values=_show(new))
    elif not new:
        what = _("removed (was {values})").format(values=_show(old))
    else:
        what = f"{_show(old)} -> {_show(new)}"
    line = _("{domain}: {type} {name} on {server}: {change}")
    return Event(
        now,
        domain,
        "record",
        clean(line.format(domain=domain, type=rtype, name=name, server=where, change=what)),
    )


def _show(values: Iterable[str]) -> str:
    vs = list(values)
    text = ", ".join(vs[:4]) + (" " + _("(+{n} more)").format(n=len(vs) - 4) if len(vs) > 4 else "")
    return text or _("(none)")


# --- the loop ---

CheckAll = Callable[[list[Target]], Awaitable[list[Result]]]


async def watch(
    targets: list[Target],
    check_all: CheckAll,
    *,
    until: Verdict,
    interval: float,
    max_wait: float,
    state: WatchState,
    emit: Callable[[Event], None],
    resolver: str = RESOLVER,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> Verdict:
    """Check each round until all targets reach `until` or `max_wait` seconds pass; return the worst."""
    start = clock()
    deadline = start + max_wait
    warned: set[tuple[str, str]] = set()
    while True:
        results = await check_all(targets)
        now = clock()
        for r in results:
            for ev in observe(state, r, now, resolver):
                emit(ev)
        state.save()
        verdicts = [_while_caches_hold(state, r, now, warned, emit) for r in results]
        final = run_verdict(verdicts)
        if results and all(reached(v, until) for v in verdicts):
            emit(
                Event(
                    now,
                    "",
                    "done",
                    ngettext(
                        "the domain reached {verdict} or better after {elapsed}",
                        "all {n} domains reached {verdict} or better after {elapsed}",
                        len(results),
                    ).format(n=len(results), verdict=word(until.value), elapsed=_human(now - start)),
                )
            )
            return final
        if now >= deadline:
            behind = [
                f"{r.domain or r.input} {word(r.verdict.value)}"
                for r in results
                if not reached(r.verdict, until)
            ]
            emit(
                Event(
                    now,
                    "",
                    "timeout",
                    clean(
                        _("gave up after {elapsed} (--max-wait): still {domains}").format(
                            elapsed=_human(now - start), domains=", ".join(behind)
                        )
                    ),
                )
            )
            return final
        await sleep(max(0.0, min(interval, deadline - now)))


def _while_caches_hold(
    state: WatchState, r: Result, now: float, warned: set[tuple[str, str]], emit: Callable[[Event], None]
) -> Verdict:
    """A domain whose records changed less than their TTL ago is not safe yet: a cache may still hand out the old
    (Microsoft 365) answer. It counts as a warning until then, like the check's CACHE_PENDING."""
    domain = r.domain or r.input
    d = state.domains.get(domain)
    # A record that went away was cached for at most its own TTL, which watch saw; one that was added may be
    # cached as "does not exist" for the zone's negative TTL. Without either, the check's longest TTL.
    fallback = None
    if r.ttl is not None:
        fallback = r.ttl.negative if r.ttl.negative is not None else r.ttl.longest
    ends = []
    for c in d.changes if d else []:
        ttl = c.get("old_ttl") if isinstance(c.get("old_ttl"), int) else fallback
        if isinstance(ttl, int) and isinstance(c.get("first_seen"), str):
            seen = datetime.fromisoformat(c["first_seen"].replace("Z", "+00:00")).timestamp()
            ends.append((seen + ttl, seen, ttl))
    if not ends or r.verdict.rank >= Verdict.WARNING.rank:
        return r.verdict
    until, seen, ttl = max(ends)
    if now >= until:
        return r.verdict
    if (domain, iso(until)) not in warned:
        warned.add((domain, iso(until)))
        emit(
            Event(
                now,
                domain,
                "cache",
                clean(
                    _(
                        "{domain}: caches may hold the old answers until {until} (change first seen {seen} "
                        "+ TTL {ttl}s): waiting"
                    ).format(domain=domain, until=when(iso(until)), seen=when(iso(seen)), ttl=number(ttl))
                ),
            )
        )
    return Verdict.WARNING


def _human(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"
