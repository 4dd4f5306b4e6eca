"""A recursive resolver as a source (dns.asyncresolver).

Every DNS failure becomes Undetermined with a reason a person can read; nothing here is ever folded into "no record".
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from dnscheck.errors import ConfigError
from dnscheck.models import Answered, Lookup, Record, Undetermined

EDNS_PAYLOAD = 1232  # the DNS Flag Day 2020 size: larger answers come back truncated, then over TCP
PER_SERVER = 200  # default most queries in flight to any one server (--per-server)


class ServerLimit:
    """At most `n` queries in flight to any one server address, however many domains are checked at once.

    One instance is shared by every nameserver object that should count against the same budget; semaphores are
    made on first use, per address.
    """

    def __init__(self, n: int = PER_SERVER) -> None:
        self.n = n
        self._slots: dict[str, asyncio.Semaphore] = {}

    def slot(self, address: str) -> asyncio.Semaphore:
        sem = self._slots.get(address)
        if sem is None:
            sem = self._slots[address] = asyncio.Semaphore(self.n)
        return sem


class LimitedNameserver(dns.nameserver.Do53Nameserver):
    """A Do53 nameserver whose queries wait for a slot of its address's ServerLimit."""

    def __init__(self, address: str, port: int, limit: ServerLimit) -> None:
        super().__init__(address, port)
        self._limit = limit

    async def async_query(self, *args: Any, **kwargs: Any) -> dns.message.Message:
        async with self._limit.slot(self.address):
            return await super().async_query(*args, **kwargs)


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
    servers: list[tuple[str, int]], timeout: float, limit: ServerLimit | None = None
) -> dns.asyncresolver.Resolver:
    limit = limit or ServerLimit()
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


class ResolverSource:
    def __init__(self, resolver: dns.asyncresolver.Resolver) -> None:
        self._resolver = resolver
        self.label = "resolver " + ", ".join(str(ns) for ns in resolver.nameservers)

    def covers(self, name: str) -> bool:
        return True

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        start = time.monotonic()

        def ms() -> int:
            return round((time.monotonic() - start) * 1000)

        try:
            answer = await self._resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN as e:
            responses = list(e.responses().values())
            response = responses[-1] if responses else None
            return Answered(name, rdtype, _records(response), "NXDOMAIN", _soa_owner(response), None, ms())
        except dns.resolver.LifetimeTimeout:
            return Undetermined(
                name, rdtype, "timed out: the resolver did not answer in time", None, ms(), True
            )
        except dns.resolver.NoNameservers as e:
            return Undetermined(name, rdtype, "no server could answer: " + _server_errors(e), None, ms())
        except dns.resolver.YXDOMAIN:
            return Undetermined(
                name, rdtype, "the name is too long after DNAME substitution (YXDOMAIN)", None, ms()
            )
        except dns.exception.DNSException as e:
            return Undetermined(name, rdtype, f"{type(e).__name__}: {e}", None, ms())
        except (OSError, ValueError) as e:
            return Undetermined(name, rdtype, f"network error: {e}", None, ms(), True)
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
        return Answered(name, rdtype, records, "NOERROR", _soa_owner(response), server, ms(), aa)


def _server_errors(e: dns.resolver.NoNameservers) -> str:
    errors = e.kwargs.get("errors") or []
    parts = []
    for err in errors[:4]:
        # (server, tcp, port, exception-or-rcode-text, response)
        server, port, what = str(err[0]), err[2], err[3]
        where = server.removeprefix("Do53:").replace("@", ":") if "@" in server else f"{server}:{port}"
        parts.append(f"{where} {what}")
    return "; ".join(parts) or "all servers failed (SERVFAIL or REFUSED)"


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


def records_of(rrset: Any) -> list[Record]:
    """Records in presentation form, with the pointed-at host name kept for matching."""
    name = _host(rrset.name)
    rtype = dns.rdatatype.to_text(rrset.rdtype)
    return [_record(name, rtype, rd, rrset.ttl) for rd in rrset]


def _record(name: str, rtype: str, rd: Any, ttl: int) -> Record:
    if rtype == "TXT":
        text = b"".join(rd.strings).decode("utf-8", errors="replace")
        return Record(name, rtype, text, ttl)
    if rtype == "MX":
        target = _host(rd.exchange)
        return Record(name, rtype, f"{rd.preference} {target}", ttl, target)
    if rtype in ("CNAME", "NS", "DNAME"):
        target = _host(rd.target)
        return Record(name, rtype, target, ttl, target)
    if rtype == "SRV":
        target = _host(rd.target)
        return Record(name, rtype, f"{rd.priority} {rd.weight} {rd.port} {target}", ttl, target)
    return Record(name, rtype, rd.to_text(), ttl)


def _host(name: dns.name.Name) -> str:
    # The root name (a null MX's exchange) stays ".", everything else loses its trailing dot.
    text = name.to_text(omit_final_dot=True).lower()
    return text or "."
