"""The `dnscheck watch --state` file, checked field by field before watch or `check --watch-state` uses it.

A file that fails is a usage error naming the file and the field; it is left as it is.
"""

from __future__ import annotations

from typing import Any

from dnscheck import schema as s

VERDICTS = ("safe", "warning", "blocked", "unknown")


def domain(d: Any, path: str) -> tuple[str | None, str | None, str | None, dict[str, Any], list[Any]]:
    """One domain's entry: (verdict, verdict_since, checked_at, rrsets, changes)."""
    d = s.obj(d, path)
    verdict = s.one_of(d.get("verdict"), f"{path}.verdict", VERDICTS, optional=True)
    since = s.timestamp(d.get("verdict_since"), f"{path}.verdict_since", optional=True)
    checked = s.timestamp(d.get("checked_at"), f"{path}.checked_at", optional=True)
    rrsets = s.obj(d.get("rrsets") or {}, f"{path}.rrsets")
    for key, rrset in rrsets.items():
        _rrset(rrset, f"{path}.rrsets[{key!r}]")
    changes = s.array(d.get("changes") or [], f"{path}.changes")
    for i, change in enumerate(changes):
        _change(change, f"{path}.changes[{i}]")
    return verdict, since, checked, dict(rrsets), list(changes)


def _rrset(rrset: Any, path: str) -> None:
    rrset = s.obj(rrset, path)
    s.strings(rrset.get("values", []), f"{path}.values")
    s.ttl(rrset.get("ttl"), f"{path}.ttl")
    for when in ("first_seen", "last_seen"):
        s.timestamp(rrset.get(when), f"{path}.{when}", optional=True)


def _change(change: Any, path: str) -> None:
    change = s.obj(change, path)
    s.timestamp(change.get("first_seen"), f"{path}.first_seen")
    for when in ("old_last_seen", "seen_again"):
        s.timestamp(change.get(when), f"{path}.{when}", optional=True)
    s.ttl(change.get("old_ttl"), f"{path}.old_ttl")
    for name in ("server", "name", "type"):
        s.text(change.get(name), f"{path}.{name}", optional=True)
    for values in ("old", "new"):
        s.strings(change.get(values, []), f"{path}.{values}")
