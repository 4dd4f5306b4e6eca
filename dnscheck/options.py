"""Command-line options that several commands share (check, watch; runbook copies check's), defined once."""

from __future__ import annotations

import click

resolver = click.option(
    "--resolver",
    "resolvers",
    multiple=True,
    metavar="HOST[:PORT]",
    help="Resolver to ask (repeatable; IPv6 as [addr]:port). Default: /etc/resolv.conf.",
)
timeout = click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=3600),
    default=10.0,
    show_default=True,
    help="Most seconds one domain's whole check may take.",
)
mode = click.option(
    "--mode",
    type=click.Choice(["auto", "resolver", "authoritative"]),
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
