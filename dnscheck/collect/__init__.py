"""Collect: ask a source (a resolver, a zone file) for every record the classifier needs.

Sources sit behind one small interface, the only one the planner uses; `plan.collect` decides what to ask
and enforces the deadline. What the domains of one run share (server slots, the circuit breaker, caches) is
owned by a `run.Run` the run creates.
"""

from __future__ import annotations

from typing import Protocol

from dnscheck.models import Lookup


class Source(Protocol):
    label: str
    # A recursive resolver on the Internet: the delegation can be probed from what it finds (the parent's
    # servers, the addresses of name servers). A zone file knows one zone and nothing of the world around it.
    recursive: bool

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        """Ask for one RRset. Must not raise for DNS trouble: return Undetermined instead."""
        ...

    def covers(self, name: str) -> bool:
        """Whether this source can answer for `name` at all (a zone file only knows its own zone)."""
        ...
