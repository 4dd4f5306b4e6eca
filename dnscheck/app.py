"""Wiring: build the source, the format and the runner from the options, run, and return the exit code."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TextIO

from dnscheck.check import Options
from dnscheck.collect import Source
from dnscheck.errors import ConfigError
from dnscheck.formats import get_format
from dnscheck.formats.base import Summary
from dnscheck.models import Result, Verdict
from dnscheck.progress import Progress


def build_source(
    resolvers: Iterable[str],
    timeout: float,
    zone_file: str | None,
    domains: Iterable[str] = (),
    per_server: int | None = None,
) -> Source:
    """A resolver source, or with `zone_file` a zone-file source whose origin, when the file has no $ORIGIN,
    is the first valid one of `domains`."""
    if zone_file:
        from dnscheck.collect.zonefile import ZoneFileSource, load_zone
        from dnscheck.normalise import Target, normalise

        first = next((t.domain for x in domains if isinstance(t := normalise(x), Target)), ".")
        return ZoneFileSource(load_zone(zone_file, first), zone_file)
    from dnscheck.collect.resolver import ResolverSource, ServerLimit, make_resolver, parse_server

    servers = [parse_server(r) for r in resolvers]
    return ResolverSource(make_resolver(servers, timeout, ServerLimit(per_server) if per_server else None))


def use_color(choice: str, out: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    return out.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[TextIO]:
    if path is None or path == "-":
        yield sys.stdout
        return
    from dnscheck.output import atomic_open

    with atomic_open(path) as f:
        yield f


def run_check(
    *,
    lines: Iterator[str],
    zone_file: str | None,
    resolvers: Iterable[str],
    timeout: float,
    concurrency: int,
    fmt: str,
    output: str | None,
    color: str,
    mode: str = "auto",
    explain: bool = False,
    changed_at: datetime | None = None,
    per_server: int | None = None,
    progress: bool = False,
    total: int | None = None,
    watch_state: str | None = None,
) -> int:
    # Zone-file mode takes its domains as arguments: few enough to hold, and they may give the zone's origin.
    source_lines: Iterable[str] = list(lines) if zone_file else lines
    source = build_source(resolvers, timeout, zone_file, source_lines if zone_file else (), per_server)
    changed_at_for = None
    if watch_state:
        from dnscheck.watch import WatchState

        if not os.path.exists(watch_state):
            raise ConfigError(
                f"--watch-state {watch_state}: no such file (write one with dnscheck watch --state)"
            )
        changed_at_for = WatchState.load(watch_state).changed_at
    options = Options(
        timeout=timeout, mode=mode, explain=explain, changed_at=changed_at, changed_at_for=changed_at_for
    )
    bar = Progress(total, enabled=progress)
    summary = asyncio.run(_run(source_lines, source, options, concurrency, fmt, output, color, bar))
    return summary.worst.exit_code if summary.total else Verdict.UNKNOWN.exit_code


async def _run(
    lines: Iterable[str],
    source: Source,
    options: Options,
    concurrency: int,
    fmt: str,
    output: str | None,
    color: str,
    bar: Progress | None = None,
) -> Summary:
    from dnscheck.check import check
    from dnscheck.runner import Runner, read_in_thread

    bar = bar or Progress(None, enabled=False)
    if not isinstance(lines, list):  # a stream (stdin, a file): read it without stalling the checks
        lines = read_in_thread(lines)  # type: ignore[assignment]

    runner = Runner(functools.partial(check, source=source, options=options), concurrency)
    summary = Summary()
    start = time.monotonic()
    with open_output(output) as out:
        formatter = get_format(fmt)(bar.guard(out), use_color(color, out))
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
    *,
    zone_file: str | None,
    resolvers: Iterable[str],
    timeout: float,
    mode: str = "auto",
    concurrency: int = 50,
) -> list[Result]:
    """Check a few domains; their results in input order. For commands built on the check (runbook)."""
    source = build_source(resolvers, timeout, zone_file, domains)
    return asyncio.run(check_all(domains, source, Options(timeout=timeout, mode=mode), concurrency))


async def check_all(lines: Iterable[str], source: Source, options: Options, concurrency: int) -> list[Result]:
    """Every line's result, in input order, from a fresh runner (no results remembered from a previous call)."""
    from dnscheck.check import check
    from dnscheck.runner import Runner

    runner = Runner(functools.partial(check, source=source, options=options), concurrency)
    return [r async for r in runner.run(lines)]
