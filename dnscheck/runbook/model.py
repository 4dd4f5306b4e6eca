"""The runbook's values: steps, their words (message ids + arguments), acknowledgements, evidence. Pure data.

Nothing here holds a translated sentence: a `Text` is a message id (marked with `N_()` where it is written) and its
arguments, rendered with `dnscheck.i18n._()` only when a report is written. So the state file and the JSON keep
ids and data, and a catalogue for another language can follow without touching the logic.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dnscheck.i18n import N_, _, number, when
from dnscheck.models import Finding, Result

REPORT_SCHEMA = "dnscheck-runbook-report/2"


class Status(enum.StrEnum):
    DONE = "done"
    ACTION = "action-required"
    PLANNED = "planned"  # a --zone-file says the planned zone is ready: publish it, then re-run
    MANUAL = "manual"  # ready for a person to do, then acknowledge
    WAITING = "waiting"  # on caches (see ready_at) or on earlier steps (see waits_for)
    UNKNOWN = "unknown"


# A status value (JSON, --ack) -> its word in a report.
STATUS_WORDS = {
    Status.DONE: N_("done"),
    Status.ACTION: N_("action-required"),
    Status.PLANNED: N_("planned"),
    Status.MANUAL: N_("manual"),
    Status.WAITING: N_("waiting"),
    Status.UNKNOWN: N_("unknown"),
}

UPDATE_MX, CHANGE_NS, SAVE_DATA = "update-mx", "change-ns", "save-data"
REMOVE_DOMAINS, CANCEL, UNINSTALL = "remove-domains", "cancel-subscription", "uninstall-office"
STEP_IDS = (UPDATE_MX, CHANGE_NS, SAVE_DATA, REMOVE_DOMAINS, CANCEL, UNINSTALL)
# Steps a person does and acknowledges. The DNS steps are done when a live check says so, never by an ack.
ACKABLE = (SAVE_DATA, REMOVE_DOMAINS, CANCEL, UNINSTALL)
# The article's order, as dependencies: a step is due only when these are done.
DEPENDS: dict[str, tuple[str, ...]] = {
    UPDATE_MX: (),
    CHANGE_NS: (),
    SAVE_DATA: (),
    REMOVE_DOMAINS: (UPDATE_MX, CHANGE_NS),
    CANCEL: (SAVE_DATA, REMOVE_DOMAINS),
    UNINSTALL: (CANCEL,),
}

# Exit codes: the first status found, in this order, decides.
EXIT_CODES = (
    (Status.UNKNOWN, 3),
    (Status.ACTION, 2),
    (Status.PLANNED, 2),
    (Status.MANUAL, 1),
    (Status.WAITING, 1),
)


@dataclass(frozen=True)
class Text:
    """A message id and its arguments; `str()` renders it in the current language."""

    id: str
    args: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        from dnscheck.catalogue import render

        return render(self.id, {k: _value(v) for k, v in self.args})

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "args": {k: _plain(v) for k, v in self.args}}


def t(msgid: str, **args: Any) -> Text:
    return Text(msgid, tuple(args.items()))


def _value(v: Any) -> str:
    """An argument as words, now: a list joined, a Text or a Finding rendered in the current language, a date
    or a number written as the language writes it."""
    if isinstance(v, list | tuple):
        return ", ".join(_value(x) for x in v)
    if isinstance(v, Finding):
        return v.message
    if isinstance(v, int) and not isinstance(v, bool):
        return number(v)
    if isinstance(v, str) and _ISO.match(v):
        return when(v)
    if isinstance(v, str) and (m := _STEP_STATUS.match(v)):  # "update-mx (planned)": the status in words
        return f"{m[1]} ({_(STATUS_WORDS[Status(m[2])])})"
    return str(v)


_STEP_STATUS = re.compile(r"([a-z-]+) \((done|action-required|planned|manual|waiting|unknown)\)\Z")
_ISO = re.compile(r"\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:\d\d)?)?\Z")


def _plain(v: Any) -> Any:
    if isinstance(v, Text):
        return v.as_dict()
    if isinstance(v, Finding):
        return {"code": v.code, "args": dict(v.args)}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


@dataclass(frozen=True)
class Ack:
    """A person said a manual step is done: when, for which domains, and whether it was forced past steps that
    were not done (those steps, as "step (status)")."""

    on: str  # YYYY-MM-DD
    domains: tuple[str, ...] = ()
    forced_over: tuple[str, ...] = ()

    @property
    def forced(self) -> bool:
        return bool(self.forced_over)


@dataclass(frozen=True)
class Item:
    """One finding of one domain, shown in the step that owns it."""

    domain: str
    finding: Finding

    def as_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, **self.finding.as_dict()}


@dataclass(frozen=True)
class Said:
    """What one server said for one domain: the MX and NS it returned, or why it could not tell."""

    server: str
    mx: tuple[str, ...] = ()
    ns: tuple[str, ...] = ()
    error: str | None = None
    authoritative: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "mx": list(self.mx),
            "ns": list(self.ns),
            "error": self.error,
            "authoritative": self.authoritative,
        }


@dataclass(frozen=True)
class Evidence:
    """Where one domain's verdict came from, and when: the ground for a DNS step's status."""

    domain: str
    live: bool  # False: a planned zone file
    via: str  # "resolver 127.0.0.1:5300", "zone file fixtures/planned.zone"
    mode: str
    checked_at: str
    verdict: str
    said: tuple[Said, ...] = ()
    authoritative_reached: bool | None = None  # None: not asked (resolver mode, zone file)
    changed_at: str | None = None
    safe_after: str | None = None
    changed_how: str = ""  # "given", "watch", "seen", "first-seen"

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "live": self.live,
            "via": self.via,
            "mode": self.mode,
            "checked_at": self.checked_at,
            "verdict": self.verdict,
            "servers": [s.as_dict() for s in self.said],
            "authoritative_reached": self.authoritative_reached,
            "changed_at": self.changed_at,
            "safe_after": self.safe_after,
            "changed_how": self.changed_how,
        }


@dataclass(frozen=True)
class Step:
    id: str
    status: Status
    detail: tuple[Text, ...]
    advice: tuple[Text, ...] = ()
    items: tuple[Item, ...] = ()
    ack: Ack | None = None
    waits_for: tuple[str, ...] = ()
    ready_at: str | None = None
    evidence: tuple[Evidence, ...] = ()

    @property
    def number(self) -> int:
        return STEP_IDS.index(self.id) + 1

    @property
    def title(self) -> str:
        return _(TITLES[self.id])

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "title": self.title,
            "status": self.status.value,
            "detail": " ".join(str(x) for x in self.detail),
            "messages": [x.as_dict() for x in self.detail],
            "advice": [str(x) for x in self.advice],
            "records": [i.as_dict() for i in self.items],
            "acknowledged": self.ack.on if self.ack else None,
            "forced": list(self.ack.forced_over) if self.ack else [],
            "waits_for": list(self.waits_for),
            "ready_at": self.ready_at,
            "evidence": [e.as_dict() for e in self.evidence],
        }


TITLES = {
    UPDATE_MX: N_("Update the MX record and the other DNS records"),
    CHANGE_NS: N_("Change the domain's NS records (if needed)"),
    SAVE_DATA: N_("Save your data"),
    REMOVE_DOMAINS: N_("Remove the domains from Microsoft 365"),
    CANCEL: N_("Cancel the subscription"),
    UNINSTALL: N_("Uninstall Office"),
}


@dataclass(frozen=True)
class Retention:
    may_delete_from: date
    deleted_by: date

    def as_dict(self) -> dict[str, str]:
        return {
            "may_delete_from": self.may_delete_from.isoformat(),
            "deleted_by": self.deleted_by.isoformat(),
        }


@dataclass(frozen=True)
class Runbook:
    steps: tuple[Step, ...]
    decision: Any  # policy.Decision
    retention: Retention
    results: tuple[Result, ...]
    facts: Any  # policy.Facts
    source: str = ""
    live: bool = True
    partner: str | None = None
    mode: str = ""
    changes: tuple[dict[str, Any], ...] = field(default=())

    @property
    def exit_code(self) -> int:
        statuses = {s.status for s in self.steps}
        return next((code for status, code in EXIT_CODES if status in statuses), 0)

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def ackable_now(self) -> list[str]:
        """The steps a person may acknowledge now: ready (manual), their dependencies done."""
        return [s.id for s in self.steps if s.id in ACKABLE and s.status is Status.MANUAL]

    def next_due(self) -> Step | None:
        return next((s for s in self.steps if s.id in ACKABLE and s.status is Status.MANUAL), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "steps": [s.as_dict() for s in self.steps],
            "cancellation": self.decision.as_dict(),
            "data_retention": self.retention.as_dict(),
            "facts": self.facts.as_dict(),
            "source": self.source,
            "live": self.live,
            "mode": self.mode,
            "partner": self.partner,
            "domains": [r.as_dict() for r in self.results],
            "changes": list(self.changes),
            "exit_code": self.exit_code,
        }


def name_of(result: Result) -> str:
    return result.domain or result.input
