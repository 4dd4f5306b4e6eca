"""Where a name's zone starts, from a source's answers, checked for consistency before it is believed.

Shared by the planner and the authoritative probe (which needs the parent zone's servers), so that neither
imports the other.
"""

from __future__ import annotations

import asyncio
import time

import dns.exception
import dns.name

from dnscheck.collect import Source
from dnscheck.models import Answered, Lookup, Record, Undetermined


def cannot_exist(name: str) -> bool:
    """A name over DNS's 255-octet limit (e.g. `selector1._domainkey.` in front of a 253-octet domain) cannot be
    asked about and cannot exist: its answer is NXDOMAIN, not a failure."""
    if len(name) <= 253 and name.isascii():  # the wire form is at most the text's length + 2 (escapes only
        return False  # make the text longer; a Unicode label becomes a longer A-label, hence ASCII only)
    try:
        dns.name.from_text(name)
    except dns.name.NameTooLong:
        return True
    except dns.exception.DNSException:
        return False
    return False


async def bounded(source: Source, name: str, rdtype: str, deadline: float) -> Lookup:
    """`source.lookup`, cut off at `deadline` (a time.monotonic() value)."""
    if cannot_exist(name):
        return Answered(name, rdtype, (), "NXDOMAIN")
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return Undetermined(name, rdtype, "no time left before the deadline (--timeout)")
    try:
        return await asyncio.wait_for(source.lookup(name, rdtype), remaining)
    except TimeoutError:
        return Undetermined(name, rdtype, "no answer before the deadline (--timeout)", silent=True)


def records(lookup: Lookup) -> tuple[Record, ...]:
    return lookup.records if isinstance(lookup, Answered) else ()


def is_ancestor_or_self(zone: str, name: str) -> bool:
    return zone == "." or name == zone or name.endswith("." + zone)


async def find_zone(
    source: Source, domain: str, ns: Lookup | None, deadline: float, floor: str | None = None
) -> tuple[str | None, Lookup]:
    """The zone apex holding `domain` and that zone's NS lookup.

    A name that is not an apex answers NS with NODATA; the SOA in the authority section names the zone. Without
    that hint, walk up one label at a time. `floor` (the registered domain) is the highest a zone may be: a
    registered domain is delegated from its public suffix, so an answer placing it in the TLD's or the root's
    zone contradicts itself, and is Undetermined rather than the TLD's servers taken for the domain's.
    """
    if ns is None:
        ns = await bounded(source, domain, "NS", deadline)
    if not isinstance(ns, Answered):
        return None, ns
    if any(r.type == "NS" for r in ns.records):
        return domain, ns
    if ns.nxdomain:
        return ns.zone, ns
    bad = _implausible_cut(domain, ns.zone, floor)
    if bad:
        return None, Undetermined(domain, "NS", bad, ns.server)
    candidates = [ns.zone] if ns.zone else _parents(domain, floor)
    for zone in candidates:
        lk = await bounded(source, zone, "NS", deadline)
        if isinstance(lk, Undetermined) or any(r.type == "NS" for r in lk.records):
            return zone, lk
    return None, Undetermined(domain, "NS", "could not find the zone that holds this name")


def _implausible_cut(domain: str, zone: str | None, floor: str | None) -> str | None:
    """Why a NODATA answer to NS, with the SOA of `zone`, cannot be believed (None: it can)."""
    if zone is None:
        return None
    if zone == domain:
        return f"inconsistent answer: no NS records at {domain}, yet the SOA says it is the zone's apex"
    if not is_ancestor_or_self(zone, domain):
        return f"inconsistent answer: the SOA of {zone}, which does not hold {domain}"
    if floor and not is_ancestor_or_self(floor, zone):
        return (
            f"inconsistent answer: no NS records at {domain} and the SOA of {zone}, above the registered "
            f"domain {floor}, which its parent must delegate"
        )
    return None


def _parents(domain: str, floor: str | None = None) -> list[str]:
    labels = domain.split(".")
    out = [".".join(labels[i:]) for i in range(1, len(labels) - 1)]
    if floor:
        out = [z for z in out if is_ancestor_or_self(floor, z)]
    return out
