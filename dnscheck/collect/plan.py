"""What to ask for one domain, all at once, within one deadline.

Wave 1 asks every name concurrently. Wave 2 follows what wave 1 found: the CNAME of each MX host, CNAME chains
that did not end at a Microsoft name, and the NS of the enclosing zone when the name is not a zone apex.
Every lookup is bounded by the domain's deadline; one that has not answered by then becomes Undetermined.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable

from dnscheck.collect import Source
from dnscheck.fingerprints import M365_NAMES, match_host
from dnscheck.models import Answered, Chain, Lookup, Observations, Undetermined

MAX_HOPS = 8  # a CNAME chain longer than this is treated as broken, like a loop


async def collect(domain: str, source: Source, deadline: float) -> Observations:
    """`deadline` is a time.monotonic() value."""

    def bounded(name: str, rdtype: str) -> Awaitable[Lookup]:
        return _bounded(source, name, rdtype, deadline)

    wave1 = [bounded(domain, t) for t in ("MX", "NS", "TXT", "A", "AAAA")]
    wave1 += [_chain(source, kind, f"{prefix}.{domain}", rdtype, deadline) for prefix, kind, rdtype in M365_NAMES]
    mx, ns, txt, a, aaaa, *names = await asyncio.gather(*wave1)

    zone_task = _zone_ns(source, domain, ns, deadline)
    mx_hosts = sorted(
        {r.target for r in _records(mx) if r.type == "MX" and r.target and not _is_m365_mx(r.target)}
    )
    skipped = [h for h in mx_hosts if not source.covers(h)]
    chase = [_chain(source, "mx", h, "CNAME", deadline) for h in mx_hosts if source.covers(h)]
    (zone, ns), *chains = await asyncio.gather(zone_task, *chase)
    return Observations(
        domain=domain, zone=zone, mx=mx, ns=ns, txt=txt, a=a, aaaa=aaaa,
        mx_hosts=tuple(chains), names=tuple(names), skipped=tuple(skipped),
    )


async def _bounded(source: Source, name: str, rdtype: str, deadline: float) -> Lookup:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return Undetermined(name, rdtype, "no time left before the deadline (--timeout)")
    try:
        return await asyncio.wait_for(source.lookup(name, rdtype), remaining)
    except TimeoutError:
        return Undetermined(name, rdtype, "no answer before the deadline (--timeout)")


def _records(lookup: Lookup) -> tuple:
    return lookup.records if isinstance(lookup, Answered) else ()


def _is_m365_mx(host: str) -> bool:
    return match_host("mx", host) is not None


async def _chain(source: Source, kind: str, name: str, rdtype: str, deadline: float) -> Chain:
    """Look `name` up and follow CNAMEs until a Microsoft name, a dead end, a loop or MAX_HOPS."""
    lookups: list[Lookup] = []
    seen = {name}
    current = name
    for _ in range(MAX_HOPS):
        lk = await _bounded(source, current, rdtype, deadline)
        lookups.append(lk)
        if isinstance(lk, Undetermined):
            return Chain(kind, name, tuple(lookups), failure=lk.reason)
        cnames = [r.target for r in lk.records if r.type == "CNAME" and r.target]
        if not cnames or rdtype != "CNAME":
            return Chain(kind, name, tuple(lookups))
        target = cnames[-1]
        if match_host(kind, target) is not None:  # type: ignore[arg-type]
            return Chain(kind, name, tuple(lookups))
        if target in seen:
            return Chain(kind, name, tuple(lookups), failure=f"CNAME loop at {target}")
        if not source.covers(target):
            return Chain(kind, name, tuple(lookups))
        seen.add(target)
        current = target
    return Chain(kind, name, tuple(lookups), failure=f"CNAME chain longer than {MAX_HOPS} hops")


async def _zone_ns(source: Source, domain: str, ns: Lookup, deadline: float) -> tuple[str | None, Lookup]:
    """The zone apex holding `domain` and that zone's NS lookup.

    A name that is not an apex answers NS with NODATA; the SOA in the authority section names the zone. Without
    that hint, walk up one label at a time.
    """
    if not isinstance(ns, Answered):
        return None, ns
    if any(r.type == "NS" for r in ns.records):
        return domain, ns
    if ns.nxdomain:
        return ns.zone, ns
    candidates = [ns.zone] if ns.zone and ns.zone != domain else _parents(domain)
    for zone in candidates:
        if zone is None:
            continue
        lk = await _bounded(source, zone, "NS", deadline)
        if isinstance(lk, Undetermined) or any(r.type == "NS" for r in lk.records):
            return zone, lk
    return None, Undetermined(domain, "NS", "could not find the zone that holds this name")


def _parents(domain: str) -> list[str | None]:
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(1, len(labels) - 1)]
