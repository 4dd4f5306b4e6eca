"""The `--state FILE`: what a later run needs to pick up where this one stopped.

It keeps the domains, the subscription facts given on the command line, the acknowledgements and the last
check of each domain. It is written atomically (temporary file in the same directory, then rename: see
dnscheck/output.py) and owner-only (0600). A file that is not valid JSON, or lacks the
`"schema": "dnscheck-runbook/1"` marker, is an error: it is never overwritten. A missing or empty file
starts a new state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dnscheck.errors import DnscheckError
from dnscheck.runbook.steps import ACKABLE, Ack

SCHEMA = "dnscheck-runbook/1"

# The facts a state file may hold, and their types. Dates are stored as YYYY-MM-DD.
FACTS: dict[str, type] = {
    "purchased": date,
    "licenses": int,
    "product_key": bool,
    "expires": date,
    "expired": bool,
    "cancel_date": date,
    "billing": str,
    "policy": str,
}


class StateError(DnscheckError):
    """A --state file that cannot be used; it is left as it is."""


@dataclass
class State:
    domains: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    acks: dict[str, Ack] = field(default_factory=dict)
    last_check: dict[str, dict[str, Any]] = field(default_factory=dict)  # domain -> {"checked_at", "result"}

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "domains": self.domains,
            "facts": {k: v.isoformat() if isinstance(v, date) else v for k, v in self.facts.items()},
            "acks": {k: {"on": a.on, "domains": list(a.domains)} for k, a in self.acks.items()},
            "last_check": self.last_check,
        }


def load(path: str) -> State | None:
    """The state in `path`, or None when there is none yet (no file, or an empty one)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StateError(f"cannot read --state {path}: {e.strerror}") from None
    if not data.strip():
        return None
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _corrupt(path, f"it is not valid JSON ({e})") from None
    if not isinstance(doc, dict) or "schema" not in doc:
        raise _corrupt(path, f'it is not a dnscheck runbook state file (no "schema": "{SCHEMA}")')
    if doc["schema"] != SCHEMA:
        raise _corrupt(path, f'its schema is {doc["schema"]!r}; this dnscheck reads "{SCHEMA}" only')
    try:
        return _parse(doc)
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise _corrupt(path, f"it is damaged: {e}") from None


def save(path: str, state: State) -> None:
    from dnscheck.output import atomic_open

    with atomic_open(path, perms=0o600) as f:
        json.dump(state.to_json(), f, indent=2, sort_keys=False)
        f.write("\n")


def _corrupt(path: str, why: str) -> StateError:
    return StateError(
        f"--state {path}: {why}.", "The file was left untouched. Move it away, or give another --state path."
    )


def _parse(doc: dict[str, Any]) -> State:
    domains = doc.get("domains", [])
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise ValueError("domains must be a list of names")
    facts = {}
    for key, value in _dict(doc.get("facts", {}), "facts").items():
        if key not in FACTS:
            raise ValueError(f"unknown fact {key!r}")
        if value is not None:
            facts[key] = _typed(key, value, FACTS[key])
    acks = {}
    for step, ack in _dict(doc.get("acks", {}), "acks").items():
        if step not in ACKABLE:
            raise ValueError(f"{step!r} is not a step that can be acknowledged")
        ack = _dict(ack, f"acks.{step}")
        on = _typed(f"acks.{step}.on", ack["on"], date).isoformat()
        ack_domains = ack.get("domains", [])
        if not isinstance(ack_domains, list) or not all(isinstance(d, str) for d in ack_domains):
            raise ValueError(f"acks.{step}.domains must be a list of names")
        acks[step] = Ack(on, tuple(ack_domains))
    last = {k: _dict(v, f"last_check.{k}") for k, v in _dict(doc.get("last_check", {}), "last_check").items()}
    return State(list(domains), facts, acks, last)


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be an object")
    return value


def _typed(key: str, value: Any, kind: type) -> Any:
    if kind is date:
        if not isinstance(value, str):
            raise ValueError(f"{key} must be a date (YYYY-MM-DD)")
        return date.fromisoformat(value)
    # bool is an int in Python: keep them apart.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{key} must be of type {kind.__name__}")
    return value


def changes_since(
    last_check: dict[str, dict[str, Any]], results: Any, source: str = ""
) -> list[dict[str, Any]]:
    """The domains whose verdict differs from the one the state file remembers from the same source (a zone
    file's verdict is no "before" for live DNS)."""
    out = []
    for r in results:
        name = r.domain or r.input
        before = last_check.get(name, {})
        if before.get("source", source) != source:
            continue
        if before.get("verdict") and before["verdict"] != r.verdict.value:
            out.append(
                {
                    "domain": name,
                    "was": before["verdict"],
                    "now": r.verdict.value,
                    "checked_at": before.get("checked_at"),
                }
            )
    return out
