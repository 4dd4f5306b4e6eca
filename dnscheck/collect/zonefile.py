"""A BIND zone file as a source: check a planned zone before publishing it at a new DNS host.

It answers like an authoritative server for its own zone (NXDOMAIN, NODATA, in-zone CNAMEs) and knows nothing
outside it: the planner asks `covers()` before following a name elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import dns.exception
import dns.name
import dns.rdatatype
import dns.zone

from dnscheck.collect.resolver import records_of
from dnscheck.errors import ZoneFileError
from dnscheck.models import Answered, Lookup, Record, Undetermined


def load_zone(path: str, domain: str) -> dns.zone.Zone:
    """Parse `path`; its origin is its own $ORIGIN, else `domain`. `$INCLUDE` is refused."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except OSError as e:
        raise ZoneFileError(f"cannot read zone file {path}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ZoneFileError(f"{path}: not UTF-8 text (byte {e.start})") from None
    try:
        zone = _parse(text, path, None)
    except dns.zone.UnknownOrigin:
        zone = _parse(text, path, domain)
    assert zone.origin is not None  # from_text always sets it
    origin = zone.origin.to_text(omit_final_dot=True).lower()
    if not dns.name.from_text(domain).is_subdomain(zone.origin):
        raise ZoneFileError(f"{domain} is not inside the zone in {path} (its origin is {origin})")
    return zone


def _parse(text: str, path: str, origin: str | None) -> dns.zone.Zone:
    try:
        return dns.zone.from_text(
            text, origin=origin, relativize=False, allow_include=False, filename=path, check_origin=True
        )
    except dns.zone.UnknownOrigin:
        raise
    except dns.zone.NoSOA:
        raise ZoneFileError(f"{path}: the zone has no SOA record at its origin") from None
    except dns.zone.NoNS:
        raise ZoneFileError(f"{path}: the zone has no NS records at its origin") from None
    except dns.exception.SyntaxError as e:
        # dnspython's message starts with "file:line:"; keep it, the line number is what the user needs.
        msg = str(e)
        if "$INCLUDE" in msg or "include" in msg.lower():
            msg += " ($INCLUDE is refused: inline the included records)"
        raise ZoneFileError(msg) from None
    except dns.exception.DNSException as e:
        raise ZoneFileError(f"{path}: {e}") from None


class ZoneFileSource:
    def __init__(self, zone: dns.zone.Zone, path: str) -> None:
        assert zone.origin is not None
        self._zone = zone
        self._origin: dns.name.Name = zone.origin
        self.label = f"zone file {path}"

    def covers(self, name: str) -> bool:
        return dns.name.from_text(name).is_subdomain(self._origin)

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        try:
            return self._lookup(name, rdtype)
        except dns.exception.DNSException as e:
            return Undetermined(name, rdtype, f"{type(e).__name__}: {e}", self.label)

    def _lookup(self, name: str, rdtype: str) -> Lookup:
        soa = self._origin.to_text(omit_final_dot=True).lower()
        qname = dns.name.from_text(name)
        if not qname.is_subdomain(self._origin):
            return Undetermined(name, rdtype, "outside the zone file", self.label)
        wanted = dns.rdatatype.from_text(rdtype)
        out: list[Record] = []
        for _ in range(9):  # follow in-zone CNAMEs like an authoritative server would
            node = self._zone.get_node(qname)
            if node is None:
                if any(n.is_subdomain(qname) for n in self._zone.nodes):
                    return Answered(name, rdtype, tuple(out), "NOERROR", soa)
                return Answered(name, rdtype, tuple(out), "NXDOMAIN", soa)
            rrset = node.get_rdataset(dns.rdataclass.IN, wanted)
            if rrset is not None:
                out += _records(qname, rrset)
                return Answered(name, rdtype, tuple(out), "NOERROR", soa)
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None or wanted == dns.rdatatype.CNAME:
                return Answered(name, rdtype, tuple(out), "NOERROR", soa)
            out += _records(qname, cname)
            qname = cname[0].target
            if not qname.is_subdomain(self._origin):
                return Answered(name, rdtype, tuple(out), "NOERROR", soa)
        return Undetermined(name, rdtype, "CNAME chain too long inside the zone file", self.label)


def _records(owner: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> list[Record]:
    import dns.rrset

    rrset = dns.rrset.RRset(owner, rdataset.rdclass, rdataset.rdtype)
    rrset.update(rdataset)
    return records_of(rrset)
