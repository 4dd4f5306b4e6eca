"""What the user asked for, parsed once by the CLI and handed down as one object. Plain data, no I/O."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from datetime import datetime

from dnscheck.shard import Shard


class Mode(enum.StrEnum):
    """How far the check looks (see the README, "Modes")."""

    AUTO = "auto"  # the authoritative servers when they can be reached, else the resolver's view
    RESOLVER = "resolver"  # the resolver's view only
    AUTHORITATIVE = "authoritative"  # the parent and every authoritative server, required


@dataclass(frozen=True)
class DnsSettings:
    """The DNS options shared by check, watch and the runbook."""

    resolvers: tuple[str, ...] = ()
    timeout: float = 10.0
    mode: Mode = Mode.AUTO
    concurrency: int = 50
    per_server: int = 200
    rate: float | None = None  # most queries per second to each resolver (--rate); None: paced by loss only


@dataclass(frozen=True)
class OutputSettings:
    fmt: str = "table"
    path: str | None = None  # None or "-": stdout
    color: str = "auto"  # auto | always | never
    progress: bool = False


@dataclass(frozen=True)
class CheckSettings:
    dns: DnsSettings = field(default_factory=DnsSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    zone_file: str | None = None
    explain: bool = False
    changed_at: datetime | None = None
    watch_state: str | None = None
    no_https: bool = False  # never fetch MTA-STS policies
    tenant_check: bool = (
        False  # ask Microsoft's sign-in service about each domain (sends the names to Microsoft)
    )
    expect_tenants: tuple[str, ...] = ()  # tenant ids (lower-case GUIDs) the domains are leaving or moving to
    parent_ds: str | None = None  # --parent-ds: "live" or a file of DS records, with zone_file
    workers: int = 1  # processes that share the input (--workers); the CLI resolves its default
    shard: Shard | None = None  # only this slice of the input (--shard K/N)


def default_workers(lines: int | None) -> int:
    """The number of cores this process may run on; no more than the lines, when they are known. (Here, not
    in dnscheck.workers: a single-domain check must not import multiprocessing to learn it needs one worker.)"""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, lines) if lines is not None else cores)
