"""Ask the parent and every authoritative server directly (RD=0): the views a recursive resolver hides.

1. Find the parent zone's servers (through the resolver) and ask each for the zone's NS: the referral, with glue.
2. Ask every delegated server, and every server the zone itself names, at each of its addresses, for SOA, NS, MX,
   TXT and the other Microsoft 365 names.

Each answer is kept per server and address: two servers' answers are never mixed. A network that blocks outbound
port 53 is detected on the first wave (the referral), with a short timeout, not after a timeout per server.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from dnscheck.collect import Source
from dnscheck.collect.resolver import EDNS_PAYLOAD, ServerLimit, records_of
from dnscheck.fingerprints import M365_NAMES
from dnscheck.models import Answered, Delegation, Lookup, Record, ServerView, Undetermined

FIRST_WAVE_TIMEOUT = 0.7  # seconds: how long the referral may take before the network is deemed closed
PROBE_TIMEOUT = 2.0
PER_SERVER = 20  # queries in flight to one authoritative server address, across all domains checked at once

# One budget per event loop (semaphores belong to the loop they were made in; `watch` runs one loop per round).
_limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ServerLimit] = weakref.WeakKeyDictionary()


def _limit(address: str) -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    limit = _limits.get(loop)
    if limit is None:
        limit = _limits[loop] = ServerLimit(PER_SERVER)
    return limit.slot(address)


async def ask(address: str, name: str, rdtype: str, timeout: float, port: int = 53) -> Lookup:
    """One non-recursive query to one server address; TCP when the UDP answer is truncated."""
    query = dns.message.make_query(name, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
    query.flags &= ~dns.flags.RD
    where = f"{address}:{port}" if port != 53 else address
    start = time.monotonic()

    def ms() -> int:
        return round((time.monotonic() - start) * 1000)

    try:
        async with _limit(address):
            response, _ = await dns.asyncquery.udp_with_fallback(query, address, timeout=timeout, port=port)
    except dns.exception.Timeout:
        return Undetermined(name, rdtype, "no answer (timed out)", where, ms(), silent=True)
    except OSError as e:
        return Undetermined(name, rdtype, f"unreachable: {e.strerror or e}", where, ms(), silent=True)
    except dns.exception.DNSException as e:
        return Undetermined(name, rdtype, f"bad answer: {type(e).__name__}: {e}", where, ms())
    rcode = dns.rcode.to_text(response.rcode())
    aa = bool(response.flags & dns.flags.AA)
    if rcode not in ("NOERROR", "NXDOMAIN"):
        return Undetermined(name, rdtype, f"answered {rcode}", where, ms())
    records = tuple(r for rrset in response.answer for r in records_of(rrset))
    soa = next(
        (
            rrset.name.to_text(omit_final_dot=True).lower()
            for rrset in response.authority
            if rrset.rdtype == dns.rdatatype.SOA
        ),
        None,
    )
    return Answered(name, rdtype, records, rcode, soa, where, ms(), aa)


async def ask_referral(address: str, zone: str, timeout: float) -> tuple[Lookup, list[Record], list[Record]]:
    """Ask a parent server for the zone's NS. Returns the lookup, the NS records and the glue."""
    query = dns.message.make_query(zone, "NS", use_edns=0, payload=EDNS_PAYLOAD)
    query.flags &= ~dns.flags.RD
    start = time.monotonic()
    try:
        async with _limit(address):
            response, _ = await dns.asyncquery.udp_with_fallback(query, address, timeout=timeout)
    except dns.exception.Timeout:
        return Undetermined(zone, "NS", "no answer (timed out)", address, silent=True), [], []
    except OSError as e:
        return Undetermined(zone, "NS", f"unreachable: {e.strerror or e}", address, silent=True), [], []
    except dns.exception.DNSException as e:
        return Undetermined(zone, "NS", f"bad answer: {type(e).__name__}: {e}", address), [], []
    elapsed = round((time.monotonic() - start) * 1000)
    rcode = dns.rcode.to_text(response.rcode())
    if rcode not in ("NOERROR", "NXDOMAIN"):
        return Undetermined(zone, "NS", f"answered {rcode}", address, elapsed), [], []
    zname = dns.name.from_text(zone)
    ns: list[Record] = []
    # A referral carries the NS set in the authority section; a parent that also serves the child answers it.
    for section in (response.answer, response.authority):
        for rrset in section:
            if rrset.rdtype == dns.rdatatype.NS and rrset.name == zname:
                ns += records_of(rrset)
    glue = [
        r
        for rrset in response.additional
        if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
        for r in records_of(rrset)
    ]
    lookup = Answered(
        zone, "NS", tuple(ns), rcode, None, address, elapsed, bool(response.flags & dns.flags.AA)
    )
    return lookup, ns, glue


async def probe(
    domain: str,
    zone: str,
    source: Source,
    child_ns: Iterable[Record],
    deadline: float,
    find_zone_ns: object,
    everything: bool = True,
) -> Delegation:
    """Probe the delegation of `zone` (which holds `domain`). `find_zone_ns` finds a name's enclosing zone.

    Each server is asked for SOA, NS, MX and TXT; with `everything` (--mode authoritative), also for the other
    Microsoft 365 names, which no finding needs per server but `--explain` and `watch` can show."""
    parent_name = zone.partition(".")[2]
    if not parent_name:
        return Delegation(zone, None, (), (), (), (), failure="the zone has no parent to ask")
    parent, parent_ns_lookup, parent_addrs = await _parent_servers(
        source, parent_name, deadline, find_zone_ns
    )
    if not parent_addrs:
        why = parent_ns_lookup.reason if isinstance(parent_ns_lookup, Undetermined) else "no NS records"
        return Delegation(zone, parent, (), (), (), (), failure=f"parent zone servers not found: {why}")

    remaining = deadline - time.monotonic()
    first = min(FIRST_WAVE_TIMEOUT, max(0.05, remaining))
    answers = await asyncio.gather(*(ask_referral(a, zone, first) for _, a in parent_addrs))
    referral = tuple(lk for lk, _, _ in answers)
    if referral and all(isinstance(lk, Undetermined) and lk.silent for lk in referral):
        why = (
            "no parent server answered: outbound DNS (port 53) may be blocked"
            if remaining >= FIRST_WAVE_TIMEOUT
            else "no parent server answered in the time left before the deadline (--timeout)"
        )
        return Delegation(zone, parent, referral, (), (), (), failure=why)
    parent_ns = _dedupe(r for _, ns, _ in answers for r in ns)
    glue = _dedupe(r for _, _, g in answers for r in g)

    hosts = _dedupe_str([r.target for r in parent_ns if r.target] + [r.target for r in child_ns if r.target])
    addrs = await _addresses(source, hosts, glue, deadline)
    views = await asyncio.gather(
        *(_server_view(host, addr, domain, zone, deadline, everything) for host, addr in addrs)
    )
    unaddressed = [h for h in hosts if h not in {host for host, _ in addrs}]
    views += [_no_address(h, domain, zone) for h in unaddressed]
    return Delegation(zone, parent, referral, tuple(parent_ns), tuple(glue), tuple(views))


ParentServers = tuple[str | None, Lookup, list[tuple[str, str]]]
T = TypeVar("T")


class _RunCache(Generic[T]):
    """Facts shared by the domains of one run: the servers of a parent zone (com, org...), the addresses of a name
    server host. A batch has thousands of domains under a few parents and DNS hosts. Kept per event loop, for at
    most MAX_AGE seconds (a `watch` runs for hours), shared while in flight, and never kept when empty (a failure
    is asked again). Answers about a domain itself are never cached."""

    MAX_AGE = 300.0

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, tuple[float, asyncio.Future[T]]]
        ] = weakref.WeakKeyDictionary()

    async def get(self, key: str, make: Callable[[], Awaitable[T]]) -> T:
        known = self._by_loop.setdefault(asyncio.get_running_loop(), {})
        now = time.monotonic()
        entry = known.get(key)
        if entry is None or now - entry[0] > self.MAX_AGE or (entry[1].done() and not _kept(entry[1])):
            entry = known[key] = (now, asyncio.ensure_future(make()))
        return await asyncio.shield(entry[1])


def _kept(done: asyncio.Future[Any]) -> bool:
    if done.cancelled() or done.exception() is not None:
        return False
    value = done.result()
    return bool(value[2] if isinstance(value, tuple) else value)


_parents: _RunCache[ParentServers] = _RunCache()
_hosts: _RunCache[list[str]] = _RunCache()


async def _parent_servers(source: Source, name: str, deadline: float, find_zone_ns: object) -> ParentServers:
    return await _parents.get(name, lambda: _find_parent_servers(source, name, deadline, find_zone_ns))


async def _find_parent_servers(
    source: Source, name: str, deadline: float, find_zone_ns: object
) -> ParentServers:
    parent, lookup = await find_zone_ns(source, name, None, deadline)  # type: ignore[operator]
    hosts = [r.target for r in _records(lookup) if r.type == "NS" and r.target]
    return parent, lookup, (await _addresses(source, hosts, [], deadline) if hosts else [])


async def _server_view(
    host: str, address: str, domain: str, zone: str, deadline: float, everything: bool
) -> ServerView:
    timeout = max(0.05, min(PROBE_TIMEOUT, deadline - time.monotonic()))
    queries = [(zone, "SOA"), (zone, "NS"), (domain, "MX"), (domain, "TXT")]
    if everything:  # the other Microsoft 365 names too: 10 more queries per server address
        queries += [(f"{prefix}.{domain}", rdtype) for prefix, _, rdtype in M365_NAMES]
    soa, ns, mx, *others = await asyncio.gather(*(ask(address, n, t, timeout) for n, t in queries))
    return ServerView(host, address, soa, ns, mx, tuple(others))


def _no_address(host: str, domain: str, zone: str) -> ServerView:
    def gone(name: str, rdtype: str) -> Undetermined:
        return Undetermined(name, rdtype, f"{host} has no address", None, silent=True)

    return ServerView(host, "", gone(zone, "SOA"), gone(zone, "NS"), gone(domain, "MX"))


async def _addresses(
    source: Source, hosts: list[str], glue: Iterable[Record], deadline: float
) -> list[tuple[str, str]]:
    """(host, address) pairs: glue first, else A and AAAA through the resolver (once per host and run)."""
    by_host: dict[str, list[str]] = {}
    for r in glue:
        by_host.setdefault(r.name, []).append(r.value)
    missing = [h for h in hosts if h not in by_host]
    found = await asyncio.gather(*(_host_addresses(source, h, deadline) for h in missing))
    for host, addresses in zip(missing, found, strict=True):
        by_host[host] = addresses
    return [(h, a) for h in hosts for a in _dedupe_str(by_host.get(h, []))]


async def _host_addresses(source: Source, host: str, deadline: float) -> list[str]:
    return await _hosts.get(host, lambda: _lookup_addresses(source, host, deadline))


async def _lookup_addresses(source: Source, host: str, deadline: float) -> list[str]:
    from dnscheck.collect.plan import bounded

    lookups = await asyncio.gather(*(bounded(source, host, t, deadline) for t in ("A", "AAAA")))
    return [r.value for lk in lookups for r in _records(lk) if r.type in ("A", "AAAA")]


def _records(lookup: Lookup) -> tuple[Record, ...]:
    return lookup.records if isinstance(lookup, Answered) else ()


def _dedupe(records: Iterable[Record]) -> list[Record]:
    return list(dict.fromkeys(records))


def _dedupe_str(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
