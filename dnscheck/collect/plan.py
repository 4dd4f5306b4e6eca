"""What to ask for one domain, all at once, within one deadline.

Wave 1 asks every name concurrently. Wave 2 follows what wave 1 found: the CNAME of each MX host, CNAME chains
that did not end at a Microsoft name, and the NS of the enclosing zone when the name is not a zone apex.
Every lookup is bounded by the domain's deadline; one that has not answered by then becomes Undetermined.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

from dnscheck.collect import Source
from dnscheck.collect.resolver import ResolverSource
from dnscheck.fingerprints import M365_NAMES, match_host
from dnscheck.models import Answered, Chain, Delegation, Lookup, Observations, Record, Undetermined

MAX_HOPS = 8  # a CNAME chain longer than this is treated as broken, like a loop


async def collect(
    domain: str, source: Source, deadline: float, mode: str = "resolver", zone_hint: str | None = None
) -> Observations:
    """`deadline` is a time.monotonic() value. `mode` "auto"/"authoritative" also probes the delegation.

    `zone_hint` (the registered domain) is where probing starts when the resolver could not find the zone cut,
    e.g. because every server of the zone is dead: the parent can still say where it delegates.
    """

    apex = asyncio.gather(*(bounded(source, domain, t, deadline) for t in ("MX", "NS", "TXT", "A", "AAAA")))
    others = asyncio.gather(
        *(_chain(source, kind, f"{prefix}.{domain}", rdtype, deadline) for prefix, kind, rdtype in M365_NAMES)
    )
    (mx, ns, txt, a, aaaa), names = await asyncio.gather(apex, others)

    mx_hosts = sorted(
        {r.target for r in _records(mx) if r.type == "MX" and r.target and not _is_m365_mx(r.target)}
    )
    skipped = [h for h in mx_hosts if not source.covers(h)]
    chase = [_chain(source, "mx", h, "CNAME", deadline) for h in mx_hosts if source.covers(h)]
    (zone, ns, delegation), chains = await asyncio.gather(
        _zone_and_delegation(source, domain, ns, deadline, mode, zone_hint), asyncio.gather(*chase)
    )
    return Observations(
        domain=domain,
        zone=zone,
        mx=mx,
        ns=ns,
        txt=txt,
        a=a,
        aaaa=aaaa,
        mx_hosts=tuple(chains),
        names=tuple(names),
        skipped=tuple(skipped),
        delegation=delegation,
    )


async def _zone_and_delegation(
    source: Source, domain: str, ns: Lookup, deadline: float, mode: str, zone_hint: str | None
) -> tuple[str | None, Lookup, Delegation | None]:
    zone, ns = await find_zone(source, domain, ns, deadline)
    if mode == "resolver" or not isinstance(source, ResolverSource):
        return zone, ns, None
    from dnscheck.collect.authoritative import probe

    if isinstance(ns, Answered) and ns.nxdomain:
        return zone, ns, None  # nothing to probe: the domain does not exist
    probe_zone = zone or zone_hint
    if probe_zone is None:
        reason = ns.reason if isinstance(ns, Undetermined) else "the zone holding the name was not found"
        return (
            zone,
            ns,
            Delegation(domain, None, (), (), (), (), failure=reason, required=mode == "authoritative"),
        )
    child_ns = [r for r in _records(ns) if r.type == "NS"]
    delegation = await probe(
        domain, probe_zone, source, child_ns, deadline, find_zone, everything=mode == "authoritative"
    )
    return zone, ns, dataclasses.replace(delegation, required=mode == "authoritative")


async def bounded(source: Source, name: str, rdtype: str, deadline: float) -> Lookup:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return Undetermined(name, rdtype, "no time left before the deadline (--timeout)")
    try:
        return await asyncio.wait_for(source.lookup(name, rdtype), remaining)
    except TimeoutError:
        return Undetermined(name, rdtype, "no answer before the deadline (--timeout)")


def _records(lookup: Lookup) -> tuple[Record, ...]:
    return lookup.records if isinstance(lookup, Answered) else ()


def _is_m365_mx(host: str) -> bool:
    return match_host("mx", host) is not None


async def _chain(source: Source, kind: str, name: str, rdtype: str, deadline: float) -> Chain:
    """Look `name` up and follow CNAMEs until a Microsoft name, a dead end, a loop or MAX_HOPS."""
    lookups: list[Lookup] = []
    seen = {name}
    current = name
    for _ in range(MAX_HOPS):
        lk = await bounded(source, current, rdtype, deadline)
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


async def find_zone(
    source: Source, domain: str, ns: Lookup | None, deadline: float
) -> tuple[str | None, Lookup]:
    """The zone apex holding `domain` and that zone's NS lookup.

    A name that is not an apex answers NS with NODATA; the SOA in the authority section names the zone. Without
    that hint, walk up one label at a time.
    """
    if ns is None:
        ns = await bounded(source, domain, "NS", deadline)
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
        lk = await bounded(source, zone, "NS", deadline)
        if isinstance(lk, Undetermined) or any(r.type == "NS" for r in lk.records):
            return zone, lk
    return None, Undetermined(domain, "NS", "could not find the zone that holds this name")


def _parents(domain: str) -> list[str | None]:
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(1, len(labels) - 1)]
