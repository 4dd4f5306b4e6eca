"""`dnscheck runbook`: the click command. It parses; `flow.py` runs. No rules live here.

The check's DNS options (--zone-file, --resolver, --timeout, --mode) are taken from the `check` command itself, so
both commands accept the same options with the same help and defaults.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import click

from dnscheck import options
from dnscheck.formats import FORMATS
from dnscheck.i18n import N_
from dnscheck.runbook.model import STEP_IDS
from dnscheck.runbook.policy import POLICIES

# Taken from `check` when it has them (the tenant check's options arrive with it).
SHARED_CHECK_OPTIONS = ("zone_file", "resolvers", "timeout", "mode", "tenant_check", "expect_tenant")

EXIT_HELP = N_("""\b
Exit codes:
  0   every step is done
  1   only manual steps remain, or steps wait on caches or on earlier steps
  2   an action is required (DNS still at Microsoft 365, a planned zone to publish, a domain not ready)
  3   unknown: the check could not tell for some domain, so neither can the steps that depend on it
  64  usage error (bad option, an acknowledgement out of order, unreadable, damaged, foreign or busy --state file)
  73  the --state file cannot be created   74  writing it failed (disk full)
""")


class IsoDate(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        from dnscheck.schema import FIRST_YEAR, LAST_YEAR

        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date: give YYYY-MM-DD", param, ctx)
        if not FIRST_YEAR <= day.year <= LAST_YEAR:  # 9999-12-31 + 90 days of retention overflowed
            self.fail(f"{value!r} is out of range ({FIRST_YEAR} to {LAST_YEAR})", param, ctx)
        return day


RUNBOOK_HELP = N_("""The six steps to cancel a Microsoft 365 subscription, checked against live DNS.

Checks each DOMAIN like `dnscheck check` and says, step by step, what is done and what remains: update
MX, change NS, save data, remove the domains, cancel, uninstall Office. A DNS step is done only from a
live check once caches are clear; a step is due only when the steps before it are done.

\b
Examples:
  dnscheck runbook contoso.com --purchased 2025-01-15 --licenses 12 --state cancel.json
  dnscheck runbook --state cancel.json --zone-file fixtures/planned.zone   # the planned zone
  dnscheck runbook --state cancel.json --ack save-data                     # resume, acknowledge
  dnscheck runbook --state cancel.json -f markdown -o ticket.md
""")


@click.command(help=RUNBOOK_HELP, epilog=EXIT_HELP)
@click.argument("domains", nargs=-1, metavar="DOMAIN...")
@click.option(
    "--purchased", type=IsoDate(), help=N_("When it was bought (--policy current: started or renewed).")
)
@click.option("--licenses", type=click.IntRange(min=0), metavar="N", help=N_("Licences assigned to users."))
@click.option(
    "--product-key/--no-product-key", default=False, help=N_("Bought with an Office 365 product key.")
)
@click.option(
    "--expires", type=IsoDate(), help=N_("The subscription's end date (for the early-cancellation fee).")
)
@click.option(
    "--expired/--not-expired",
    default=None,
    help=N_("Whether the subscription has expired. Default: from --expires, else not expired."),
)
@click.option("--cancel-date", type=IsoDate(), help=N_("When you will cancel. Default: today."))
@click.option(
    "--policy",
    type=click.Choice(list(POLICIES)),
    default="article",
    show_default=True,
    help=N_("Channel rules: the source article's, or Microsoft's current ones (MCA 7-day window, MOSA)."),
)
@click.option(
    "--billing",
    type=click.Choice(["mca", "mosa"]),
    help=N_("Billing account type, for --policy current (admin center: Billing > Billing accounts)."),
)
@click.option(
    "--partner",
    metavar="NAME",
    help=N_(
        "The subscription was bought through a partner (e.g. GoDaddy): the partner, not Microsoft, cancels it."
    ),
)
@click.option(
    "--ack",
    "acks",
    multiple=True,
    metavar="STEP",
    help=N_(
        "Acknowledge a manual step as done, once the steps before it are (repeatable): save-data, "
        "remove-domains, cancel-subscription, uninstall-office."
    ),
)
@click.option("--unack", "unacks", multiple=True, metavar="STEP", help=N_("Withdraw an acknowledgement."))
@click.option(
    "--force",
    is_flag=True,
    help=N_("Accept --ack before the steps it depends on are done (recorded and shown)."),
)
@click.option(
    "--add-domain", "add", multiple=True, metavar="DOMAIN", help=N_("Add a domain to the --state file's.")
)
@click.option(
    "--remove-domain",
    "remove",
    multiple=True,
    metavar="DOMAIN",
    help=N_("Drop a domain from the --state file's."),
)
@click.option(
    "--changed-at",
    metavar="TIMESTAMP",
    callback=options.timestamp,
    help=N_("When MX/NS were changed (ISO 8601 or Unix seconds): the DNS steps wait until caches are clear."),
)
@click.option(
    "--watch-state",
    metavar="FILE",
    help=N_("Take each domain's change time from a `dnscheck watch --state FILE` file."),
)
@click.option(
    "--state",
    "state_file",
    metavar="FILE",
    help=N_(
        "Keep domains, settings, facts, acknowledgements and history in FILE (JSON, owner-only, locked)."
    ),
)
@click.option("--interactive", is_flag=True, help=N_("Ask about the next due step (needs a terminal)."))
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default="table",
    show_default=True,
    help=N_(
        "Report format: table, json, or markdown for a change ticket (the others do not suit a runbook)."
    ),
)
@click.option(
    "-o", "--output", metavar="FILE", help=N_("Write the report to FILE (atomically) instead of stdout.")
)
@click.pass_context
def runbook(ctx: click.Context, domains: tuple[str, ...], **options: Any) -> int:
    from dnscheck.runbook.flow import Request, run

    given = {
        name: value
        for name, value in options.items()
        if ctx.get_parameter_source(name) not in (click.core.ParameterSource.DEFAULT, None)
    }
    return run(Request(domains=domains, options=options, given=set(given)))


def runbook_command(check: click.Command) -> click.Command:
    """The runbook command, with the check command's DNS options (as they are defined there) added."""
    cmd = copy.copy(runbook)
    cmd.params = list(runbook.params) + [copy.copy(p) for p in check.params if p.name in SHARED_CHECK_OPTIONS]
    return cmd


__all__ = ["runbook", "runbook_command", "STEP_IDS"]
