"""Command-line options that several commands share (check, watch; runbook copies check's), defined once.

`dns_options` adds the five DNS options to a command and hands the command one `DnsSettings` as `dns`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import click

from dnscheck.settings import DnsSettings, Mode


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
    help="Resolver to ask (repeatable; IPv6 as [addr]:port). Default: /etc/resolv.conf.",
)
timeout = click.option(
    "--timeout",
    type=Seconds(min=0.1, max=3600),
    default=10.0,
    show_default=True,
    help="Most seconds one domain's whole check may take.",
)
mode = click.option(
    "--mode",
    type=click.Choice([m.value for m in Mode]),
    default="auto",
    show_default=True,
    help="resolver: the resolver's view only. authoritative: also ask the parent zone and every "
    "authoritative server directly (required). auto: authoritative when reachable, else the "
    "resolver's view with AUTHORITATIVE_SKIPPED.",
)
concurrency = click.option(
    "--concurrency",
    type=click.IntRange(1, 10000),
    default=50,
    show_default=True,
    help="Domains checked at the same time.",
)
per_server = click.option(
    "--per-server",
    type=click.IntRange(1, 100000),
    default=200,
    show_default=True,
    help="Most DNS queries in flight to any one resolver (and 20 to any one authoritative server).",
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
        **kwargs: Any,
    ) -> Any:
        dns = DnsSettings(tuple(resolvers), timeout, Mode(mode), concurrency, per_server)
        return command(*args, dns=dns, **kwargs)

    for option in (per_server, concurrency, mode, timeout, resolver):
        wrapper = option(wrapper)
    return wrapper
