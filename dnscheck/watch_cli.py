"""`dnscheck watch`: the click command around dnscheck.watch (registered on the group in dnscheck.cli)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from dnscheck import options
from dnscheck.i18n import N_, _

if TYPE_CHECKING:
    from dnscheck.models import Verdict
    from dnscheck.settings import DnsSettings


WATCH_EXIT_HELP = N_("""\b
Exit codes (the worst verdict of the last round, as for check):
  0 safe   1 warning   2 blocked   3 unknown   64 usage error   73/74 --state cannot be written   130 interrupted
""")


WATCH_HELP = N_("""Re-check DOMAINs until each reaches the wanted verdict: the cutover monitor.

Prints each change as it is seen (the verdict, and which record changed on which server), with the time.
Every round checks every domain, so a domain that slips back is reported too.

\b
Examples:
  dnscheck watch contoso.com --until safe --interval 60s --max-wait 6h
  dnscheck watch contoso.com fabrikam.com --until warning --state cutover.json
""")


class Duration(click.ParamType):
    """Seconds, from `30`, `30s`, `5m`, `6h`, `1d` or `1h30m`."""

    name = "duration"

    def __init__(self, minimum: float = 0.0) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float):
            seconds = float(value)
        else:
            from dnscheck.watch import parse_duration

            try:
                seconds = parse_duration(str(value))
            except ValueError as e:
                self.fail(str(e), param, ctx)
        if seconds < self.minimum:
            self.fail(
                _("{value} is shorter than the minimum of {minimum}s").format(
                    value=repr(value), minimum=f"{self.minimum:g}"
                ),
                param,
                ctx,
            )
        return seconds


@click.command(help=WATCH_HELP, epilog=WATCH_EXIT_HELP)
@click.argument("domains", nargs=-1, required=True, metavar="DOMAIN...")
@click.option(
    "--until",
    type=click.Choice(["safe", "warning"]),
    default="safe",
    show_default=True,
    help=N_("Stop when every domain is at this verdict or a better one."),
)
@click.option(
    "--interval",
    type=Duration(minimum=1),
    default="60s",
    show_default=True,
    help=N_("Time between rounds (30s, 5m, 1h...)."),
)
@click.option(
    "--max-wait",
    type=Duration(),
    default="6h",
    show_default=True,
    help=N_("Give up after this long; the exit code is then the last round's worst verdict."),
)
@click.option(
    "--state",
    "state_file",
    metavar="FILE",
    help=N_(
        "Keep the record sets and the time each change was first seen in FILE (JSON, 0600), and "
        "start from it on the next run."
    ),
)
@options.dns_options
def watch(
    domains: tuple[str, ...],
    until: str,
    interval: float,
    max_wait: float,
    state_file: str | None,
    dns: DnsSettings,
) -> int:
    import asyncio  # here, not at the top: `dnscheck --version` must stay cheap

    from dnscheck.models import Verdict
    from dnscheck.normalise import Invalid, Target, normalise
    from dnscheck.reasons import translate

    targets: dict[str, Target] = {}
    bad = []
    for raw in domains:
        item = normalise(raw)
        if isinstance(item, Invalid):
            bad.append(f"{item.input!r}: {translate(item.reason)}")
        else:
            targets.setdefault(item.domain, item)
    if bad:
        raise click.UsageError(_("cannot watch {inputs}").format(inputs="; ".join(bad)))
    final = asyncio.run(_watch(list(targets.values()), Verdict(until), interval, max_wait, state_file, dns))
    return final.exit_code


async def _watch(
    targets: list[Any],
    until: Verdict,
    interval: float,
    max_wait: float,
    state_file: str | None,
    dns: DnsSettings,
) -> Verdict:
    from dnscheck.app import build_source, check_all
    from dnscheck.check import Options
    from dnscheck.watch import Event, WatchState, watch

    state = WatchState.load(state_file)
    state.save()  # an unwritable --state is a usage error now, not after the first round
    source = build_source(dns, None)
    # No changed_at here: watch knows the old records' own TTLs and waits for caches itself (watch.py).
    options = Options(timeout=dns.timeout, mode=dns.mode)

    async def check_round(ts: list[Any]) -> list[Any]:
        return await check_all([t.domain for t in ts], source, options, dns.concurrency)

    def emit(event: Event) -> None:
        click.echo(event.line())
        sys.stdout.flush()

    return await watch(
        targets,
        check_round,
        until=until,
        interval=interval,
        max_wait=max_wait,
        state=state,
        emit=emit,
        resolver=source.label,
    )
