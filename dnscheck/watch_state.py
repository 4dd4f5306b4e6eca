"""What `dnscheck watch` remembers between rounds and runs: per domain, the record sets each server showed and
every change with the time it was first seen (JSON, written atomically, owner-only, checked on load)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dnscheck.errors import ConfigError

SCHEMA = "dnscheck-watch/1"


@dataclass
class DomainState:
    verdict: str | None = None
    verdict_since: str | None = None
    checked_at: str | None = None
    # "server|name|type" -> {"values", "ttl", "first_seen", "last_seen"}
    rrsets: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "verdict_since": self.verdict_since,
            "checked_at": self.checked_at,
            "rrsets": self.rrsets,
            "changes": self.changes,
        }


@dataclass
class WatchState:
    """Everything remembered between rounds, and between runs when it has a file."""

    path: str | None = None
    domains: dict[str, DomainState] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | None, what: str = "--state") -> WatchState:
        """The state in `path`; a new one when there is no file (or an empty one). A file that is not a watch
        state, or is damaged, is a usage error naming the field (see watch_schema.py), never a crash later."""
        from dnscheck import watch_schema
        from dnscheck.files import load_json

        state = cls(path)
        if path is None:
            return state
        try:
            doc = load_json(path, what)
        except FileNotFoundError:
            return state
        if doc is None:
            return state
        try:
            if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
                found = doc.get("schema") if isinstance(doc, dict) else None
                raise ValueError(f"schema is {found!r}, not {SCHEMA!r}: not a dnscheck watch state file")
            for name, d in watch_schema.s.obj(doc.get("domains"), "domains").items():
                state.domains[name] = DomainState(*watch_schema.domain(d, f"domains[{name!r}]"))
        except ValueError as e:
            raise ConfigError(
                f"cannot use {what} {path}: {e}", "Remove the file, or give another path, to start afresh."
            ) from None
        return state

    def changed_at(self, domain: str) -> datetime | None:
        """When a record of `domain` was last seen to change (the latest first_seen): the start of the time
        during which caches may still hold the old answer."""
        d = self.domains.get(domain)
        times = [c["first_seen"] for c in (d.changes if d else []) if isinstance(c.get("first_seen"), str)]
        if not times:
            return None
        return datetime.fromisoformat(max(times).replace("Z", "+00:00"))

    def save(self) -> None:
        if self.path is None:
            return
        doc = {"schema": SCHEMA, "domains": {k: v.as_dict() for k, v in self.domains.items()}}
        from dnscheck.output import atomic_open

        with atomic_open(self.path, perms=0o600, what="--state") as f:
            f.write(json.dumps(doc, indent=1, sort_keys=True) + "\n")
