"""The `--state FILE`: what a later run needs to pick up where this one stopped.

It keeps the domains, the DNS settings (resolvers, mode, timeout: reused on resume, replaced when given again),
the subscription facts, the acknowledgements (with what a --force went past), each domain's history of what live
checks saw, and the last check of each domain as codes and arguments (never rendered sentences, so a report in
another language can be made from it). Version 2 (`"schema": "dnscheck-runbook/2"`); version 1 files load.

It is written atomically (dnscheck/output.py) and owner-only (0600). While a run uses it, it is locked
(`fcntl.flock` on FILE.lock): a second run waits a little, then fails with a clear message. A file that is not
valid JSON, or not a runbook state, is an error: it is never overwritten. A missing or empty file starts afresh.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dnscheck import schema as s
from dnscheck.errors import DnscheckError
from dnscheck.runbook.model import ACKABLE, Ack

SCHEMA = "dnscheck-runbook/2"
OLD_SCHEMAS = ("dnscheck-runbook/1",)
LOCK_WAIT = 10.0  # seconds; DNSCHECK_LOCK_WAIT overrides (tests)

FACTS: dict[str, type] = {
    "purchased": date,
    "licenses": int,
    "product_key": bool,
    "expires": date,
    "expired": bool,
    "cancel_date": date,
    "billing": str,
    "policy": str,
    "partner": str,
}
SETTINGS: dict[str, type] = {"resolvers": list, "mode": str, "timeout": float}


class StateError(DnscheckError):
    """A --state file that cannot be used; it is left as it is."""


@dataclass
class State:
    domains: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    acks: dict[str, Ack] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    last_check: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "domains": self.domains,
            "settings": self.settings,
            "facts": {k: v.isoformat() if isinstance(v, date) else v for k, v in self.facts.items()},
            "acks": {
                k: {"on": a.on, "domains": list(a.domains), "forced_over": list(a.forced_over)}
                for k, a in self.acks.items()
            },
            "history": self.history,
            "last_check": self.last_check,
        }


@contextlib.contextmanager
def locked(path: str, wait: float | None = None) -> Iterator[None]:
    """Hold FILE.lock for the whole run. The lock file stays: removing it would race with the next run."""
    wait = float(os.environ.get("DNSCHECK_LOCK_WAIT", LOCK_WAIT)) if wait is None else wait
    lock = f"{path}.lock"
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise StateError(f"cannot lock --state {path} ({lock}): {e.strerror}") from None
    try:
        _acquire(fd, path, wait)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _acquire(fd: int, path: str, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise StateError(
                    f"--state {path} is in use by another dnscheck runbook (waited {wait:g} s).",
                    "Let the other run finish, then run again. The file was left untouched.",
                ) from None
            time.sleep(0.1)


def load(path: str) -> State | None:
    """The state in `path`, or None when there is none yet (no file, or an empty one)."""
    from dnscheck.files import load_json

    try:
        doc = load_json(path, "--state", StateError)
    except FileNotFoundError:
        return None
    except StateError as e:
        raise _corrupt(path, e.message.partition(f"--state {path}: ")[2] or e.message) from None
    if doc is None:
        return None
    if not isinstance(doc, dict) or "schema" not in doc:
        raise _corrupt(path, f'it is not a dnscheck runbook state file (no "schema": "{SCHEMA}")')
    if doc["schema"] != SCHEMA and doc["schema"] not in OLD_SCHEMAS:
        raise _corrupt(path, f'its schema is {doc["schema"]!r}; this dnscheck reads "{SCHEMA}" and older')
    try:
        return _parse(doc)
    except ValueError as e:
        raise _corrupt(path, f"it is damaged: {e}") from None


def save(path: str, state: State) -> None:
    from dnscheck.output import atomic_open

    with atomic_open(path, perms=0o600, what="--state") as f:
        json.dump(state.to_json(), f, indent=2, sort_keys=False)
        f.write("\n")


def _corrupt(path: str, why: str) -> StateError:
    return StateError(
        f"--state {path}: {why}.", "The file was left untouched. Move it away, or give another --state path."
    )


def _parse(doc: dict[str, Any]) -> State:
    domains = _names(doc.get("domains", []), "domains")
    facts = {}
    for key, value in s.obj(doc.get("facts", {}), "facts").items():
        if key not in FACTS:
            raise s.FieldError(f"facts.{key}", "is not a fact dnscheck knows")
        if value is not None:
            facts[key] = _typed(f"facts.{key}", value, FACTS[key])
    acks = {step: _ack(step, ack) for step, ack in s.obj(doc.get("acks", {}), "acks").items()}
    settings = {}
    for key, value in s.obj(doc.get("settings", {}), "settings").items():
        if key in SETTINGS and value is not None:
            settings[key] = _setting(key, value)
    last = {
        k: _last_check(v, f"last_check.{k}")
        for k, v in s.obj(doc.get("last_check", {}), "last_check").items()
    }
    history = {k: _entries(k, v) for k, v in s.obj(doc.get("history", {}), "history").items()}
    if doc["schema"] in OLD_SCHEMAS:
        history = _history_from_v1(last)
        last = {}
    return State(domains, facts, acks, settings, history, last)


def _ack(step: str, value: Any) -> Ack:
    if step not in ACKABLE:
        raise ValueError(f"{step!r} is not a step that can be acknowledged")
    ack = s.obj(value, f"acks.{step}")
    on = s.day(ack.get("on"), f"acks.{step}.on").isoformat()
    domains = _names(ack.get("domains", []), f"acks.{step}.domains")
    forced = _names(ack.get("forced_over", []), f"acks.{step}.forced_over")
    return Ack(on, tuple(domains), tuple(forced))


def _setting(key: str, value: Any) -> Any:
    if key == "resolvers":
        return _names(value, "settings.resolvers")
    if key == "timeout":
        # nan and 1e30 are floats too: the same range as --timeout
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.1 <= value <= 3600:
            raise s.FieldError("settings.timeout", "must be a number of seconds from 0.1 to 3600")
        return float(value)
    if value not in ("auto", "resolver", "authoritative"):
        raise ValueError(f"settings.mode {value!r} is not a mode")
    return value


def _entries(domain: str, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ValueError(f"history.{domain} must be a list")
    for i, e in enumerate(value):
        entry = s.obj(e, f"history.{domain}[{i}]")
        for k in ("key", "verdict"):
            s.text(entry.get(k), f"history.{domain}[{i}].{k}")
        for k in ("first_seen", "last_seen"):
            s.timestamp(entry.get(k), f"history.{domain}[{i}].{k}")
    return list(value)


def _history_from_v1(last: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Version 1 kept only the last verdict: a history of one entry, first seen when it was checked. Only a live
    check counts (version 1 marked a zone file's source as "zone file ...")."""
    out = {}
    for domain, check in last.items():
        verdict, when = check.get("verdict"), check.get("checked_at")
        live = not str(check.get("source", "")).startswith("zone file")
        if live and isinstance(verdict, str) and isinstance(when, str) and verdict != "unknown":
            out[domain] = [
                {"key": f"{verdict}|v1", "verdict": verdict, "first_seen": when, "last_seen": when}
            ]
    return out


def _names(value: Any, what: str) -> list[str]:
    return s.strings(value, what)


def _last_check(entry: Any, path: str) -> dict[str, Any]:
    entry = s.obj(entry, path)
    s.timestamp(entry.get("checked_at"), f"{path}.checked_at", optional=True)
    s.text(entry.get("source"), f"{path}.source", optional=True)
    s.one_of(
        entry.get("verdict"), f"{path}.verdict", ("safe", "warning", "blocked", "unknown"), optional=True
    )
    if "result" in entry:
        s.obj(entry["result"], f"{path}.result")
    return entry


def _typed(key: str, value: Any, kind: type) -> Any:
    if kind is date:
        return s.day(value, key)
    # bool is an int in Python: keep them apart.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise s.FieldError(key, f"must be of type {kind.__name__}")
    if isinstance(value, int) and kind is int and not 0 <= value <= 10**9:
        raise s.FieldError(key, "is out of range")
    return value


def last_check_of(result: Any, evidence: Any) -> dict[str, Any]:
    """One domain's last check as data: codes and arguments, never the rendered words."""
    return {
        "checked_at": evidence.checked_at,
        "live": evidence.live,
        "via": evidence.via,
        "mode": evidence.mode,
        "verdict": result.verdict.value,
        "findings": [
            {
                "code": f.code,
                "severity": f.severity.value,
                "variant": f.variant,
                "args": dict(f.args),
                "record": f.record.as_dict() if f.record else None,
            }
            for f in result.findings
        ],
        "safe_after": evidence.safe_after,
    }


def changes_since(last_check: dict[str, dict[str, Any]], results: Any) -> list[dict[str, Any]]:
    """The domains whose live verdict differs from the last live one the state remembers."""
    out = []
    for r in results:
        name = r.domain or r.input
        before = last_check.get(name, {})
        if before.get("live") is False:
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
