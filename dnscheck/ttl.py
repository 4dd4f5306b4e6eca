"""TTL arithmetic: how long may caches keep the old Microsoft 365 answers after a change? Pure.

Caches may hold:
- the old MX for its TTL. We only see the new record, so the old one's TTL is assumed to be at least Microsoft's
  default for the records it provisions (3600 s) unless a longer TTL is seen now;
- the old delegation for the parent's NS TTL (and the zone's own NS TTL);
- a negative answer (NXDOMAIN/NODATA for a record just created) for the SOA's negative-caching TTL
  (RFC 2308: the smaller of the SOA's TTL and its MINIMUM field);
- an MTA-STS policy in `enforce` mode for its `max_age` (RFC 8461 section 3.2): a sender that cached the policy
  listing the old MX refuses the new one until then. As for the MX, the policy seen now stands for the old one.
- the parent's DS for its TTL: after the DS is removed at the registrar, validating resolvers keep expecting the
  old keys until it expires, so NS may move only after that ("remove the DS, wait, then move NS").

`safe_after` = the time of the change + the longest of these.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dnscheck.models import M365_DEFAULT_TTL, Answered, Lookup, Observations, Record, Ttls
from dnscheck.mtasts import max_age_of

__all__ = ["M365_DEFAULT_TTL", "Ttls", "safe_after", "ttls_of"]


def ttls_of(obs: Observations) -> Ttls:
    """Prefer the authoritative servers' TTLs (the original values) to a resolver's (already counting down)."""
    d = obs.delegation
    auth = [v for v in (d.servers if d else ()) if v.authoritative]
    mx = _max_ttl([v.mx for v in auth], "MX") or _max_ttl([obs.mx], "MX")
    child_ns = _max_ttl([v.ns for v in auth], "NS") or _max_ttl([obs.ns], "NS")
    parent_ns = max((r.ttl for r in d.parent_ns if r.ttl is not None), default=None) if d else None
    negative = None
    for v in auth:
        soa = _first(v.soa, "SOA")
        if soa is not None:
            negative = _negative_ttl(soa)
            break
    return Ttls(mx, parent_ns, child_ns, negative, max_age_of(obs), ds=_ds_ttl(obs))


def _ds_ttl(obs: Observations) -> int | None:
    """The longest DS TTL a parent server gave (the original value: the parent is asked directly)."""
    if obs.dnssec is None:
        return None
    from dnscheck.collect.dnssec import Signed

    ttls = [lk.ttl for lk in obs.dnssec.ds if isinstance(lk, Signed) and lk.ttl is not None]
    return max((t for t in ttls if t is not None), default=None)


def safe_after(changed_at: datetime, ttls: Ttls) -> datetime:
    return changed_at + timedelta(seconds=ttls.longest)


def _max_ttl(lookups: list[Lookup], rtype: str) -> int | None:
    ttls = [
        r.ttl
        for lk in lookups
        if isinstance(lk, Answered)
        for r in lk.records
        if r.type == rtype and r.ttl is not None
    ]
    return max(ttls, default=None)


def _first(lk: Lookup, rtype: str) -> Record | None:
    if isinstance(lk, Answered):
        return next((r for r in lk.records if r.type == rtype), None)
    return None


def _negative_ttl(soa: Record) -> int | None:
    try:
        minimum = int(soa.value.split()[6])
    except (IndexError, ValueError):
        return None
    return min(minimum, soa.ttl) if soa.ttl is not None else minimum
