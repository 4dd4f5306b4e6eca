"""What to ask for one domain, all at once, within one deadline.

Wave 1 asks every name concurrently. Wave 2 follows what wave 1 found: the address of each MX host (with its CNAME
chain), CNAME chains
that did not end at a Microsoft name, and the NS of the enclosing zone when the name is not a zone apex.
Every lookup is bounded by the domain's deadline; one that has not answered by then becomes Undetermined.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING

from dnscheck.collect import Source
from dnscheck.collect.authoritative import probe
from dnscheck.collect.dnssec import collect_dnssec
from dnscheck.collect.run import Run, has_address
from dnscheck.collect.zonecut import bounded, find_zone, records
from dnscheck.fingerprints import M365_NAMES, match_host
from dnscheck.models import Answered, Chain, Delegation, Lookup, Observations, Undetermined

if TYPE_CHECKING:
    from dnscheck.collect.web import Web
    from dnscheck.mtasts import MtaSts

MAX_HOPS = 8  # a CNAME chain longer than this is treated as broken, like a loop


async def collect(
    domain: str,
    source: Source,
    deadline: float,
    mode: str = "resolver",
    zone_hint: str | None = None,
    run: Run | None = None,
    web: Web | None = None,
) -> Observations:
    """`deadline` is a time.monotonic() value. `mode` "auto"/"authoritative" also probes the delegation.
    `web`: how to fetch an MTA-STS policy over HTTPS (None: never fetch).

    `zone_hint` (the registered domain) is where probing starts when the resolver could not find the zone cut,
    e.g. because every server of the zone is dead: the parent can still say where it delegates. It is also the
    highest zone the domain can be in. `run` holds what the domains of one run share (a fresh one if None).
    """

    apex = asyncio.gather(*(bounded(source, domain, t, deadline) for t in ("MX", "NS", "TXT", "A", "AAAA")))
    others = asyncio.gather(
        *(_chain(source, kind, f"{prefix}.{domain}", rdtype, deadline) for prefix, kind, rdtype in M365_NAMES)
    )
    sts_txt = bounded(source, f"_mta-sts.{domain}", "TXT", deadline)
    (mx, ns, txt, a, aaaa), names, sts_lookup = await asyncio.gather(apex, others, sts_txt)

    run = run or Run()
    asked = {h: _source_for(source, h) for h in _mx_hosts(mx)}
    followed = [(h, s) for h, s in asked.items() if s is not None]
    # One address query per MX host, shared by the run: its answer also carries the host's CNAME chain, which
    # the resolver followed (a zone file stops at its edge, and the rest is followed where it can be).
    (zone, ns, delegation), addresses, mta_sts = await asyncio.gather(
        _zone_and_delegation(source, domain, ns, deadline, mode, zone_hint, run),
        asyncio.gather(*(_addresses(run, s, h, deadline) for h, s in followed)),
        _mta_sts(domain, sts_lookup, web, deadline),
    )
    dnssec = await collect_dnssec(run, source, domain, zone, delegation, mode, (mx, ns), deadline)
    chains = [_mx_chain(h, lookups) for (h, _), lookups in zip(followed, addresses, strict=True)]
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
        skipped=tuple(h for h, s in asked.items() if s is None),
        delegation=delegation,
        mta_sts=mta_sts,
        dnssec=dnssec,
        mx_addresses=tuple((h, a) for (h, _), a in zip(followed, addresses, strict=True)),
    )


def _mx_hosts(mx: Lookup) -> list[str]:
    """The MX hosts to follow: every one but Microsoft's own (those are MX_M365 already)."""
    return sorted(
        {r.target for r in records(mx) if r.type == "MX" and r.target and not _is_m365_mx(r.target)}
    )


def _source_for(source: Source, host: str) -> Source | None:
    """Who answers for an MX host: the source itself, else the resolver a zone file may use for names outside it
    (--zone-file with --resolver), else nobody: the host is not followed (OUT_OF_ZONE)."""
    if source.covers(host):
        return source
    outside: Source | None = getattr(source, "outside", None)
    return outside


async def _addresses(run: Run, source: Source, host: str, deadline: float) -> tuple[Lookup, ...]:
    """A batch sends most of its mail to a few providers' hosts: their addresses are looked up once per run."""
    return await run.mx_addresses.get(
        f"{source.label} {host}", lambda: _look_up_addresses(source, host, deadline)
    )


def _mx_chain(host: str, lookups: tuple[Lookup, ...]) -> Chain:
    """An MX host's CNAME chain, from its address lookups. A failed lookup is judged by the mail path
    (LOOKUP_FAILED), not here; a chain longer than MAX_HOPS is broken, like a loop."""
    hops = sum(1 for lk in lookups if isinstance(lk, Answered) for r in lk.records if r.type == "CNAME")
    failure = f"CNAME chain longer than {MAX_HOPS} hops" if hops > MAX_HOPS else None
    return Chain("mx", host, lookups, failure=failure)


async def _look_up_addresses(source: Source, host: str, deadline: float) -> tuple[Lookup, ...]:
    """A, and AAAA only when A gave no address but the name exists: one query for most hosts. A zone file's
    answer stops at a CNAME that leaves the zone: its target is followed where it can be, never taken as empty."""
    a = await bounded(source, host, "A", deadline)
    exit_ = _cname_exit(source, a)
    if exit_ and not _is_m365_mx(exit_):  # an alias of Microsoft's host is MX_CNAME_M365: nothing to follow
        outside = _source_for(source, exit_)
        if outside is None:
            why = f"{host} is an alias of {exit_}, outside the zone file (give --resolver to follow it)"
            return (a, Undetermined(host, "A", why))
        return (a, *await _look_up_addresses(outside, exit_, deadline))
    if not isinstance(a, Answered) or a.nxdomain or any(r.type == "A" for r in a.records):
        return (a,)
    return (a, await bounded(source, host, "AAAA", deadline))


def _cname_exit(source: Source, lookup: Lookup) -> str | None:
    """The target of an address answer that ends in a CNAME the source cannot follow (outside a zone file)."""
    if not isinstance(lookup, Answered) or has_address((lookup,)):
        return None
    targets = [r.target for r in lookup.records if r.type == "CNAME" and r.target]
    return targets[-1] if targets and not source.covers(targets[-1]) else None


async def _mta_sts(domain: str, txt: Lookup, web: Web | None, deadline: float) -> MtaSts | None:
    if isinstance(txt, Answered) and not any(r.value.startswith("v=STSv1") for r in txt.records):
        return None  # the common case: no MTA-STS, nothing more to import or ask
    from dnscheck.collect.mtasts import collect_mta_sts

    return await collect_mta_sts(domain, txt, web, deadline)


async def _zone_and_delegation(
    source: Source, domain: str, ns: Lookup, deadline: float, mode: str, zone_hint: str | None, run: Run
) -> tuple[str | None, Lookup, Delegation | None]:
    zone, ns = await find_zone(source, domain, ns, deadline, zone_hint)
    if mode == "resolver" or not source.recursive:
        return zone, ns, None
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
    child_ns = [r for r in records(ns) if r.type == "NS"]
    delegation = await probe(run, domain, probe_zone, source, child_ns, deadline, mode == "authoritative")
    return zone, ns, dataclasses.replace(delegation, required=mode == "authoritative")


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
