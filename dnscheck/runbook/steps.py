"""The six steps of the article, composed from check results, a policy, evidence and acknowledgements.

Pure: no I/O and no clock (`Context.now` is given). Rules, in the order they are applied:

- Every finding lands in the step that owns its topic (`dnscheck.codes.topic_of`), never by a list of codes, so a
  code added later cannot fall through. A step that owns a blocked finding is `action-required`; one that owns a
  finding of severity unknown is `unknown`.
- A DNS step is `done` only from a live check: the resolver and, in `auto` or `authoritative` mode, the
  authoritative servers. A zone file (`--zone-file`) is the planned zone: at best `planned`, never `done`.
- A DNS step whose change is newer than its domain's `safe_after` is `waiting`, with the time it becomes done.
- A step is due only when the steps it depends on (`DEPENDS`) are done; if one of them is unknown, so is it. An
  acknowledgement makes a due step done; one given with --force before its dependencies were done counts, and
  says so. An acknowledgement never overrides a finding the step owns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dnscheck.codes import Topic, topic_of
from dnscheck.models import Result, Severity, Verdict
from dnscheck.runbook import texts as tx
from dnscheck.runbook.model import (
    ACKABLE,
    CANCEL,
    CHANGE_NS,
    DEPENDS,
    REMOVE_DOMAINS,
    SAVE_DATA,
    UNINSTALL,
    UPDATE_MX,
    Ack,
    Evidence,
    Item,
    Retention,
    Runbook,
    Status,
    Step,
    Text,
    name_of,
    t,
)
from dnscheck.runbook.policy import Facts, Policy, decide

# What each topic is about, as a step. TIMING and INPUT are about the check itself: shown with the first step.
OWNER: dict[Topic, str] = {
    Topic.MAIL: UPDATE_MX,
    Topic.DNS: CHANGE_NS,
    Topic.LEFTOVER: REMOVE_DOMAINS,
    Topic.TENANT: REMOVE_DOMAINS,
    Topic.TIMING: UPDATE_MX,
    Topic.INPUT: UPDATE_MX,
    Topic.RECORD: UPDATE_MX,  # topic_of never returns it; the most conservative place if it did
}
DNS_STEPS = (UPDATE_MX, CHANGE_NS)
PARTNER_CODE = "M365_PARTNER_MANAGED"  # declared by the tenant check when it lands; absent: never seen
TENANT_ABSENT = "TENANT_ABSENT"


@dataclass(frozen=True)
class Context:
    """What the steps need besides the results: the clock, whether the evidence is live, and per domain where
    its verdict came from and when its caches are clear."""

    now: datetime
    live: bool = True
    evidence: Mapping[str, Evidence] = field(default_factory=dict)
    tenant_checked: bool = False  # --tenant-check ran: removal is judged on its evidence


def owner_of(f: object) -> str:
    return OWNER.get(topic_of(f), UPDATE_MX)  # type: ignore[arg-type]


def items_of(results: Iterable[Result], step_id: str) -> tuple[Item, ...]:
    return tuple(Item(name_of(r), f) for r in results for f in r.findings if owner_of(f) == step_id)


def build(
    results: Sequence[Result],
    facts: Facts,
    policy: Policy,
    acks: Mapping[str, Ack] | None = None,
    ctx: Context | None = None,
    source: str = "",
) -> Runbook:
    acks = dict(acks or {})
    wrong = set(acks) - set(ACKABLE)
    if wrong:
        raise ValueError(f"not steps a person acknowledges: {', '.join(sorted(wrong))}")
    ctx = ctx or Context(now=datetime.min)
    decision = decide(policy, facts)
    retention = Retention(
        facts.cancel_date + timedelta(days=policy.may_delete_after_days),
        facts.cancel_date + timedelta(days=policy.deleted_by_days),
    )
    partner = partner_of(results, facts)
    steps: dict[str, Step] = {}
    for step_id in DNS_STEPS:
        steps[step_id] = _dns_step(step_id, results, ctx)
    steps[SAVE_DATA] = _manual(SAVE_DATA, steps, acks.get(SAVE_DATA), tx.save_data(facts, retention))
    steps[REMOVE_DOMAINS] = _remove_domains(results, steps, acks.get(REMOVE_DOMAINS), ctx.tenant_checked)
    steps[CANCEL] = _manual(CANCEL, steps, acks.get(CANCEL), *tx.cancel(decision, policy, partner))
    steps[UNINSTALL] = _manual(UNINSTALL, steps, acks.get(UNINSTALL), (t(tx.UNINSTALL_TEXT),))
    return Runbook(
        tuple(steps.values()), decision, retention, tuple(results), facts, source, ctx.live, partner
    )


def partner_of(results: Iterable[Result], facts: Facts) -> str | None:
    """The partner that manages the subscription, as the admin said (--partner) or a finding showed."""
    if facts.partner:
        return facts.partner
    for r in results:
        for f in r.findings:
            if f.code == PARTNER_CODE:
                args = f.arguments
                return str(next((args[k] for k in ("partner", "host", "name") if args.get(k)), "?"))
    return None


# --- the DNS steps ------------------------------------------------------------------------------------------


def _dns_step(step_id: str, results: Sequence[Result], ctx: Context) -> Step:
    items = items_of(results, step_id)
    evidence = tuple(ctx.evidence[name_of(r)] for r in results if name_of(r) in ctx.evidence)
    status, detail, ready_at = _dns_status(step_id, results, items, ctx)
    return Step(step_id, status, detail, tx.advice(step_id), items, ready_at=ready_at, evidence=evidence)


def _dns_status(
    step_id: str, results: Sequence[Result], items: tuple[Item, ...], ctx: Context
) -> tuple[Status, tuple[Text, ...], str | None]:
    unknown = _unknown_reasons(results, items, ctx)
    blocked = [i for i in items if i.finding.severity is Severity.BLOCKED]
    if blocked:
        return Status.ACTION, _action_texts(step_id, results, blocked) + _unknown_texts(unknown), None
    if unknown:
        return Status.UNKNOWN, _unknown_texts(unknown), None
    if not ctx.live:
        return Status.PLANNED, (t(tx.PLANNED),), None
    ready_at = _ready_at(results, items, ctx)
    if ready_at is not None:
        return Status.WAITING, (t(tx.WAITING_CACHES, ready_at=ready_at),), ready_at
    return Status.DONE, _done_detail(step_id, items, ctx), None


def _action_texts(step_id: str, results: Sequence[Result], blocked: list[Item]) -> tuple[Text, ...]:
    """What to do; a DS at the parent that the keys do not match gets the safe order, with each DS TTL to wait."""
    dnssec = [i for i in blocked if i.finding.code.startswith("DNSSEC_")]
    other = [i for i in blocked if i not in dnssec]
    out = [t(tx.DNS_ACTION[step_id], domains=_names(i.domain for i in other))] if other else []
    if dnssec:
        names = list(dict.fromkeys(i.domain for i in dnssec))
        ttl = {name_of(r): r.ttl.ds for r in results if r.ttl is not None and r.ttl.ds}
        waits = [t(tx.DS_WAIT, domain=n, seconds=ttl.get(n, "?")) for n in names]
        out.append(t(tx.DNSSEC_ACTION, domains=_names(names), waits=waits))
    return tuple(out)


def _done_detail(step_id: str, items: tuple[Item, ...], ctx: Context) -> tuple[Text, ...]:
    warnings = [i for i in items if i.finding.severity is Severity.WARNING]
    done = [t(tx.DNS_DONE[step_id])]
    if any(e.authoritative_reached is None for e in ctx.evidence.values()):
        done.append(t(tx.RESOLVER_ONLY))
    if warnings:
        done.append(t(tx.DONE_WITH_WARNINGS, domains=_names(i.domain for i in warnings)))
    return tuple(done)


def _unknown_reasons(results: Sequence[Result], items: tuple[Item, ...], ctx: Context) -> list[Text]:
    """Why the evidence for this step cannot be trusted: a domain without a verdict, a finding the check could
    not decide, or (live, auto/authoritative mode) authoritative servers that were never reached."""
    out: list[Text] = []
    seen: set[str] = set()
    for r in results:
        if r.verdict is Verdict.UNKNOWN:
            reasons = [f for f in r.findings if f.severity is Severity.UNKNOWN]
            out.append(t(tx.UNKNOWN_DOMAIN, domain=name_of(r), reasons=reasons or ["-"]))
            seen.add(name_of(r))
    for i in items:
        if i.finding.severity is Severity.UNKNOWN and i.domain not in seen:
            out.append(t(tx.UNKNOWN_DOMAIN, domain=i.domain, reasons=[i.finding]))
            seen.add(i.domain)
    if ctx.live:
        for r in results:
            e = ctx.evidence.get(name_of(r))
            if e is None:
                out.append(t(tx.NO_EVIDENCE, domain=name_of(r)))
            elif e.authoritative_reached is False and name_of(r) not in seen:
                out.append(t(tx.NO_AUTHORITATIVE, domain=name_of(r), mode=e.mode))
    return out


def _unknown_texts(reasons: list[Text]) -> tuple[Text, ...]:
    return (*reasons, t(tx.RERUN)) if reasons else ()


def _ready_at(results: Sequence[Result], items: tuple[Item, ...], ctx: Context) -> str | None:
    """The latest safe_after still ahead of now, over the domains; a TIMING finding counts too."""
    times = []
    for r in results:
        e = ctx.evidence.get(name_of(r))
        if e is not None and e.safe_after and _parse(e.safe_after) > ctx.now:
            times.append(e.safe_after)
    for i in items:
        if topic_of(i.finding) is Topic.TIMING:
            times.append(str(i.finding.arguments.get("safe_after") or "?"))
    return max(times) if times else None


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


# --- the manual steps ---------------------------------------------------------------------------------------


def _deps(step_id: str, steps: Mapping[str, Step]) -> tuple[list[Step], list[Step]]:
    """The steps `step_id` depends on that are unknown, and those otherwise not done."""
    before = [steps[d] for d in DEPENDS[step_id]]
    unknown = [s for s in before if s.status is Status.UNKNOWN]
    pending = [s for s in before if s.status not in (Status.DONE, Status.UNKNOWN)]
    return unknown, pending


def _manual(
    step_id: str,
    steps: Mapping[str, Step],
    ack: Ack | None,
    detail: tuple[Text, ...],
    advice: tuple[Text, ...] = (),
    items: tuple[Item, ...] = (),
) -> Step:
    unknown, pending = _deps(step_id, steps)
    not_done = [f"{s.id} ({s.status.value})" for s in unknown + pending]
    if ack is not None and (ack.forced or not not_done):
        return Step(step_id, Status.DONE, (_ack_text(ack), *detail), advice, items, ack)
    if unknown:
        head = t(tx.DEPENDS_UNKNOWN, steps=not_done)
        return Step(
            step_id, Status.UNKNOWN, (head, *detail), advice, items, ack, tuple(s.id for s in unknown)
        )
    if pending:
        head = t(tx.WAITS_FOR, steps=not_done)
        waits = tuple(s.id for s in pending)
        return Step(step_id, Status.WAITING, (head, *detail), advice, items, ack, waits)
    return Step(step_id, Status.MANUAL, detail, advice, items)


def _ack_text(ack: Ack) -> Text:
    if ack.forced:
        return t(tx.ACKED_FORCED, on=ack.on, steps=list(ack.forced_over))
    return t(tx.ACKED, on=ack.on)


def _remove_domains(
    results: Sequence[Result], steps: Mapping[str, Step], ack: Ack | None, tenant_checked: bool
) -> Step:
    items = items_of(results, REMOVE_DOMAINS)
    names = [name_of(r) for r in results]
    own = _own_findings(items, ack)
    if own is not None:
        return own
    step = _manual(REMOVE_DOMAINS, steps, ack, tx.remove_domains(names, items), (), items)
    # Belt and braces: whatever the steps say, a blocked or unknown domain is never ready to remove.
    not_ready = [name_of(r) for r in results if r.verdict in (Verdict.BLOCKED, Verdict.UNKNOWN)]
    if not_ready and step.status in (Status.MANUAL, Status.DONE) and not (ack and ack.forced):
        return Step(
            REMOVE_DOMAINS, Status.ACTION, (t(tx.NOT_READY, domains=not_ready),), items=items, ack=ack
        )
    tenant = _tenant_evidence(results) if tenant_checked else None
    if tenant is None or step.status not in (Status.MANUAL, Status.DONE):
        return _ack_domains(step, names, ack)
    return _tenant_step(step, tenant, items, ack)


def _own_findings(items: tuple[Item, ...], ack: Ack | None) -> Step | None:
    """A blocked or undecided finding of the step's own: no acknowledgement can make it done."""
    blocked = [i.domain for i in items if i.finding.severity is Severity.BLOCKED]
    if blocked:
        return Step(
            REMOVE_DOMAINS, Status.ACTION, (t(tx.OWN_BLOCKED, domains=blocked),), items=items, ack=ack
        )
    unknown = [i.domain for i in items if i.finding.severity is Severity.UNKNOWN]
    if unknown:
        return Step(
            REMOVE_DOMAINS, Status.UNKNOWN, (t(tx.OWN_UNKNOWN, domains=unknown),), items=items, ack=ack
        )
    return None


def _ack_domains(step: Step, names: list[str], ack: Ack | None) -> Step:
    """An acknowledgement of remove-domains counts only for the domains it named."""
    if step.status is not Status.DONE or ack is None:
        return step
    missing = [n for n in names if n not in ack.domains]
    if not missing:
        return step
    detail = (*step.detail[1:], t(tx.ACKED_NOT_FOR, on=ack.on, domains=missing))
    return Step(step.id, Status.MANUAL, detail, step.advice, step.items)


def _tenant_evidence(results: Sequence[Result]) -> dict[str, bool]:
    """With --tenant-check, per domain: is it absent from every tenant? Only TENANT_ABSENT says so: a failed
    or missing answer never reads as absent."""
    return {name_of(r): any(f.code == TENANT_ABSENT for f in r.findings) for r in results}


def _tenant_step(step: Step, absent: dict[str, bool], items: tuple[Item, ...], ack: Ack | None) -> Step:
    still = [d for d, gone in absent.items() if not gone]
    if not still:
        return Step(REMOVE_DOMAINS, Status.DONE, (t(tx.TENANT_GONE),), items=items, ack=ack)
    if ack is not None:
        detail = (t(tx.TENANT_STILL_ACKED, on=ack.on, domains=still),)
        return Step(REMOVE_DOMAINS, Status.ACTION, detail, items=items, ack=ack)
    return Step(REMOVE_DOMAINS, Status.MANUAL, (t(tx.TENANT_STILL, domains=still), *step.detail), items=items)


def _names(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
