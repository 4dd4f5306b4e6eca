"""Wiring: build the source, the format and the runner from the options, run, and return the exit code."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from dnscheck.check import Options
from dnscheck.collect import Source
from dnscheck.collect.run import Run
from dnscheck.errors import ConfigError
from dnscheck.formats import get_format
from dnscheck.formats.base import Summary
from dnscheck.models import Result
from dnscheck.progress import Progress
from dnscheck.settings import CheckSettings, DnsSettings, OutputSettings


def build_source(
    dns: DnsSettings, zone_file: str | None, domains: Iterable[str] = (), parent_ds: str | None = None
) -> Source:
    """A resolver source, or with `zone_file` a zone-file source whose origin, when the file has no $ORIGIN,
    is the first valid one of `domains`. `parent_ds` ("live" or a file of DS records) is what the zone file's
    DNSSEC is checked against."""
    if zone_file:
        from dnscheck.collect.zonefile import ZoneFileSource, load_zone
        from dnscheck.normalise import Target, normalise

        first = next((t.domain for x in domains if isinstance(t := normalise(x), Target)), ".")
        # A zone file is checked offline, unless the user named a resolver: then the MX hosts outside the zone
        # are followed through it (does the mail path lead somewhere?).
        outside = _resolver_source(dns) if dns.resolvers else None
        source = ZoneFileSource(load_zone(zone_file, first), zone_file, outside)
        if parent_ds:
            from dnscheck.collect.dnssec_planned import parent_ds_option

            live = _resolver_source(dns) if parent_ds == "live" else None
            source.parent_ds = parent_ds_option(parent_ds, live)
        return source
    return _resolver_source(dns)


def _resolver_source(dns: DnsSettings) -> Source:
    from dnscheck.collect.resolver import ResolverSource, ServerLimit, make_resolver, parse_server

    servers = [parse_server(r) for r in dns.resolvers]
    limit = ServerLimit(dns.per_server) if dns.per_server else None
    return ResolverSource(make_resolver(servers, dns.timeout, limit))


def use_color(choice: str, out: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    return out.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def terminal_width(out: TextIO) -> int | None:
    """The columns to wrap human text to: the terminal's (at least 60), or None when not writing to one."""
    if not out.isatty():
        return None
    import shutil

    return max(60, shutil.get_terminal_size().columns)


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[TextIO]:
    if path is None or path == "-":
        yield sys.stdout
        return
    from dnscheck.output import atomic_open

    with atomic_open(path) as f:
        yield f


def run_check(settings: CheckSettings, lines: Iterator[str], total: int | None = None) -> int:
    """Check every line and write the report; the run's exit code."""
    # Zone-file mode takes its domains as arguments: few enough to hold, and they may give the zone's origin.
    zone_file = settings.zone_file
    source_lines: Iterable[str] = list(lines) if zone_file else lines
    source = build_source(settings.dns, zone_file, source_lines if zone_file else (), settings.parent_ds)
    changed_at_for = None
    if settings.watch_state:
        from dnscheck.watch import WatchState

        if not os.path.exists(settings.watch_state):
            raise ConfigError(
                f"--watch-state {settings.watch_state}: no such file (write one with dnscheck watch --state)"
            )
        changed_at_for = WatchState.load(settings.watch_state, "--watch-state").changed_at
    options = Options(
        timeout=settings.dns.timeout,
        mode=settings.dns.mode,
        explain=settings.explain,
        changed_at=settings.changed_at,
        changed_at_for=changed_at_for,
        **web_options(source, zone_file, settings.no_https, settings.tenant_check, settings.expect_tenants),
    )
    bar = Progress(total, enabled=settings.output.progress)
    summary = asyncio.run(_run(source_lines, source, options, settings.dns.concurrency, settings.output, bar))
    return summary.worst.exit_code


async def _run(
    lines: Iterable[str],
    source: Source,
    options: Options,
    concurrency: int,
    output: OutputSettings,
    bar: Progress | None = None,
) -> Summary:
    from dnscheck.check import check
    from dnscheck.runner import Runner, read_in_thread

    bar = bar or Progress(None, enabled=False)
    if not isinstance(lines, list):  # a stream (stdin, a file): read it without stalling the checks
        lines = read_in_thread(lines)  # type: ignore[assignment]

    run = Run.for_source(source)  # what this run's checks share: server slots, the circuit breaker, caches
    runner = Runner(functools.partial(check, source=source, options=options, run=run), concurrency)
    summary = Summary()
    start = time.monotonic()
    with open_output(output.path) as out:
        formatter = get_format(output.fmt)(bar.guard(out), use_color(output.color, out), terminal_width(out))
        formatter.begin()
        try:
            async for result in runner.run(lines, ordered=formatter.ordered):
                summary.add(result)
                formatter.result(result)
                bar.update(result)
        finally:
            bar.finish()
        summary.elapsed_s = time.monotonic() - start
        summary.finished_at = time.time()
        formatter.end(summary)
    return summary


def check_domains(
    domains: list[str],
    dns: DnsSettings,
    zone_file: str | None = None,
    no_https: bool = False,
    tenant_check: bool = False,
    expect_tenants: Iterable[str] = (),
) -> list[Result]:
    """Check a few domains; their results in input order. For commands built on the check (runbook).
    With `tenant_check`, each Result's `tenant` (a TenantStatus) says whether a tenant holds the domain."""
    source = build_source(dns, zone_file, domains)
    web = web_options(source, zone_file, no_https, tenant_check, expect_tenants)
    options = Options(timeout=dns.timeout, mode=dns.mode, **web)
    return asyncio.run(check_all(domains, source, options, dns.concurrency))


async def check_all(lines: Iterable[str], source: Source, options: Options, concurrency: int) -> list[Result]:
    """Every line's result, in input order, from a fresh runner (no results remembered from a previous call)."""
    from dnscheck.check import check
    from dnscheck.runner import Runner

    run = Run.for_source(source)
    runner = Runner(functools.partial(check, source=source, options=options, run=run), concurrency)
    return [r async for r in runner.run(lines)]


def web_options(
    source: Source, zone_file: str | None, no_https: bool, tenant_check: bool, expect_tenants: Iterable[str]
) -> dict[str, Any]:
    """The HTTPS parts of the check's Options: MTA-STS unless --no-https, the tenant check when asked.
    A zone-file check never goes to the network."""
    if zone_file:
        return {}
    from dnscheck.collect.web import Web

    web = Web(source)
    out: dict[str, Any] = {"web": None if no_https else web}
    if tenant_check:
        from dnscheck.collect.tenant import TenantCheck

        out["tenant"] = TenantCheck(web, tuple(expect_tenants))
    return out
