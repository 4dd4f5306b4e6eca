"""Wiring: build the source, the format and the runner from the options, run, and return the exit code."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from dnscheck.check import Options
from dnscheck.collect import Source
from dnscheck.collect.run import Run
from dnscheck.errors import ConfigError
from dnscheck.formats import get_format
from dnscheck.formats.base import Summary
from dnscheck.models import Result
from dnscheck.progress import Progress
from dnscheck.settings import CheckSettings, DnsSettings, OutputSettings

if TYPE_CHECKING:
    from dnscheck.runner import Runner


def build_source(
    dns: DnsSettings,
    zone_file: str | None,
    domains: Iterable[str] = (),
    parent_ds: str | None = None,
    shared: Any = None,
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
    return _resolver_source(dns, shared)


def _resolver_source(dns: DnsSettings, shared: Any = None) -> Source:
    from dnscheck.collect.resolver import ResolverSource, ServerLimit, make_resolver, parse_server

    servers = [parse_server(r) for r in dns.resolvers]
    limit = ServerLimit(dns.per_server) if dns.per_server else None
    return ResolverSource(make_resolver(servers, dns.timeout, limit, dns.rate, shared=shared))


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


def options_of(settings: CheckSettings, source: Source, parts: int = 1) -> Options:
    """The options of each check, from the settings (a worker process calls this too, with its own source)."""
    changed_at_for = None
    if settings.watch_state:
        from dnscheck.watch import WatchState

        if not os.path.exists(settings.watch_state):
            raise ConfigError(
                f"--watch-state {settings.watch_state}: no such file (write one with dnscheck watch --state)"
            )
        changed_at_for = WatchState.load(settings.watch_state, "--watch-state").changed_at
    return Options(
        timeout=settings.dns.timeout,
        mode=settings.dns.mode,
        explain=settings.explain,
        changed_at=settings.changed_at,
        changed_at_for=changed_at_for,
        **web_options(
            source,
            settings.zone_file,
            settings.no_https,
            settings.tenant_check,
            settings.expect_tenants,
            parts,
        ),
    )


def make_runner(source: Source, options: Options, concurrency: int, parts: int = 1) -> Runner:
    """The runner of one run (or of one of `parts` worker processes' part of it)."""
    from dnscheck.check import check
    from dnscheck.runner import Runner

    admit = getattr(source, "admit", None)
    run = Run.for_source(source, parts)  # what this run's checks share: server slots, circuit breaker, caches
    return Runner(
        functools.partial(check, source=source, options=options, run=run),
        concurrency,
        admit=functools.partial(admit, timeout=options.timeout) if admit else None,
    )


def run_check(settings: CheckSettings, lines: Iterator[str], total: int | None = None) -> int:
    """Check every line and write the report; the run's exit code."""
    # Zone-file mode takes its domains as arguments: few enough to hold, and they may give the zone's origin.
    zone_file = settings.zone_file
    source_lines: Iterable[str] = list(lines) if zone_file else lines
    source = build_source(settings.dns, zone_file, source_lines if zone_file else (), settings.parent_ds)
    options = options_of(
        settings, source
    )  # errors in the options before any output, and before any worker starts
    bar = Progress(total, enabled=settings.output.progress)
    if settings.workers > 1 and not zone_file:
        summary = _run_parallel(settings, lines, bar)
    else:
        summary = asyncio.run(
            _run(
                source_lines,
                source,
                options,
                settings.dns.concurrency,
                settings.output,
                bar,
                settings.dns.per_server,
            )
        )
    return summary.worst.exit_code


class _Report:
    """The report being written: the format, the progress bar and the summary, fed one result at a time."""

    def __init__(self, out: TextIO, output: OutputSettings, bar: Progress) -> None:
        self.bar = bar
        self.formatter = get_format(output.fmt)(
            bar.guard(out), use_color(output.color, out), terminal_width(out)
        )
        self.summary = Summary()
        self.start = time.monotonic()
        self.formatter.begin()

    def add(self, result: Result) -> None:
        self.summary.add(result)
        self.formatter.result(result)
        self.bar.update(result)

    def end(self, pacing: list[Any] | None = None, ceiling: int = 0) -> Summary:
        if pacing:
            _diagnose(self.summary, pacing, ceiling)
        self.summary.elapsed_s = time.monotonic() - self.start
        self.summary.finished_at = time.time()
        self.formatter.end(self.summary)
        return self.summary


def _diagnose(summary: Summary, pacing: list[Any], ceiling: int) -> None:
    """Each resolver's counts into the summary, and what they say on stderr (and in the JSON summary)."""
    from dnscheck.collect.paced import describe, merge

    for address, counts in merge(pacing).items():
        summary.resolvers.append(counts.as_dict(address))
        summary.diagnostics += describe(address, counts, ceiling)
    for line in summary.diagnostics:
        print(f"dnscheck: {line}", file=sys.stderr)


def worker_setup(settings: CheckSettings, pace: Any, parts: int) -> tuple[Source, Runner]:
    """In a worker process: its own source (sockets, caches) and runner, at its share of the limits."""
    source = build_source(settings.dns, None, shared=pace)
    return source, make_runner(source, options_of(settings, source, parts), settings.dns.concurrency, parts)


def _run_parallel(settings: CheckSettings, lines: Iterator[str], bar: Progress) -> Summary:
    from dnscheck.workers import Pool

    pool = Pool(
        settings, settings.workers, worker_setup
    )  # before the output is opened: nothing for a worker to inherit
    with open_output(settings.output.path) as out:
        report = _Report(out, settings.output, bar)
        try:
            for result in pool.results(lines, ordered=report.formatter.ordered):
                report.add(result)
        finally:
            bar.finish()
        return report.end(pool.pacing, settings.dns.per_server)


async def _run(
    lines: Iterable[str],
    source: Source,
    options: Options,
    concurrency: int,
    output: OutputSettings,
    bar: Progress | None = None,
    ceiling: int = 0,
) -> Summary:
    from dnscheck.runner import read_in_thread

    bar = bar or Progress(None, enabled=False)
    if not isinstance(lines, list):  # a stream (stdin, a file): read it without stalling the checks
        lines = read_in_thread(lines)  # type: ignore[assignment]

    runner = make_runner(source, options, concurrency)
    with open_output(output.path) as out:
        report = _Report(out, output, bar)
        try:
            async for result in runner.run(lines, ordered=report.formatter.ordered):
                report.add(result)
        finally:
            bar.finish()
        pacing = getattr(source, "pacing", None)
        return report.end(pacing() if pacing else None, ceiling)


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
    return [r async for r in make_runner(source, options, concurrency).run(lines)]


def web_options(
    source: Source,
    zone_file: str | None,
    no_https: bool,
    tenant_check: bool,
    expect_tenants: Iterable[str],
    parts: int = 1,
) -> dict[str, Any]:
    """The HTTPS parts of the check's Options: MTA-STS unless --no-https, the tenant check when asked.
    A zone-file check never goes to the network. `parts` worker processes share the requests per host."""
    if zone_file:
        return {}
    from dnscheck.collect.web import PER_HOST, Web

    web = Web(source, max(1, PER_HOST // parts))
    out: dict[str, Any] = {"web": None if no_https else web}
    if tenant_check:
        from dnscheck.collect.tenant import TenantCheck

        out["tenant"] = TenantCheck(web, tuple(expect_tenants))
    return out
