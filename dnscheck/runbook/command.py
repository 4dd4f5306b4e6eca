"""`dnscheck runbook`: parse, merge with the --state file, run the checks, build the steps, render.

No rules live here. The check's DNS options (--zone-file, --resolver, --timeout, --mode) are taken from the
`check` command itself, so both commands accept the same options with the same help and defaults.
"""

from __future__ import annotations

import copy
import os
import sys
from datetime import UTC, date, datetime
from typing import Any

import click
from click.core import ParameterSource

from dnscheck.runbook.policy import POLICIES
from dnscheck.runbook.steps import ACKABLE, REMOVE_DOMAINS, STEP_IDS

SHARED_CHECK_OPTIONS = ("zone_file", "resolvers", "timeout", "mode")
# The subscription facts: command-line values win; missing ones come from the --state file.
FACT_OPTIONS = (
    "purchased",
    "licenses",
    "product_key",
    "expires",
    "expired",
    "cancel_date",
    "billing",
    "policy",
)

EXIT_HELP = """\b
Exit codes:
  0   every step is done
  1   only manual steps remain (acknowledge them with --ack STEP)
  2   an action is required (DNS still at Microsoft 365, or a domain not ready)
  3   unknown: the check could not tell for some domain
  64  usage error (bad option, unreadable or foreign --state file)
A step whose state is unknown outranks one that needs an action: the runbook cannot say what remains.
"""


class IsoDate(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date: give YYYY-MM-DD", param, ctx)


@click.command(epilog=EXIT_HELP)
@click.argument("domains", nargs=-1, metavar="DOMAIN...")
@click.option(
    "--purchased",
    type=IsoDate(),
    help="When the subscription was bought (for --policy current: started or last renewed).",
)
@click.option("--licenses", type=click.IntRange(min=0), metavar="N", help="Licences assigned to users.")
@click.option("--product-key/--no-product-key", default=False, help="Bought with an Office 365 product key.")
@click.option(
    "--expires", type=IsoDate(), help="The subscription's end date (for the early-cancellation fee)."
)
@click.option(
    "--expired/--not-expired",
    default=None,
    help="Whether the subscription has expired. Default: from --expires, else not expired.",
)
@click.option("--cancel-date", type=IsoDate(), help="When you will cancel. Default: today.")
@click.option(
    "--policy",
    type=click.Choice(list(POLICIES)),
    default="article",
    show_default=True,
    help="Channel rules: the source article's, or Microsoft's current ones (MCA 7-day window, MOSA).",
)
@click.option(
    "--billing",
    type=click.Choice(["mca", "mosa"]),
    help="Billing account type, for --policy current (admin center: Billing > Billing accounts).",
)
@click.option(
    "--ack",
    "acks",
    multiple=True,
    type=click.Choice(STEP_IDS),
    metavar="STEP",
    help=f"Acknowledge a manual step as done (repeatable): {', '.join(ACKABLE)}.",
)
@click.option(
    "--state",
    "state_file",
    metavar="FILE",
    help="Keep the facts, acknowledgements and last checks in FILE (JSON, owner-only) and resume from it.",
)
@click.option(
    "--interactive", is_flag=True, help="Walk the manual steps, asking for confirmation (needs a terminal)."
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
    help="Report format; markdown is for a change ticket.",
)
@click.pass_context
def runbook(
    ctx: click.Context,
    domains: tuple[str, ...],
    acks: tuple[str, ...],
    state_file: str | None,
    interactive: bool,
    fmt: str,
    **options: Any,
) -> int:
    """The six steps to cancel a Microsoft 365 subscription, checked against DNS.

    Checks each DOMAIN like `dnscheck check` and says, step by step, what is done and what remains: update
    MX, change NS, save data, remove the domains, cancel (online or by phone, with the refund and the fee
    warning), uninstall Office.

    \b
    Examples:
      dnscheck runbook contoso.com --purchased 2025-01-15 --licenses 12 --expires 2026-01-14
      dnscheck runbook contoso.com --purchased 2025-01-15 --licenses 12 --state cancel.json
      dnscheck runbook --state cancel.json --ack save-data        # later: resume, acknowledge a step
      dnscheck runbook --state cancel.json -f markdown > ticket.md
    """
    from dnscheck.runbook import state as st
    from dnscheck.runbook.steps import Ack

    if interactive and not _is_tty():
        raise click.UsageError(
            "--interactive needs a terminal on stdin; acknowledge steps with --ack STEP instead"
        )
    wrong = [a for a in acks if a not in ACKABLE]
    if wrong:
        raise click.UsageError(
            f"{wrong[0]} is done when the check says so; it cannot be acknowledged "
            f"(these can: {', '.join(ACKABLE)})"
        )

    if state_file and not os.access(os.path.dirname(os.path.abspath(state_file)), os.W_OK):
        raise click.UsageError(f"--state {state_file}: its directory does not exist or is not writable")
    saved = st.load(state_file) if state_file else None
    saved = saved or st.State()
    given = _given_facts(ctx, options, saved)
    names = _domains(domains or tuple(saved.domains), from_state=not domains)
    today = date.today()
    facts = _facts(given, today)
    policy = POLICIES[given.get("policy", "article")]

    merged = dict(saved.acks)
    for step in acks:
        old = merged.get(step)
        if old is None or (step == REMOVE_DOMAINS and not set(names) <= set(old.domains)):
            merged[step] = Ack(today.isoformat(), tuple(names))

    from dnscheck.app import check_domains

    dns = {k: options[k] for k in SHARED_CHECK_OPTIONS if k in options}
    from dnscheck.settings import DnsSettings, Mode

    settings = DnsSettings(
        tuple(dns.get("resolvers", ())), dns.get("timeout", 10.0), Mode(dns.get("mode", "auto"))
    )
    results = check_domains(names, settings, dns.get("zone_file"))
    source = _source_label(dns)

    from dnscheck.runbook.steps import build

    def save() -> None:
        if state_file:
            st.save(state_file, _new_state(names, given, merged, results, source))

    book = build(results, facts, policy, merged, source)
    if interactive:
        book = _walk(book, merged, names, today, lambda: build(results, facts, policy, merged, source), save)
    save()

    from dnscheck.runbook.render import render

    render(book, fmt, sys.stdout, st.changes_since(saved.last_check, results, source))
    return book.exit_code


def runbook_command(check: click.Command) -> click.Command:
    """The runbook command, with the check command's DNS options (as they are defined there) added."""
    cmd = copy.copy(runbook)
    cmd.params = list(runbook.params) + [copy.copy(p) for p in check.params if p.name in SHARED_CHECK_OPTIONS]
    return cmd


def _is_tty() -> bool:
    return sys.stdin.isatty()


def _given_facts(ctx: click.Context, options: dict[str, Any], saved: Any) -> dict[str, Any]:
    """The facts given on the command line, else in the state file. Defaults are not facts: not saved."""
    given = dict(saved.facts)
    for name in FACT_OPTIONS:
        if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None):
            given[name] = options[name]
    if given.get("policy", "article") not in POLICIES:
        raise click.UsageError(f"the --state file names an unknown policy {given['policy']!r}")
    if given.get("billing") not in (None, "mca", "mosa"):
        raise click.UsageError(f"the --state file names an unknown billing account type {given['billing']!r}")
    return given


def _domains(raw: tuple[str, ...], from_state: bool) -> list[str]:
    from dnscheck.normalise import Invalid, normalise

    if not raw:
        raise click.UsageError("give at least one DOMAIN (or a --state file from an earlier run)")
    names: dict[str, None] = {}
    for text in raw:
        item = normalise(text)
        if isinstance(item, Invalid):
            where = " in the --state file" if from_state else ""
            raise click.UsageError(f"{item.input!r}{where} is not a domain to check: {item.reason}")
        names.setdefault(item.domain, None)
    return list(names)


def _facts(given: dict[str, Any], today: date) -> Any:
    from dnscheck.runbook.policy import Facts

    missing = [f"--{n}" for n in ("purchased", "licenses") if given.get(n) is None]
    if missing:
        raise click.UsageError(f"give {' and '.join(missing)} (or a --state file that has them)")
    cancel = given.get("cancel_date") or today
    purchased, expires, expired = given["purchased"], given.get("expires"), given.get("expired")
    if given["licenses"] < 0:
        raise click.UsageError("--licenses cannot be negative")
    if purchased > cancel:
        raise click.UsageError(f"--purchased {purchased} is after the cancellation date {cancel}")
    if expires is not None and expires < purchased:
        raise click.UsageError(f"--expires {expires} is before --purchased {purchased}")
    if expires is not None and expired is not None and expired != (expires < cancel):
        raise click.UsageError(
            f"--{'expired' if expired else 'not-expired'} contradicts --expires {expires} for a cancellation "
            f"on {cancel}"
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
    )


def _source_label(dns: dict[str, Any]) -> str:
    if dns.get("zone_file"):
        return f"zone file {dns['zone_file']} (not live DNS)"
    via = f" via {', '.join(dns['resolvers'])}" if dns.get("resolvers") else ""
    mode = f", mode {dns['mode']}" if "mode" in dns else ""
    return f"live DNS{via}{mode}"


def _walk(book: Any, acks: dict[str, Any], names: list[str], today: date, rebuild: Any, save: Any) -> Any:
    """Ask about each manual step in turn; a yes acknowledges it (and may make the next step manual)."""
    from dnscheck.formats.text import clean
    from dnscheck.runbook.steps import Ack, Status

    for step_id in STEP_IDS:
        step = book.step(step_id)
        if step.status is not Status.MANUAL:
            continue
        click.echo(f"\n{step.number}. {step.title}\n   {clean(step.detail)}", err=True)
        for line in step.advice:
            click.echo(f"   - {clean(line)}", err=True)
        if click.confirm(f"Is '{step.id}' done?", default=False, err=True):
            acks[step_id] = Ack(today.isoformat(), tuple(names))
            book = rebuild()
            save()  # an interrupted walk keeps what was confirmed
    return book


def _new_state(
    names: list[str], given: dict[str, Any], acks: dict[str, Any], results: Any, source: str
) -> Any:
    from dnscheck.runbook.state import State

    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    last = {
        r.domain or r.input: {
            "checked_at": now,
            "source": source,
            "verdict": r.verdict.value,
            "result": r.as_dict(),
        }
        for r in results
    }
    facts = {k: v for k, v in given.items() if v is not None}
    return State(domains=list(names), facts=facts, acks=dict(acks), last_check=last)
