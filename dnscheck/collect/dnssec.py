"""DNSSEC across the delegation: what the parent and each authoritative server say, asked directly.

- the DS RRset from every parent server (RD=0, the servers that gave the referral);
- when the parent has a DS: from every authoritative server, DNSKEY, SOA, NS and MX with their RRSIGs (DO bit);
- from the resolver (in resolver mode, or when MX/NS failed): the AD bit, and on SERVFAIL the same question with CD
  set, which tells a validation failure ("bogus": CD clears it) from a broken domain. Extended DNS Errors (RFC 8914)
  are kept as detail only: they differ between resolvers.

A failed question stays Undetermined: it never reads as "no DS" (insecure) or "no DNSKEY" (unsigned).
Without a DS at the parent, the keys cannot matter to a validating resolver, so only one server is asked for its
DNSKEY (is the zone still signed?): an unsigned domain costs one question per parent server, and one more.
For a zone file (`--zone-file`), collect/dnssec_planned.py checks the planned zone against `--parent-ds`.
"""

from __future__ import annotations

import asyncio

from dnscheck.collect import Source
from dnscheck.collect.dnssec_query import (
    DnssecObs,
    KeyServer,
    ResolverView,
    Signed,
    SignedLookup,
    ask_signed,
    resolver_view,
)
from dnscheck.collect.resolver import ResolverSource
from dnscheck.collect.run import Run
from dnscheck.collect.zonefile import ZoneFileSource
from dnscheck.models import Answered, Delegation, Lookup, Undetermined

# The observation types live in dnssec_query; they are named from here too.
__all__ = ["DnssecObs", "KeyServer", "ResolverView", "Signed", "SignedLookup", "collect_dnssec"]


async def collect_dnssec(
    run: Run,
    source: Source,
    domain: str,
    zone: str | None,
    delegation: Delegation | None,
    mode: str,
    decisive: tuple[Lookup, Lookup],
    deadline: float,
) -> DnssecObs | None:
    """The DNSSEC view of one domain. The resolver is asked for AD in resolver mode, and in the other modes only
    when MX or NS failed: then its answer with CD set tells a validation failure from a broken domain."""
    if isinstance(source, ZoneFileSource):
        from dnscheck.collect.dnssec_planned import planned_dnssec

        return await planned_dnssec(run, source.zone, domain, source.parent_ds, deadline)  # type: ignore[arg-type]
    if not isinstance(source, ResolverSource):
        return None
    view = await _resolver(run, source, domain, mode, decisive, deadline)
    if delegation is None or delegation.failure:
        return DnssecObs(zone or domain, resolver=view, probed=False) if view else None
    return await _chain(run, delegation, domain, view, deadline)


async def _resolver(
    run: Run, source: ResolverSource, domain: str, mode: str, decisive: tuple[Lookup, Lookup], deadline: float
) -> ResolverView | None:
    resolver = source.first_server
    if resolver is None or not (mode == "resolver" or any(isinstance(lk, Undetermined) for lk in decisive)):
        return None
    return await resolver_view(run, source, resolver, domain, deadline)


async def _chain(
    run: Run, delegation: Delegation, domain: str, view: ResolverView | None, deadline: float
) -> DnssecObs:
    """The DS from every parent server that gave the referral; the keys and signatures of every server."""
    zone = delegation.zone
    parents = dict.fromkeys(lk.server for lk in delegation.referral if isinstance(lk, Answered) and lk.server)
    ds = tuple(await asyncio.gather(*(ask_signed(run, a, zone, "DS", deadline) for a in parents)))
    targets = [(v.name, v.address) for v in delegation.servers if v.address and v.authoritative]
    if not any(isinstance(lk, Signed) and lk.rrset is not None for lk in ds):
        # No DS: keys cannot matter to a validating resolver. One DNSKEY question tells a zone still signed
        # (the DS was removed: the safe state before moving NS) from a zone that never was.
        first = targets[:1]
        keys = [await _key_server(run, h, a, domain, zone, deadline, keys_only=True) for h, a in first]
        return DnssecObs(zone, ds, tuple(keys), view)
    servers = await asyncio.gather(*(_key_server(run, h, a, domain, zone, deadline) for h, a in targets))
    return DnssecObs(zone, ds, tuple(servers), view)


async def _key_server(
    run: Run, host: str, address: str, domain: str, zone: str, deadline: float, keys_only: bool = False
) -> KeyServer:
    questions = (
        [(zone, "DNSKEY")] if keys_only else [(zone, "DNSKEY"), (zone, "SOA"), (zone, "NS"), (domain, "MX")]
    )
    dnskey, *data = await asyncio.gather(*(ask_signed(run, address, n, t, deadline) for n, t in questions))
    return KeyServer(host, address, dnskey, tuple(data))
