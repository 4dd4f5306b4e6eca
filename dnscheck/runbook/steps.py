"""The six steps of the article, composed from check results, a policy and acknowledgements.

Pure: no I/O and no clock; the cancellation date is in the facts. The runbook holds no DNS logic: it reads
the check's verdicts and finding codes, grouped by meaning in the tables below. A code the check adds later
joins a group here, by name.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dnscheck.models import Record, Result, Severity, Verdict
from dnscheck.runbook.policy import (
    ONLINE,
    REDUCE_LICENCES_THEN_CANCEL,
    TURN_OFF_RECURRING_BILLING,
    Decision,
    Facts,
    Policy,
    decide,
)

REPORT_SCHEMA = "dnscheck-runbook-report/1"

# Finding codes by what they mean for the runbook.
# Mail (or some of it) goes to Microsoft 365.
MX_AT_M365 = frozenset({"MX_M365", "MX_CNAME_M365", "MX_INCONSISTENT"})
# The parent's delegation or the zone's own NS records name Microsoft 365 name servers.
NS_AT_M365 = frozenset({"NS_M365", "NS_PARENT_M365", "NS_CHILD_STALE"})
MX_MAY_RELAY = frozenset({"MX_GATEWAY"})  # not M365 itself, but may relay into it
# The delegation's health: worth fixing at the new DNS host, but not Microsoft 365's doing.
NS_HEALTH = frozenset({"NS_MISMATCH", "NS_LAME", "NS_UNREACHABLE"})
DNS_STEP_CODES = MX_AT_M365 | NS_AT_M365 | MX_MAY_RELAY | NS_HEALTH  # reported by update-mx and change-ns

_NS_WHERE = {
    "NS_PARENT_M365": "the registrar's delegation (the parent zone) still names Microsoft 365 name servers",
    "NS_CHILD_STALE": "the zone's own NS records still name Microsoft 365 name servers",
    "NS_M365": "the NS records name Microsoft 365 name servers",
}


class Status(enum.StrEnum):
    DONE = "done"
    ACTION = "action-required"
    MANUAL = "manual"
    WAITING = "waiting"
    UNKNOWN = "unknown"


UPDATE_MX, CHANGE_NS, SAVE_DATA = "update-mx", "change-ns", "save-data"
REMOVE_DOMAINS, CANCEL, UNINSTALL = "remove-domains", "cancel-subscription", "uninstall-office"
STEP_IDS = (UPDATE_MX, CHANGE_NS, SAVE_DATA, REMOVE_DOMAINS, CANCEL, UNINSTALL)
# Steps a person does and acknowledges. The DNS steps are done when the check says so, never by an ack.
ACKABLE = (SAVE_DATA, REMOVE_DOMAINS, CANCEL, UNINSTALL)

TITLES = {
    UPDATE_MX: "Update the MX record and the other DNS records",
    CHANGE_NS: "Change the domain's NS records (if needed)",
    SAVE_DATA: "Save your data",
    REMOVE_DOMAINS: "Remove the domains from Microsoft 365",
    CANCEL: "Cancel the subscription",
    UNINSTALL: "Uninstall Office",
}

# Exit codes: the first status found, in this order, decides.
EXIT_CODES = ((Status.UNKNOWN, 3), (Status.ACTION, 2), (Status.MANUAL, 1), (Status.WAITING, 1))

ADMIN_ONLY = "Only a global admin or a billing admin can cancel the subscription."
MX_ADVICE = (
    "Before changing MX, tell users the cutover date and the new mail provider; they may need to move their "
    "existing Microsoft 365 mail themselves.",
    "On the day MX changes, do the remaining steps.",
)
NS_ADVICE = (
    "First set up MX and every other record at the new DNS host (check the planned zone with "
    "`dnscheck check DOMAIN --zone-file FILE`), then point the NS records at the new host, at the registrar.",
    "Until NS moves, an MX change made at another DNS host has no effect.",
)
UNINSTALL_TEXT = (
    "After the cancellation, Office runs in reduced-functionality mode: users can only read and print "
    'documents, and Office shows "Unlicensed Product" notices. Ask users to uninstall Office from their '
    "computers."
)


@dataclass(frozen=True)
class Ack:
    """A person said a manual step is done: on which day, and (for remove-domains) for which domains."""

    on: str  # YYYY-MM-DD
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Item:
    """A record that needs attention, from one finding of one domain's check."""

    domain: str
    code: str
    message: str
    change: str
    record: Record | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "code": self.code,
            "record": self.record.as_dict() if self.record else None,
            "message": self.message,
            "change": self.change,
        }


@dataclass(frozen=True)
class Step:
    id: str
    status: Status
    detail: str
    advice: tuple[str, ...] = ()
    items: tuple[Item, ...] = ()
    acknowledged: str | None = None

    @property
    def number(self) -> int:
        return STEP_IDS.index(self.id) + 1

    @property
    def title(self) -> str:
        return TITLES[self.id]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "title": self.title,
            "status": self.status.value,
            "detail": self.detail,
            "advice": list(self.advice),
            "records": [i.as_dict() for i in self.items],
            "acknowledged": self.acknowledged,
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
    decision: Decision
    retention: Retention
    results: tuple[Result, ...]
    facts: Facts
    source: str = ""

    @property
    def exit_code(self) -> int:
        statuses = {s.status for s in self.steps}
        return next((code for status, code in EXIT_CODES if status in statuses), 0)

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "steps": [s.as_dict() for s in self.steps],
            "cancellation": self.decision.as_dict(),
            "data_retention": self.retention.as_dict(),
            "facts": self.facts.as_dict(),
            "source": self.source,
            "domains": [r.as_dict() for r in self.results],
            "exit_code": self.exit_code,
        }


def build(
    results: Sequence[Result],
    facts: Facts,
    policy: Policy,
    acks: Mapping[str, Ack] | None = None,
    source: str = "",
) -> Runbook:
    acks = dict(acks or {})
    wrong = set(acks) - set(ACKABLE)
    if wrong:
        raise ValueError(f"not steps a person acknowledges: {', '.join(sorted(wrong))}")
    decision = decide(policy, facts)
    retention = Retention(
        facts.cancel_date + timedelta(days=policy.may_delete_after_days),
        facts.cancel_date + timedelta(days=policy.deleted_by_days),
    )
    steps = [
        _update_mx(results),
        _change_ns(results),
        _save_data(facts, retention, acks.get(SAVE_DATA)),
        _remove_domains(results, acks.get(REMOVE_DOMAINS)),
    ]
    steps.append(_cancel(steps, decision, policy, acks.get(CANCEL)))
    steps.append(_uninstall(acks.get(UNINSTALL)))
    return Runbook(tuple(steps), decision, retention, tuple(results), facts, source)


def name_of(result: Result) -> str:
    return result.domain or result.input


def _items(results: Iterable[Result], codes: frozenset[str]) -> tuple[Item, ...]:
    return tuple(
        Item(name_of(r), f.code, f.message, f.remediation, f.record)
        for r in results
        for f in r.findings
        if f.code in codes
    )


def _leftovers(results: Iterable[Result]) -> tuple[Item, ...]:
    """Every warning the DNS steps do not already cover: records to clean up (SPF, autodiscover, DKIM...)."""
    return tuple(
        Item(name_of(r), f.code, f.message, f.remediation, f.record)
        for r in results
        for f in r.findings
        if f.severity is Severity.WARNING and f.code not in DNS_STEP_CODES
    )


def _has(result: Result, codes: frozenset[str]) -> bool:
    return any(f.code in codes for f in result.findings)


def _names(names: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(names))


def _unknown(results: Iterable[Result]) -> list[Result]:
    return [r for r in results if r.verdict is Verdict.UNKNOWN]


def _why_unknown(results: Sequence[Result]) -> str:
    parts = []
    for r in results:
        reasons = [f.message for f in r.findings if f.severity is Severity.UNKNOWN] or ["no verdict"]
        parts.append(f"{name_of(r)} ({'; '.join(reasons)})")
    return (
        f"The check could not tell for {'; '.join(parts)}. Re-run it (another --resolver, a longer "
        "--timeout) until every domain has a verdict."
    )


def _update_mx(results: Sequence[Result]) -> Step:
    mx = _items(results, MX_AT_M365)
    unknown = _unknown(results)
    if mx:
        detail = (
            f"MX still points at Microsoft 365 for {_names(i.domain for i in mx)}: change the records "
            "below to the new mail provider's servers."
        )
        ns_too = [name_of(r) for r in results if _has(r, NS_AT_M365) and _has(r, MX_AT_M365)]
        if ns_too:
            detail += (
                f" Microsoft 365 also hosts the DNS of {_names(ns_too)}: create the new MX at the new "
                "DNS host and move NS (step change-ns); changing MX anywhere else has no effect."
            )
        if unknown:
            detail += " " + _why_unknown(unknown)
        return Step(UPDATE_MX, Status.ACTION, detail, MX_ADVICE, mx)
    if unknown:
        return Step(UPDATE_MX, Status.UNKNOWN, _why_unknown(unknown), MX_ADVICE)
    gateways = _items(results, MX_MAY_RELAY)
    detail = "No checked domain's MX points at Microsoft 365."
    if gateways:
        detail += (
            f" The MX of {_names(i.domain for i in gateways)} is a mail-security gateway: make sure "
            "it delivers to the new provider, not to Microsoft 365."
        )
    return Step(UPDATE_MX, Status.DONE, detail, MX_ADVICE, gateways)


def _change_ns(results: Sequence[Result]) -> Step:
    ns = _items(results, NS_AT_M365)
    health = _items(results, NS_HEALTH)
    note = (
        f" Delegation warnings for {_names(i.domain for i in health)}: see the records listed."
        if health
        else ""
    )
    unknown = _unknown(results)
    if ns:
        where = "; ".join(f"{i.domain}: {_NS_WHERE.get(i.code, i.message)}" for i in ns)
        detail = f"Microsoft 365 still serves DNS: {where}. Move NS only once the new DNS host is ready."
        if unknown:
            detail += " " + _why_unknown(unknown)
        return Step(CHANGE_NS, Status.ACTION, detail + note, NS_ADVICE, ns + health)
    if unknown:
        return Step(CHANGE_NS, Status.UNKNOWN, _why_unknown(unknown) + note, NS_ADVICE, health)
    return Step(
        CHANGE_NS,
        Status.DONE,
        "Neither the delegation nor the zone names Microsoft 365 name servers: an MX change takes "
        "effect at once." + note,
        NS_ADVICE,
        health,
    )


def _save_data(facts: Facts, retention: Retention, ack: Ack | None) -> Step:
    detail = (
        f"Users lose access to their Microsoft 365 data when the cancellation takes effect "
        f"({facts.cancel_date.isoformat()}): before that, they save their OneDrive for Business and "
        f"SharePoint Online files elsewhere. Data left behind may be deleted from "
        f"{retention.may_delete_from.isoformat()} and is deleted by "
        f"{retention.deleted_by.isoformat()}."
    )
    if ack:
        return Step(SAVE_DATA, Status.DONE, f"Acknowledged on {ack.on}. {detail}", acknowledged=ack.on)
    return Step(SAVE_DATA, Status.MANUAL, detail)


def _remove_domains(results: Sequence[Result], ack: Ack | None) -> Step:
    leftovers = _leftovers(results)
    not_ready = [r for r in results if r.verdict in (Verdict.BLOCKED, Verdict.UNKNOWN)]
    names = [name_of(r) for r in results]
    if not_ready:
        why = "; ".join(f"{name_of(r)} is {r.verdict.value}" for r in not_ready)
        detail = (
            f"Do not remove the domains yet: {why}. Finish steps update-mx and change-ns, then re-run "
            "the check."
        )
        if ack:
            detail += f" (Acknowledged on {ack.on}, but the check disagrees.)"
        return Step(
            REMOVE_DOMAINS, Status.ACTION, detail, items=leftovers, acknowledged=ack.on if ack else None
        )
    cleanup = " Then clean up the leftover records listed at the DNS host." if leftovers else ""
    missing = [n for n in names if ack and n not in ack.domains]
    if ack and not missing:
        return Step(
            REMOVE_DOMAINS,
            Status.DONE,
            f"Acknowledged on {ack.on}.{cleanup}",
            items=leftovers,
            acknowledged=ack.on,
        )
    detail = (
        f"Mail and DNS no longer depend on Microsoft 365: remove {_names(names)} in the admin center "
        f"(Settings > Domains).{cleanup}"
    )
    if ack:
        detail += (
            f" (Acknowledged on {ack.on} for {_names(ack.domains) or 'no domain'}, not for "
            f"{_names(missing)}.)"
        )
    return Step(REMOVE_DOMAINS, Status.MANUAL, detail, items=leftovers)


def _cancel(before: Sequence[Step], decision: Decision, policy: Policy, ack: Ack | None) -> Step:
    advice = [ADMIN_ONLY, *_how(decision), *policy.notes]
    summary = _decision_text(decision)
    pending = [s for s in before if s.status is not Status.DONE]
    acked = f" (Acknowledged on {ack.on}.)" if ack else ""
    if pending:
        waiting = ", ".join(f"{s.id} ({s.status.value})" for s in pending)
        return Step(
            CANCEL,
            Status.WAITING,
            f"Waiting for: {waiting}.{acked} {summary}",
            tuple(advice),
            acknowledged=ack.on if ack else None,
        )
    if ack:
        return Step(
            CANCEL, Status.DONE, f"Acknowledged on {ack.on}. {summary}", tuple(advice), acknowledged=ack.on
        )
    return Step(CANCEL, Status.MANUAL, summary, tuple(advice))


def _decision_text(d: Decision) -> str:
    refund = {True: "yes", False: "no", None: "not stated"}[d.refund]
    how = {
        TURN_OFF_RECURRING_BILLING: "online, by turning off recurring billing",
        REDUCE_LICENCES_THEN_CANCEL: "online, after reducing the licences to 25 or fewer",
    }.get(d.action, "online" if d.channel == ONLINE else "by phone")
    fee = " Early-cancellation fees may apply." if d.fee_warning else ""
    return f"Cancel {how}; refund: {refund}.{fee}"


def _how(d: Decision) -> list[str]:
    if d.channel != ONLINE:
        return [
            "Call Microsoft support (admin center: Support > Contact support) and ask them to cancel the "
            "subscription."
        ]
    if d.action == TURN_OFF_RECURRING_BILLING:
        return [
            "Admin center: Billing > Your products > pick the subscription > turn off recurring billing. "
            "The subscription stays active until the end of its term."
        ]
    out = []
    if d.action == REDUCE_LICENCES_THEN_CANCEL:
        out.append(
            "First reduce the licences to 25 or fewer (Billing > Your products > the subscription > "
            "Add or remove licenses)."
        )
    out += [
        "Admin center: Billing > Subscriptions (Your products) > pick the subscription > More actions > "
        "Cancel subscription; review the important dates, give a reason and confirm. The subscription "
        "then shows as Disabled, with reduced functionality until it is deleted.",
        "If the Cancel subscription option is not offered, call support.",
    ]
    return out


def _uninstall(ack: Ack | None) -> Step:
    if ack:
        return Step(
            UNINSTALL, Status.DONE, f"Acknowledged on {ack.on}. {UNINSTALL_TEXT}", acknowledged=ack.on
        )
    return Step(UNINSTALL, Status.MANUAL, UNINSTALL_TEXT)
