"""Ask the parent and every authoritative server directly (RD=0): the views a recursive resolver hides.

1. Find the parent zone's servers (through the resolver) and ask each for the zone's NS: the referral, with glue.
2. Ask every delegated server, and every server the zone itself names, at each of its addresses, for SOA, NS, MX,
   TXT and the other Microsoft 365 names.

Each answer is kept per server and address: two servers' answers are never mixed, and records for names that were
not asked about are dropped. A network that blocks outbound port 53 is detected on the first wave (the referral),
with a short timeout, not after a timeout per server.

Every query lives inside its domain's deadline, including its wait for a slot to the server, its UDP retries and
the TCP retry after a truncated answer (which gets what is left, not a fresh timeout: a server that trickles its
answer one octet at a time cannot stretch it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from dnscheck.collect import Source, transport, wire
from dnscheck.collect.failures import rcode_failure, undetermined
from dnscheck.collect.resolver import EDNS_PAYLOAD, records_of
from dnscheck.collect.run import Run, Server
from dnscheck.collect.zonecut import bounded, cannot_exist, find_zone, is_ancestor_or_self, records
from dnscheck.fingerprints import M365_NAMES
from dnscheck.models import Answered, Delegation, Lookup, Record, ServerView, Undetermined

FIRST_WAVE_TIMEOUT = 0.7  # seconds: how long the referral may take before the network is deemed closed
MAX_TRY = 2.0  # one UDP try waits at most this long before the query is sent again (lost packets)


async def exchange(
    server: Server, address: str, query: dns.message.Message, deadline: float, port: int = 53
) -> dns.message.Message:
    """Send `query` within `deadline` (see exchange_wire), read with dnspython. Raises on failure."""
    data = await exchange_wire(server, address, query.to_wire(), deadline, port)
    response = dns.message.from_wire(data)
    response.id = query.id
    return response


async def exchange_wire(server: Server, address: str, query: bytes, deadline: float, port: int = 53) -> bytes:
    """Send `query` within `deadline`: a slot, UDP with retries, TCP after truncation. Raises on failure."""
    if server.down is not None:
        raise _Down(server.down)
    asked = wire.question(query)
    async with asyncio.timeout(max(0.0, deadline - time.monotonic())):  # a hard stop, whatever happens inside
        async with server.slot():
            return await _udp_then_tcp(server, address, query, asked, deadline, port)


async def _udp_then_tcp(
    server: Server, address: str, query: bytes, asked: bytes, deadline: float, port: int
) -> bytes:
    per_try = max(0.2, min(MAX_TRY, (deadline - time.monotonic()) / 3))
    while True:
        wait = min(per_try, deadline - time.monotonic())
        if wait <= 0:
            raise dns.exception.Timeout
        sent = time.monotonic()
        try:
            data = await transport.udp(address, port, query, asked, wait)
        except dns.exception.Timeout:
            if wait >= per_try:  # a full try without an answer, not one cut short by the deadline
                server.timed_out(wire.describe(asked))
            continue
        server.answered(time.monotonic() - sent)
        if not data[2] & 0x02:  # TC: truncated
            return data
        return await transport.tcp(address, port, query, deadline - time.monotonic())


class _Down(Exception):
    """The server is down for this run (its evidence is the message)."""


async def _query(
    run: Run, address: str, name: str, rdtype: str, deadline: float, port: int
) -> dns.message.Message | Undetermined:
    query = dns.message.make_query(name, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
    query.flags &= ~dns.flags.RD
    where = f"{address}:{port}" if port != 53 else address
    start = time.monotonic()
    try:
        response = await exchange(run.authoritative.server(address), address, query, deadline, port)
    except _Down as e:
        return Undetermined(name, rdtype, str(e), where, 0, silent=True)
    except (dns.exception.DNSException, OSError, TimeoutError, ValueError) as e:
        return undetermined(e, name, rdtype, where, round((time.monotonic() - start) * 1000))
    rcode = dns.rcode.to_text(response.rcode())
    if rcode not in ("NOERROR", "NXDOMAIN"):
        return Undetermined(
            name, rdtype, rcode_failure(rcode), where, round((time.monotonic() - start) * 1000)
        )
    return response


async def ask(run: Run, address: str, name: str, rdtype: str, deadline: float, port: int = 53) -> Lookup:
    """One non-recursive query to one server address, checked: only records owned by `name` count, and a negative
    answer must carry the SOA of a zone that holds `name`."""
    if cannot_exist(name):
        return Answered(name, rdtype, (), "NXDOMAIN", server=address)
    start = time.monotonic()
    where = f"{address}:{port}" if port != 53 else address
    try:
        query = wire.query(name, wire.type_code(rdtype), EDNS_PAYLOAD, rd=False)
        data = await exchange_wire(run.authoritative.server(address), address, query, deadline, port)
        reply = wire.read(data, wire.question(query), owned=True)
    except _Down as e:
        return Undetermined(name, rdtype, str(e), where, 0, silent=True)
    except (dns.exception.DNSException, OSError, TimeoutError, ValueError) as e:
        return undetermined(e, name, rdtype, where, round((time.monotonic() - start) * 1000))
    ms = round((time.monotonic() - start) * 1000)
    rcode = reply.rcode_text()
    if rcode not in ("NOERROR", "NXDOMAIN"):
        return Undetermined(name, rdtype, rcode_failure(rcode), where, ms)
    recs, soa = reply.owned, reply.zone
    if soa is not None and not recs and not is_ancestor_or_self(soa, name):
        return Undetermined(
            name, rdtype, f"inconsistent answer: the SOA of {soa}, which does not hold {name}", where, ms
        )
    return Answered(name, rdtype, recs, rcode, soa, where, ms, bool(reply.flags & dns.flags.AA))


async def ask_referral(
    run: Run, address: str, zone: str, deadline: float
) -> tuple[Lookup, list[Record], list[Record]]:
    """Ask a parent server for the zone's NS. Returns the lookup, the NS records and the glue."""
    start = time.monotonic()
    response = await _query(run, address, zone, "NS", deadline, 53)
    if isinstance(response, Undetermined):
        return response, [], []
    elapsed = round((time.monotonic() - start) * 1000)
    zname = dns.name.from_text(zone)
    ns: list[Record] = []
    # A referral carries the NS set in the authority section; a parent that also serves the child answers it.
    for section in (response.answer, response.authority):
        for rrset in section:
            if rrset.rdtype == dns.rdatatype.NS and rrset.name == zname:
                ns += records_of(rrset)
    hosts = {r.target for r in ns}
    glue = [
        r
        for rrset in response.additional
        if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA) and _text(rrset.name) in hosts
        for r in records_of(rrset)
    ]
    rcode = dns.rcode.to_text(response.rcode())
    aa = bool(response.flags & dns.flags.AA)
    return Answered(zone, "NS", tuple(ns), rcode, None, address, elapsed, aa), ns, glue


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() or "."


async def probe(
    run: Run,
    domain: str,
    zone: str,
    source: Source,
    child_ns: Iterable[Record],
    deadline: float,
    everything: bool,
) -> Delegation:
    """Probe the delegation of `zone` (which holds `domain`).

    Each server is asked for SOA, NS, MX and TXT; with `everything` (--mode authoritative), also for the other
    Microsoft 365 names, which no finding needs per server but `--explain` and `watch` can show."""
    parent_name = zone.partition(".")[2]
    if not parent_name:
        return Delegation(zone, None, (), (), (), (), failure="the zone has no parent to ask")
    parent, parent_ns_lookup, parent_addrs = await run.parents.get(
        parent_name, lambda: _find_parent_servers(run, source, parent_name, deadline)
    )
    if not parent_addrs:
        why = parent_ns_lookup.reason if isinstance(parent_ns_lookup, Undetermined) else "no NS records"
        return Delegation(zone, parent, (), (), (), (), failure=f"parent zone servers not found: {why}")
    referral, parent_ns, glue, closed = await _referral(run, zone, parent_addrs, deadline)
    if closed:
        return Delegation(zone, parent, referral, (), (), (), failure=closed)
    hosts = list(
        dict.fromkeys([r.target for r in parent_ns if r.target] + [r.target for r in child_ns if r.target])
    )
    addrs = await _addresses(run, source, hosts, glue, deadline)
    views = await asyncio.gather(
        *(_server_view(run, host, addr, domain, zone, deadline, everything) for host, addr in addrs)
    )
    unaddressed = [h for h in hosts if h not in {host for host, _ in addrs}]
    views += [_no_address(h, domain, zone) for h in unaddressed]
    return Delegation(zone, parent, referral, tuple(parent_ns), tuple(glue), tuple(views))


async def _referral(
    run: Run, zone: str, parent_addrs: list[tuple[str, str]], deadline: float
) -> tuple[tuple[Lookup, ...], list[Record], list[Record], str | None]:
    """The parent servers' answers, their NS set and glue, and why the network seems closed (None: it is not)."""
    remaining = deadline - time.monotonic()
    first = time.monotonic() + min(FIRST_WAVE_TIMEOUT, max(0.05, remaining))
    answers = await asyncio.gather(*(ask_referral(run, a, zone, first) for _, a in parent_addrs))
    referral = tuple(lk for lk, _, _ in answers)
    closed = None
    if referral and all(isinstance(lk, Undetermined) and lk.silent for lk in referral):
        closed = (
            "no parent server answered: outbound DNS (port 53) may be blocked"
            if remaining >= FIRST_WAVE_TIMEOUT
            else "no parent server answered in the time left before the deadline (--timeout)"
        )
    parent_ns = list(dict.fromkeys(r for _, ns, _ in answers for r in ns))
    glue = list(dict.fromkeys(r for _, _, g in answers for r in g))
    return referral, parent_ns, glue, closed


ParentServers = tuple[str | None, Lookup, list[tuple[str, str]]]


async def _find_parent_servers(run: Run, source: Source, name: str, deadline: float) -> ParentServers:
    parent, lookup = await find_zone(source, name, None, deadline)
    hosts = [r.target for r in records(lookup) if r.type == "NS" and r.target]
    return parent, lookup, (await _addresses(run, source, hosts, [], deadline) if hosts else [])


async def _server_view(
    run: Run, host: str, address: str, domain: str, zone: str, deadline: float, everything: bool
) -> ServerView:
    queries = [(zone, "SOA"), (zone, "NS"), (domain, "MX"), (domain, "TXT")]
    if everything:  # the other Microsoft 365 names too: 10 more queries per server address
        queries += [(f"{prefix}.{domain}", rdtype) for prefix, _, rdtype in M365_NAMES]
    soa, ns, mx, *others = await asyncio.gather(*(ask(run, address, n, t, deadline) for n, t in queries))
    return ServerView(host, address, soa, ns, mx, tuple(others))


def _no_address(host: str, domain: str, zone: str) -> ServerView:
    def gone(name: str, rdtype: str) -> Undetermined:
        return Undetermined(name, rdtype, f"{host} has no address", None, silent=True)

    return ServerView(host, "", gone(zone, "SOA"), gone(zone, "NS"), gone(domain, "MX"))


async def _addresses(
    run: Run, source: Source, hosts: list[str], glue: Iterable[Record], deadline: float
) -> list[tuple[str, str]]:
    """(host, address) pairs: glue first, else A and AAAA through the resolver (once per host and run)."""
    by_host: dict[str, list[str]] = {}
    for r in glue:
        by_host.setdefault(r.name, []).append(r.value)
    missing = [h for h in hosts if h not in by_host]
    found = await asyncio.gather(
        *(run.hosts.get(h, lambda h=h: _lookup_addresses(source, h, deadline)) for h in missing)  # type: ignore[misc]
    )
    for host, addresses in zip(missing, found, strict=True):
        by_host[host] = addresses
    return [(h, a) for h in hosts for a in dict.fromkeys(by_host.get(h, []))]


async def _lookup_addresses(source: Source, host: str, deadline: float) -> list[str]:
    lookups = await asyncio.gather(*(bounded(source, host, t, deadline) for t in ("A", "AAAA")))
    return [r.value for lk in lookups for r in records(lk) if r.type in ("A", "AAAA")]
