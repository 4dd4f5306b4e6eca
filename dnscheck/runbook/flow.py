"""One runbook run: lock and load the state, merge the options with it, check, build the steps, take the
acknowledgements in order, save, render. The rules live in steps.py; this module only wires."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import click

from dnscheck.i18n import _
from dnscheck.runbook import state as st
from dnscheck.runbook.evidence import Run, evidence_of, remember
from dnscheck.runbook.model import ACKABLE, DEPENDS, Ack, Runbook, Status
from dnscheck.runbook.policy import POLICIES

FACT_OPTIONS = (
    "purchased",
    "licenses",
    "product_key",
    "expires",
    "expired",
    "cancel_date",
    "billing",
    "policy",
    "partner",
)
SETTING_OPTIONS = ("resolvers", "mode", "timeout")
DEFAULT_SETTINGS = {"resolvers": [], "mode": "auto", "timeout": 10.0}


@dataclass
class Request:
    domains: tuple[str, ...]
    options: dict[str, Any]
    given: set[str] = field(default_factory=set)  # the options given on the command line, not defaulted

    def __getattr__(self, name: str) -> Any:
        try:
            return self.options[name]
        except KeyError:
            raise AttributeError(name) from None


def run(req: Request) -> int:
    if req.interactive and not _is_tty():
        raise click.UsageError(
            _("--interactive needs a terminal on stdin; acknowledge steps with --ack STEP instead")
        )
    _suits(req.fmt)
    path = req.state_file
    if path and not os.access(os.path.dirname(os.path.abspath(path)), os.W_OK):
        raise click.UsageError(
            _("--state {path}: its directory does not exist or is not writable").format(path=path)
        )
    with st.locked(path) if path else contextlib.nullcontext():
        book, save = _run(req, (st.load(path) if path else None) or st.State())
        save()
    _render(book, req.fmt, req.output)
    return book.exit_code


def _is_tty() -> bool:
    return sys.stdin.isatty()


def _run(req: Request, saved: st.State) -> tuple[Runbook, Callable[[], None]]:
    from dnscheck.runbook.steps import Context, build

    settings = _settings(req, saved)
    names = _domains(req, saved)
    given = _given_facts(req, saved)
    today = date.today()
    facts, policy = _facts(given, today), POLICIES[given.get("policy", "article")]
    results, run = _check(req, names, settings)
    history = remember(saved.history, results, run)
    evidence = {e.domain: e for e in (evidence_of(r, history, run) for r in results)}
    acks = dict(saved.acks)
    changes = tuple(st.changes_since(saved.last_check, results)) if run.live else ()

    def rebuild() -> Runbook:
        tenant = bool(req.options.get("tenant_check")) and run.live
        book = build(results, facts, policy, acks, Context(run.now, run.live, evidence, tenant), run.via)
        return dataclasses.replace(book, changes=changes, mode=run.mode)

    book = _take_acks(req, rebuild(), acks, names, today, rebuild)
    last = {k: v for k, v in saved.last_check.items() if k in names}
    if run.live:
        last.update(
            {e.domain: st.last_check_of(r, e) for r, e in zip(results, evidence.values(), strict=True)}
        )
    facts_kept = {k: v for k, v in given.items() if v is not None}

    def save() -> None:
        if req.state_file:
            st.save(req.state_file, st.State(names, facts_kept, dict(acks), settings, history, last))

    if req.interactive:
        book = _walk(book, acks, names, today, rebuild, save)
    return book, save


def _settings(req: Request, saved: st.State) -> dict[str, Any]:
    """Resolver, mode and timeout: given now, else kept from the state, else the defaults. Saved again."""
    out = dict(DEFAULT_SETTINGS)
    out.update(saved.settings)
    for name in SETTING_OPTIONS:
        if name in req.given:
            value = req.options[name]
            out[name] = list(value) if name == "resolvers" else value
    return out


def _domains(req: Request, saved: st.State) -> list[str]:
    given = _normalised(req.domains, from_state=False)
    before = _normalised(tuple(saved.domains), from_state=True)
    if given and before and set(given) != set(before):
        raise click.UsageError(
            _(
                "the --state file is for {before}, not {given}: change its domains with --add-domain / "
                "--remove-domain (or give another --state file)"
            ).format(before=", ".join(before), given=", ".join(given))
        )
    names = given or before
    for extra in _normalised(req.add, from_state=False):
        if extra not in names:
            names.append(extra)
    for gone in _normalised(req.remove, from_state=False):
        if gone not in names:
            raise click.UsageError(
                _("--remove-domain {gone}: not one of {names}").format(
                    gone=gone, names=", ".join(names) or _("none")
                )
            )
        names.remove(gone)
    if not names:
        raise click.UsageError(_("give at least one DOMAIN (or a --state file from an earlier run)"))
    return names


def _normalised(raw: tuple[str, ...], from_state: bool) -> list[str]:
    from dnscheck.normalise import Invalid, normalise

    names: dict[str, None] = {}
    for text in raw:
        item = normalise(text)
        if isinstance(item, Invalid):
            from dnscheck.reasons import translate

            msg = (
                _("{input} in the --state file is not a domain to check: {reason}")
                if from_state
                else _("{input} is not a domain to check: {reason}")
            )
            raise click.UsageError(msg.format(input=repr(item.input), reason=translate(item.reason)))
        names.setdefault(item.domain, None)
    return list(names)


def _given_facts(req: Request, saved: st.State) -> dict[str, Any]:
    """The facts given on the command line, else in the state file. Defaults are not facts: not saved."""
    given = dict(saved.facts)
    given.update({name: req.options[name] for name in FACT_OPTIONS if name in req.given})
    if given.get("policy", "article") not in POLICIES:
        raise click.UsageError(
            _("the --state file names an unknown policy {policy}").format(policy=repr(given["policy"]))
        )
    if given.get("billing") not in (None, "mca", "mosa"):
        raise click.UsageError(
            _("the --state file names an unknown billing account type {billing}").format(
                billing=repr(given["billing"])
            )
        )
    return given


def _facts(given: dict[str, Any], today: date) -> Any:
    from dnscheck.runbook.policy import Facts

    missing = [f"--{n}" for n in ("purchased", "licenses") if given.get(n) is None]
    if missing:
        raise click.UsageError(
            _("give {options} (or a --state file that has them)").format(options=", ".join(missing))
        )
    cancel = given.get("cancel_date") or today
    purchased, expires, expired = given["purchased"], given.get("expires"), given.get("expired")
    if purchased > cancel:
        raise click.UsageError(
            _("--purchased {purchased} is after the cancellation date {cancel}").format(
                purchased=purchased, cancel=cancel
            )
        )
    if expires is not None and expires < purchased:
        raise click.UsageError(
            _("--expires {expires} is before --purchased {purchased}").format(
                expires=expires, purchased=purchased
            )
        )
    if expires is not None and expired is not None and expired != (expires < cancel):
        raise click.UsageError(
            _("--{flag} contradicts --expires {expires} for a cancellation on {cancel}").format(
                flag="expired" if expired else "not-expired", expires=expires, cancel=cancel
            )
        )
    if expired is None:
        expired = expires is not None and expires < cancel
    return Facts(
        cancel_date=cancel,
        purchased=purchased,
        licenses=given["licenses"],
        product_key=bool(given.get("product_key")),
        expires=expires,
        expired=expired,
        billing=given.get("billing"),
        partner=given.get("partner") or None,
    )


def _check(req: Request, names: list[str], settings: dict[str, Any]) -> tuple[list[Any], Run]:
    from dnscheck.app import build_source, check_all, web_options
    from dnscheck.check import Options
    from dnscheck.settings import DnsSettings, Mode

    zone_file = req.options.get("zone_file")
    mode = Mode(settings["mode"])
    dns = DnsSettings(tuple(settings["resolvers"]), settings["timeout"], mode)
    source = build_source(dns, zone_file, names)
    watch = _watch(req.watch_state)
    # MTA-STS as in check; the tenant check when asked (never with a zone file: web_options gives nothing then).
    tenant_check, expected = bool(req.options.get("tenant_check")), req.options.get("expect_tenant") or ()
    extra = web_options(source, zone_file, False, tenant_check, expected)
    options = Options(
        timeout=settings["timeout"],
        mode=mode,
        changed_at=req.changed_at,
        changed_at_for=watch,
        **extra,
    )
    now = datetime.now(UTC)
    results = asyncio.run(check_all(names, source, options, dns.concurrency))
    run = Run(now, not zone_file, source.label, mode.value, req.changed_at, watch)
    return results, run


def _watch(path: str | None) -> Callable[[str], datetime | None] | None:
    if not path:
        return None
    from dnscheck.errors import ConfigError
    from dnscheck.watch import WatchState

    if not os.path.exists(path):
        raise ConfigError(f"--watch-state {path}: no such file (write one with dnscheck watch --state)")
    return WatchState.load(path).changed_at


def _take_acks(
    req: Request, book: Runbook, acks: dict[str, Ack], names: list[str], today: date, rebuild: Any
) -> Runbook:
    """--unack first, then each --ack in the order given: a step is acknowledged only when it is due (its
    dependencies done), unless --force, which is recorded with the steps it went past."""
    for step in req.unacks:
        if step not in ACKABLE:
            raise click.UsageError(
                _("--unack {step}: not a step that can be acknowledged ({steps})").format(
                    step=step, steps=", ".join(ACKABLE)
                )
            )
        acks.pop(step, None)
    book = rebuild() if req.unacks else book
    for step in req.acks:
        acks[step] = _ack(book, step, acks.get(step), names, today, req.force)
        book = rebuild()
    return book


def _ack(book: Runbook, step_id: str, old: Ack | None, names: list[str], today: date, force: bool) -> Ack:
    now = book.ackable_now()
    can = _("steps that can be acknowledged now: {steps}").format(steps=", ".join(now) or _("none"))
    if step_id not in ACKABLE:
        why = _("is done when a live check says so") if step_id in DEPENDS else _("is not a step")
        raise click.UsageError(f"--ack {step_id}: {why}; {can}")
    step = book.step(step_id)
    if step.status is Status.DONE and old is not None:
        return old
    if step.status is Status.MANUAL:
        return Ack(today.isoformat(), tuple(names))
    if force and step.waits_for:
        over = tuple(
            f"{s} ({book.step(s).status.value})"
            for s in DEPENDS[step_id]
            if book.step(s).status is not Status.DONE
        )
        return Ack(today.isoformat(), tuple(names), over)
    waits = ", ".join(f"{s} ({book.step(s).status.value})" for s in step.waits_for) or step.status.value
    hint = "; " + _("--force acknowledges it anyway (recorded and shown)") if step.waits_for else ""
    raise click.UsageError(
        _("--ack {step}: not due yet ({waits}); {can}").format(step=step_id, waits=waits, can=can) + hint
    )


def _walk(
    book: Runbook, acks: dict[str, Ack], names: list[str], today: date, rebuild: Any, save: Any
) -> Runbook:
    """Ask about the next due step only; a yes acknowledges it and the next one may become due."""
    from dnscheck.i18n import _
    from dnscheck.text import clean

    while (step := book.next_due()) is not None:
        click.echo(f"\n{step.number}. {step.title}", err=True)
        for line in (*step.detail, *step.advice):
            click.echo(f"   - {clean(str(line))}", err=True)
        if not click.confirm(_("Is '{step}' done?").format(step=step.id), default=False, err=True):
            break
        acks[step.id] = Ack(today.isoformat(), tuple(names))
        book = rebuild()
        save()  # an interrupted walk keeps what was confirmed
    return book


def _render(book: Runbook, fmt: str, output: str | None) -> None:
    from dnscheck.app import open_output
    from dnscheck.formats import get_format

    with open_output(output) as out:
        get_format(fmt)(out).runbook(book)


def _suits(fmt: str) -> None:
    from dnscheck.formats import get_format

    if not get_format(fmt).runbook_ok:
        raise click.UsageError(
            _("-f {fmt} does not suit a runbook report: use table, json or markdown").format(fmt=fmt)
        )
