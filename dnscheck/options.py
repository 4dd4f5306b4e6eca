"""Command-line options that several commands share (check, watch; runbook copies check's), defined once.

`dns_options` adds the six DNS options to a command and hands the command one `DnsSettings` as `dns`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from dnscheck.i18n import N_, _
from dnscheck.settings import DnsSettings, Mode
from dnscheck.shard import Shard


class Seconds(click.FloatRange):
    """A number of seconds in the range, and a number: click's FloatRange lets nan through (every comparison
    with nan is false), and `--timeout nan` made every lookup time out."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return number


resolver = click.option(
    "--resolver",
    "resolvers",
    multiple=True,
    metavar="HOST[:PORT]",
    help=N_("Resolver to ask (repeatable; IPv6 as [addr]:port). Default: /etc/resolv.conf."),
)
timeout = click.option(
    "--timeout",
    type=Seconds(min=0.1, max=3600),
    default=10.0,
    show_default=True,
    help=N_("Most seconds one domain's whole check may take."),
)
mode = click.option(
    "--mode",
    type=click.Choice([m.value for m in Mode]),
    default="auto",
    show_default=True,
    help=N_(
        "resolver: the resolver's view only. authoritative: also ask the parent zone and every "
        "authoritative server directly (required). auto: authoritative when reachable, else the "
        "resolver's view with AUTHORITATIVE_SKIPPED."
    ),
)
concurrency = click.option(
    "--concurrency",
    type=click.IntRange(1, 10000),
    default=50,
    show_default=True,
    help=N_("Domains checked at the same time."),
)
per_server = click.option(
    "--per-server",
    type=click.IntRange(1, 100000),
    default=200,
    show_default=True,
    help=N_("Most DNS queries in flight to any one resolver (and 20 to any one authoritative server)."),
)

rate = click.option(
    "--rate",
    type=click.FloatRange(min=1, max=1_000_000),
    metavar="QPS",
    help=N_(
        "Most queries per second to each resolver (shared by the workers). Without it the pace follows what "
        "the resolver answers: it slows down when queries go unanswered."
    ),
)


def dns_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The shared DNS options, delivered to `command` as one `dns: DnsSettings` argument."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        resolvers: tuple[str, ...],
        timeout: float,
        mode: str,
        concurrency: int,
        per_server: int,
        rate: float | None,
        **kwargs: Any,
    ) -> Any:
        dns = DnsSettings(tuple(resolvers), timeout, Mode(mode), concurrency, per_server, rate)
        return command(*args, dns=dns, **kwargs)

    for option in (rate, per_server, concurrency, mode, timeout, resolver):
        wrapper = option(wrapper)
    return wrapper


def parse_timestamp(value: str | None) -> datetime | None:
    """ISO 8601 (a missing zone is UTC) or Unix seconds, within the years the state files accept."""
    if value is None:
        return None
    text = value.strip()
    try:
        if text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise click.BadParameter(
            _("{value} is not an ISO 8601 time or Unix seconds").format(value=repr(value))
        ) from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    from dnscheck.schema import FIRST_YEAR, LAST_YEAR

    # Outside these years it is a typo, and adding a TTL to 9999-12-31 overflowed inside the check.
    if not FIRST_YEAR <= parsed.astimezone(UTC).year <= LAST_YEAR:
        raise click.BadParameter(
            _("{value} is out of range ({first} to {last})").format(
                value=repr(value), first=FIRST_YEAR, last=LAST_YEAR
            )
        )
    return parsed


def timestamp(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """A click callback for --changed-at and the like."""
    return parse_timestamp(value)


def _shard(ctx: click.Context, param: click.Parameter, value: str | None) -> Shard | None:
    if value is None:
        return None
    try:
        return Shard.parse(value)
    except ValueError:
        raise click.BadParameter(
            _("{value} is not K/N with 1 <= K <= N (e.g. 2/8: the second of eight slices)").format(
                value=repr(value)
            )
        ) from None


workers = click.option(
    "--workers",
    type=click.IntRange(1, 256),
    metavar="N",
    help=N_(
        "Processes that share the input. Default: one per core (one for a single domain). "
        "--concurrency, --per-server and --rate are totals, shared among them."
    ),
)
shard = click.option(
    "--shard",
    metavar="K/N",
    callback=_shard,
    help=N_(
        "Check only the K-th of N slices of the input (e.g. 2/8), chosen by a hash of each line: run the N "
        "slices on N hosts and concatenate their JSON Lines."
    ),
)
