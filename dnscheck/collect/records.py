"""dnspython's records (an answer dnspython read, a zone file) in dnscheck's form: presentation text, names without
the trailing dot and lower-cased, the pointed-at host kept for matching. dnscheck.collect.wire reads answers from
the wire into the same form."""

from __future__ import annotations

from typing import Any

import dns.name
import dns.rdata
import dns.rdatatype

from dnscheck.models import Record


def records_of(rrset: Any) -> list[Record]:
    """Records in presentation form, with the pointed-at host name kept for matching."""
    name = host_text(rrset.name)
    rtype = dns.rdatatype.to_text(rrset.rdtype)
    return [_dnspython_record(name, rtype, rd, rrset.ttl) for rd in rrset]


def _dnspython_record(name: str, rtype: str, rd: Any, ttl: int) -> Record:
    if isinstance(rd, dns.rdata.GenericRdata):  # a type dnspython does not know in this class (an SRV in CH...)
        return Record(name, rtype, rd.to_text(), ttl)
    if rtype == "TXT":
        text = b"".join(rd.strings).decode("utf-8", errors="replace")
        return Record(name, rtype, text, ttl)
    if rtype == "MX":
        target = host_text(rd.exchange)
        return Record(name, rtype, f"{rd.preference} {target}", ttl, target)
    if rtype in ("CNAME", "NS", "DNAME"):
        target = host_text(rd.target)
        return Record(name, rtype, target, ttl, target)
    if rtype == "SRV":
        target = host_text(rd.target)
        return Record(name, rtype, f"{rd.priority} {rd.weight} {rd.port} {target}", ttl, target)
    return Record(name, rtype, rd.to_text(), ttl)


def host_text(name: dns.name.Name) -> str:
    """A dnspython name as dnscheck shows a host: lower-cased, without the trailing dot; the root (a null MX's
    exchange) stays "."."""
    return name.to_text(omit_final_dot=True).lower() or "."
