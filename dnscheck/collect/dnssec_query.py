"""DNSSEC questions and what they found: one server's signed RRset (DO bit), the resolver's AD/CD view.

The observation types here are what the DNSSEC rules (dnscheck/dnssec.py) read; `collect/dnssec.py` decides whom
to ask, `collect/dnssec_planned.py` builds the same observations from a zone file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dns.asyncquery
import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dnscheck.collect.authoritative import _Down as ServerDown
from dnscheck.collect.authoritative import exchange
from dnscheck.collect.failures import rcode_failure, undetermined
from dnscheck.collect.resolver import EDNS_PAYLOAD, ResolverSource
from dnscheck.collect.run import Run, Server
from dnscheck.models import Undetermined


@dataclass(frozen=True)
class Signed:
    """One RRset and its signatures as one server returned them (`rrset` None: NODATA or NXDOMAIN)."""

    name: str
    rdtype: str
    server: str
    rrset: dns.rrset.RRset | None = None
    sigs: dns.rrset.RRset | None = None
    rcode: str = "NOERROR"
    elapsed_ms: int | None = field(default=None, compare=False)

    @property
    def ttl(self) -> int | None:
        return self.rrset.ttl if self.rrset is not None else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.rdtype,
            "server": self.server,
            "rcode": self.rcode,
            "records": [rd.to_text() for rd in self.rrset] if self.rrset is not None else [],
            "rrsigs": [rd.to_text() for rd in self.sigs] if self.sigs is not None else [],
        }


SignedLookup = Signed | Undetermined


@dataclass(frozen=True)
class KeyServer:
    """One authoritative server address: its DNSKEY set and the signed SOA, NS and MX it serves."""

    host: str
    address: str
    dnskey: SignedLookup
    data: tuple[SignedLookup, ...] = ()

    @property
    def keys(self) -> dns.rrset.RRset | None:
        """The DNSKEY set it served (None: none, or the question failed)."""
        return self.dnskey.rrset if isinstance(self.dnskey, Signed) else None

    @property
    def label(self) -> str:
        return f"{self.host} ({self.address})" if self.address else self.host

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "address": self.address,
            "dnskey": self.dnskey.as_dict(),
            "data": [lk.as_dict() for lk in self.data],
        }


@dataclass(frozen=True)
class ResolverView:
    """The resolver's word on the domain: rcode and AD of the plain question, the rcode with CD on SERVFAIL."""

    server: str
    name: str
    rcode: str | None  # None: no answer (see failure)
    ad: bool = False
    cd_rcode: str | None = None  # asked again with CD only after a SERVFAIL
    ede: tuple[str, ...] = ()
    failure: str | None = None

    @property
    def bogus(self) -> bool:
        """SERVFAIL that checking disabled (CD) clears: the resolver rejects the answer's signatures."""
        return self.rcode == "SERVFAIL" and self.cd_rcode in ("NOERROR", "NXDOMAIN")

    def as_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "name": self.name,
            "rcode": self.rcode,
            "ad": self.ad,
            "cd_rcode": self.cd_rcode,
            "ede": list(self.ede),
            "failure": self.failure,
        }


@dataclass(frozen=True)
class DnssecObs:
    """Everything collected about the domain's DNSSEC. `ds` holds one lookup per parent server."""

    zone: str
    ds: tuple[SignedLookup, ...] = ()
    servers: tuple[KeyServer, ...] = ()
    resolver: ResolverView | None = None
    probed: bool = (
        True  # False: only the resolver was asked (resolver mode, or the delegation was not probed)
    )
    source: str = "live"  # "live", or "planned" for a zone file checked against the parent's DS

    def as_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "source": self.source,
            "ds": [lk.as_dict() for lk in self.ds],
            "servers": [s.as_dict() for s in self.servers],
            "resolver": self.resolver.as_dict() if self.resolver else None,
        }


async def ask_signed(
    run: Run, address: str, name: str, rdtype: str, deadline: float, port: int = 53
) -> SignedLookup:
    """One non-recursive question with the DO bit, within the domain's deadline and the server's slots (the
    delegation probe's); the RRset of that name and type, and its RRSIGs."""
    query = dns.message.make_query(name, rdtype, want_dnssec=True, payload=EDNS_PAYLOAD)
    query.flags &= ~dns.flags.RD
    where = f"{address}:{port}" if port != 53 else address
    response = await _exchange(run.authoritative.server(address), address, port, query, deadline)
    if isinstance(response, BaseException):
        return _failed(response, name, rdtype, where)
    rcode = dns.rcode.to_text(response.rcode())
    if rcode not in ("NOERROR", "NXDOMAIN"):
        return Undetermined(name, rdtype, rcode_failure(rcode), where)
    rrset, sigs = rrset_and_sigs(response, name, rdtype)
    return Signed(name, rdtype, where, rrset, sigs, rcode)


async def _exchange(
    server: Server, address: str, port: int, query: dns.message.Message, deadline: float
) -> dns.message.Message | BaseException:
    try:
        return await exchange(server, address, query, deadline, port)
    except (dns.exception.DNSException, OSError, TimeoutError, ValueError, EOFError, ServerDown) as e:
        return e


def _failed(e: BaseException, name: str, rdtype: str, where: str) -> Undetermined:
    if isinstance(e, ServerDown):  # down for this run (the circuit breaker): its evidence is the message
        return Undetermined(name, rdtype, str(e), where, silent=True)
    return undetermined(e, name, rdtype, where)


def rrset_and_sigs(
    response: dns.message.Message, name: str, rdtype: str
) -> tuple[dns.rrset.RRset | None, dns.rrset.RRset | None]:
    owner = dns.name.from_text(name)
    kind = dns.rdatatype.from_text(rdtype)
    rrset = sigs = None
    for r in response.answer:
        if r.name == owner and r.rdtype == kind:
            rrset = r
        elif r.name == owner and r.rdtype == dns.rdatatype.RRSIG and r.covers == kind:
            sigs = r
    return rrset, sigs


async def resolver_view(
    run: Run, source: ResolverSource, resolver: tuple[str, int], domain: str, deadline: float
) -> ResolverView:
    """Ask the resolver for the domain's MX with AD set (RFC 6840 §5.7: a validating resolver then says whether
    the answer validated); on SERVFAIL ask again with CD set: an answer then means a validation failure."""
    address, port = resolver
    where = f"{address}:{port}" if port != 53 else address
    # The resolver's own budget (--per-server) when it has one, as for every other question to it.
    server = source.server_limit.server(address) if source.server_limit else run.authoritative.server(address)
    first = await _exchange(server, address, port, _resolver_query(domain, cd=False), deadline)
    if isinstance(first, BaseException):
        return ResolverView(where, domain, None, failure=_failed(first, domain, "MX", where).reason)
    rcode = dns.rcode.to_text(first.rcode())
    view = ResolverView(where, domain, rcode, bool(first.flags & dns.flags.AD), ede=_ede(first))
    if rcode != "SERVFAIL":
        return view
    second = await _exchange(server, address, port, _resolver_query(domain, cd=True), deadline)
    if isinstance(second, BaseException):
        why = _failed(second, domain, "MX", where).reason
        return ResolverView(where, domain, rcode, ede=view.ede, failure=f"with CD set: {why}")
    return ResolverView(where, domain, rcode, ede=view.ede, cd_rcode=dns.rcode.to_text(second.rcode()))


def _resolver_query(name: str, cd: bool) -> dns.message.Message:
    query = dns.message.make_query(name, "MX", use_edns=0, payload=EDNS_PAYLOAD)
    query.flags |= dns.flags.AD | (dns.flags.CD if cd else 0)
    return query


def _ede(response: dns.message.Message) -> tuple[str, ...]:
    return tuple(o.to_text() for o in response.options if o.otype == dns.edns.OptionType.EDE)
