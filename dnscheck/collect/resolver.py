"""A recursive resolver as a source.

The paced resolvers (every run of the CLI) are asked directly and their answers read by dnscheck.collect.wire; a
resolver built without pacing goes through dns.asyncresolver. Both give the same Lookup for the same answer. Every
DNS failure becomes Undetermined with a reason a person can read; nothing here is ever folded into "no record".
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdatatype
import dns.resolver

from dnscheck.collect import wire as _wire
from dnscheck.collect.failures import rcode_failure_of, undetermined
from dnscheck.collect.records import host_text as _host
from dnscheck.collect.records import records_of
from dnscheck.collect.run import PER_SERVER, ServerLimit
from dnscheck.collect.zonecut import is_ancestor_or_self
from dnscheck.errors import ConfigError
from dnscheck.models import Answered, Lookup, Record, Undetermined

__all__ = [
    "PER_SERVER",
    "EDNS_PAYLOAD",
    "ServerLimit",
    "ResolverSource",
    "make_resolver",
    "parse_server",
    "records_of",
]

EDNS_PAYLOAD = 1232  # the DNS Flag Day 2020 size: larger answers come back truncated, then over TCP


class LimitedNameserver(dns.nameserver.Do53Nameserver):
    """A Do53 nameserver whose queries wait for a slot of its address's ServerLimit (and tell it how fast the
    server answers, for admission)."""

    def __init__(self, address: str, port: int, limit: ServerLimit) -> None:
        super().__init__(address, port)
        self._limit = limit
        self._server = limit.server(address)

    async def async_query(self, *args: Any, **kwargs: Any) -> dns.message.Message:
        async with self._server.slot():
            start = time.monotonic()
            response = await super().async_query(*args, **kwargs)
            self._server.answered(time.monotonic() - start)
            return response


def parse_server(spec: str) -> tuple[str, int]:
    """`HOST[:PORT]`, with IPv6 as `[addr]:port` (or a bare IPv6 address without a port)."""
    text = spec.strip()
    host, port = text, "53"
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ConfigError(f"--resolver {spec!r}: write IPv6 with a port as [addr]:port")
        port = rest[1:] or "53"
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(f"--resolver {spec!r}: {host!r} is not an IP address") from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--resolver {spec!r}: port must be a number from 1 to 65535")
    return host, int(port)


def make_resolver(
    servers: list[tuple[str, int]],
    timeout: float,
    limit: ServerLimit | None = None,
    rate: float | None = None,
    paced: bool = True,
    shared: Any = None,
) -> dns.asyncresolver.Resolver:
    limit = limit or ServerLimit()
    if paced:  # retries, pacing and load sharing by dnscheck.collect.paced: one nameserver for them all
        from dnscheck.collect.paced import PacedGroup

        if not servers:
            servers = [(ns.address, ns.port) for ns in _system_nameservers()]
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [PacedGroup(servers, limit.n, rate, shared)]
        resolver.use_edns(0, 0, EDNS_PAYLOAD)
        resolver.lifetime = resolver.timeout = timeout  # the group retries within the time it is given
        resolver.cache = None
        return resolver
    if servers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [LimitedNameserver(h, p, limit) for h, p in servers]
    else:
        try:
            resolver = dns.asyncresolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise ConfigError(
                "no resolver configured: /etc/resolv.conf is missing or lists no nameserver",
                "Name one with --resolver, e.g. --resolver 9.9.9.9 or --resolver [2620:fe::fe]:53",
            ) from None
        resolver.nameservers = [
            LimitedNameserver(ns.address, ns.port, limit) if type(ns) is dns.nameserver.Do53Nameserver else ns
            for ns in resolver._enrich_nameservers(
                resolver.nameservers, resolver.nameserver_ports, resolver.port
            )
        ]
    resolver.use_edns(0, 0, EDNS_PAYLOAD)
    resolver.lifetime = timeout
    # Per-try timeout: short enough that a lost UDP packet is retried well within the domain's deadline.
    resolver.timeout = max(0.2, min(2.0, timeout / 3))
    resolver.cache = None  # answers are per-check; a shared cache would hide which server said what
    return resolver


def _system_nameservers() -> list[dns.nameserver.Do53Nameserver]:
    """The plain-DNS nameservers of /etc/resolv.conf."""
    try:
        resolver = dns.asyncresolver.Resolver()
    except dns.resolver.NoResolverConfiguration:
        resolver = None
    found = (
        []
        if resolver is None
        else [
            ns
            for ns in resolver._enrich_nameservers(
                resolver.nameservers, resolver.nameserver_ports, resolver.port
            )
            if type(ns) is dns.nameserver.Do53Nameserver
        ]
    )
    if not found:
        raise ConfigError(
            "no resolver configured: /etc/resolv.conf is missing or lists no nameserver",
            "Name one with --resolver, e.g. --resolver 9.9.9.9 or --resolver [2620:fe::fe]:53",
        )
    return found


class ResolverSource:
    recursive = True  # answers for any name on the Internet: the delegation can be probed from it

    def __init__(self, resolver: dns.asyncresolver.Resolver) -> None:
        self._resolver = resolver
        self.label = "resolver " + ", ".join(str(ns) for ns in resolver.nameservers)
        limits = {ns._limit for ns in resolver.nameservers if isinstance(ns, LimitedNameserver)}
        self.server_limit: ServerLimit | None = next(iter(limits), None)
        # the paced resolvers, asked directly (dnscheck.collect.wire reads their answers)
        self._group: Any = None
        if len(resolver.nameservers) == 1 and not isinstance(
            resolver.nameservers[0], dns.nameserver.Do53Nameserver
        ):
            from dnscheck.collect.paced import PacedGroup

            if isinstance(resolver.nameservers[0], PacedGroup):
                self._group = resolver.nameservers[0]

    def admit(self, active: int, timeout: float) -> bool:
        """Whether one more domain may start now (see dnscheck.collect.paced.PacedGroup.admit)."""
        from dnscheck.collect.paced import PacedGroup

        return all(
            ns.admit(active, timeout) for ns in self._resolver.nameservers if isinstance(ns, PacedGroup)
        )

    def pacing(self) -> list[Any]:
        """Each resolver's counts (dnscheck.collect.paced.Counts) with its address, for the run's diagnostics."""
        from dnscheck.collect.paced import PacedGroup

        return [
            (str(u), u.counts)
            for ns in self._resolver.nameservers
            if isinstance(ns, PacedGroup)
            for u in ns.upstreams
        ]

    def covers(self, name: str) -> bool:
        return True

    @property
    def first_server(self) -> tuple[str, int] | None:
        """(address, port) of the first resolver: where the DNSSEC check asks for AD, and again with CD."""
        from dnscheck.collect.paced import PacedGroup

        for ns in self._resolver.nameservers:
            if isinstance(ns, dns.nameserver.Do53Nameserver):
                return ns.address, ns.port
            if isinstance(ns, PacedGroup):
                return ns.upstreams[0].address, ns.upstreams[0].port
        return None

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        if self._group is not None:
            return await self._paced_lookup(name, rdtype)
        start = time.monotonic()

        def ms() -> int:
            return round((time.monotonic() - start) * 1000)

        try:
            answer = await self._resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN as e:
            responses = list(e.responses().values())
            response = responses[-1] if responses else None
            records = _records(response)
            return _checked(Answered(name, rdtype, records, "NXDOMAIN", _soa_owner(response), None, ms()))
        except (dns.exception.DNSException, OSError, ValueError) as e:
            return undetermined(e, name, rdtype, None, ms())
        response = answer.response
        server = f"{answer.nameserver}:{answer.port}"
        aa = bool(response.flags & dns.flags.AA)
        records = _chain_records(answer.chaining_result)  # dnspython has already followed the chain
        if response.answer and not records:
            return Undetermined(
                name,
                rdtype,
                "the answer does not answer the question (only other names or types)",
                server,
                ms(),
            )
        return _checked(Answered(name, rdtype, records, "NOERROR", _soa_owner(response), server, ms(), aa))

    async def _paced_lookup(self, name: str, rdtype: str) -> Lookup:
        """The same lookup without dns.asyncresolver: the paced resolvers are asked directly and their answer read
        by dnscheck.collect.wire, with the outcome dnspython's resolver would give (the same reasons)."""
        start = time.monotonic()
        try:
            query = _wire.query(name, _wire.type_code(rdtype), EDNS_PAYLOAD)
        except (dns.exception.DNSException, ValueError) as e:
            return undetermined(e, name, rdtype, None, 0)
        asked = _wire.question(query)
        try:
            reply, upstream = await self._group.exchange(
                query, start + self._resolver.lifetime, lambda data: _wire.read(data, asked)
            )
        except dns.exception.Timeout:
            return undetermined(
                dns.resolver.LifetimeTimeout(timeout=0.0, errors=[]), name, rdtype, None, _ms(start)
            )
        except (dns.exception.DNSException, OSError, ValueError) as e:
            return Undetermined(name, rdtype, rcode_failure_of(str(self._group), str(e)), None, _ms(start))
        server = f"{upstream.address}:{upstream.port}"
        return _from_reply(name, rdtype, reply, server, _ms(start))


def _from_reply(name: str, rdtype: str, reply: Any, server: str, ms: int) -> Lookup:
    """A resolver's reply (dnscheck.collect.wire.Reply) as a Lookup, as ResolverSource.lookup makes it from
    dnspython's Answer or exception."""
    code = reply.rcode()
    if code == dns.rcode.YXDOMAIN:
        return undetermined(dns.resolver.YXDOMAIN(), name, rdtype, None, ms)
    if code not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return Undetermined(name, rdtype, rcode_failure_of(server, reply.rcode_text()), None, ms)
    if reply.chain_error is not None:
        return Undetermined(name, rdtype, rcode_failure_of(server, reply.chain_error), None, ms)
    if code == dns.rcode.NXDOMAIN:
        return _checked(Answered(name, rdtype, reply.records, "NXDOMAIN", reply.zone, None, ms))
    if reply.answered and not reply.records:
        return Undetermined(
            name, rdtype, "the answer does not answer the question (only other names or types)", server, ms
        )
    aa = bool(reply.flags & dns.flags.AA)
    return _checked(Answered(name, rdtype, reply.records, "NOERROR", reply.zone, server, ms, aa))


def _ms(start: float) -> int:
    return round((time.monotonic() - start) * 1000)


def _checked(lk: Answered) -> Lookup:
    """A negative answer whose SOA is not the zone of the name (or of a CNAME target on the way) is not an answer:
    an unrelated zone's SOA says nothing about where this name lives."""
    if lk.zone is None:
        return lk
    names = [lk.name, *(r.target for r in lk.records if r.type == "CNAME" and r.target)]
    if any(is_ancestor_or_self(lk.zone, n) for n in names):
        return lk
    return Undetermined(
        lk.name,
        lk.rdtype,
        f"inconsistent answer: {lk.rcode} with the SOA of {lk.zone}, which does not hold {lk.name}",
        lk.server,
        lk.elapsed_ms,
    )


def _soa_owner(response: dns.message.Message | None) -> str | None:
    if response is None:
        return None
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA:
            return _host(rrset.name)
    return None


def _records(response: dns.message.Message | None) -> tuple[Record, ...]:
    """The records that answer the question: the CNAME chain from the query name and the RRset it ends at.

    Anything else in the answer section (another name's records) is never taken as this name's.
    """
    if not isinstance(response, dns.message.QueryMessage):  # None, or not an answer to a query
        return ()
    try:
        chain = response.resolve_chaining()
    except dns.exception.DNSException:
        return ()
    return _chain_records(chain)


def _chain_records(chain: dns.message.ChainingResult) -> tuple[Record, ...]:
    rrsets = [*chain.cnames, *([chain.answer] if chain.answer is not None else [])]
    return tuple(rec for rrset in rrsets for rec in records_of(rrset))
