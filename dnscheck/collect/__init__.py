"""Collect: ask a source (a resolver, a zone file) for every record the classifier needs.

Sources sit behind one small interface; `plan.collect` decides what to ask and enforces the deadline.
"""

from __future__ import annotations

from typing import Protocol

from dnscheck.models import Lookup


class Source(Protocol):
    label: str

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        """Ask for one RRset. Must not raise for DNS trouble: return Undetermined instead."""
        ...

    def covers(self, name: str) -> bool:
        """Whether this source can answer for `name` at all (a zone file only knows its own zone)."""
        ...
