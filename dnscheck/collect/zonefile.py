"""A BIND zone file as a source: check a planned zone before publishing it at a new DNS host.

It answers like an authoritative server for its own zone (NXDOMAIN, NODATA, in-zone CNAMEs, wildcards) and
knows nothing outside it: the planner asks `covers()` before following a name elsewhere. A name delegated to
another zone (an NS cut below the apex) or redirected by a DNAME cannot be answered from the file: that is
Undetermined, never "no record".
"""

from __future__ import annotations

import io
import re

import dns.exception
import dns.grange
import dns.name
import dns.node
import dns.rdataclass
import dns.rdatatype
import dns.tokenizer
import dns.zone
import dns.zonefile

from dnscheck.collect import Source
from dnscheck.collect.resolver import records_of
from dnscheck.errors import ZoneFileError
from dnscheck.files import read_regular
from dnscheck.models import Answered, Lookup, Record, Undetermined

MAX_ZONE_BYTES = 64 << 20  # about 1.5 million records, minutes to parse: not a planned zone for one domain
MAX_GENERATED = 100_000  # records all $GENERATE lines of a file may create: ten lines must not take an hour
_GENERATE = re.compile(r"^\$GENERATE(?![^\s();\"])", re.IGNORECASE | re.MULTILINE)


def load_zone(path: str, domain: str) -> dns.zone.Zone:
    """Parse `path`; its origin is its own $ORIGIN, else `domain`. `$INCLUDE` is refused."""
    try:
        # A regular file only, and a bounded read: a FIFO or /dev/zero must not hang the check.
        raw = read_regular(path, "--zone-file", MAX_ZONE_BYTES, ZoneFileError)
        text = raw.decode("utf-8")
    except FileNotFoundError as e:
        raise ZoneFileError(f"cannot read zone file {path}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ZoneFileError(f"{path}:{line}: not UTF-8 text (byte {e.start})") from None
    if not text.strip():
        raise ZoneFileError(f"{path}: the zone file is empty")
    _check_generate(text, path)
    try:
        zone = _parse(text, path, None)
    except dns.zone.UnknownOrigin:
        if domain == ".":  # no valid domain was given (each gets its own INPUT_INVALID result)
            raise ZoneFileError(
                f"{path}: the zone file has no $ORIGIN, and no valid domain was given to take it from"
            ) from None
        zone = _parse(text, path, domain)
    assert zone.origin is not None  # from_text always sets it
    origin = zone.origin.to_text(omit_final_dot=True).lower()
    if domain != "." and not dns.name.from_text(domain).is_subdomain(zone.origin):
        raise ZoneFileError(f"{domain} is not inside the zone in {path} (its origin is {origin})")
    return zone


def _check_generate(text: str, path: str) -> None:
    """Refuse a file whose $GENERATE lines would create more than MAX_GENERATED records, before dnspython
    expands them. The range is read with dnspython's own tokenizer and range parser, so every form the parser
    accepts is counted: parentheses across lines, comments, `$generate` in lower case."""
    total = 0
    stream = io.StringIO(text)
    for m in _GENERATE.finditer(text):
        stream.seek(m.end())
        try:
            token = dns.tokenizer.Tokenizer(stream, filename=path).get()
            start, stop, step = dns.grange.from_text(token.value)
        except dns.exception.DNSException:
            continue  # not a range: the parser reports this line as a syntax error
        total += max(0, (stop - start) // max(step, 1) + 1)
        if total > MAX_GENERATED:
            line = text.count("\n", 0, m.start()) + 1
            raise ZoneFileError(
                f"{path}:{line}: $GENERATE would create more than {MAX_GENERATED} records; "
                "expand the range into the file, or check the zone at its DNS host"
            )


def _parse(text: str, path: str, origin: str | None) -> dns.zone.Zone:
    try:
        zone = dns.zone.from_text(
            text, origin=origin, relativize=False, allow_include=False, filename=path, check_origin=False
        )
        if zone.origin is None:  # no $ORIGIN and not a single record to learn it from
            raise dns.zone.UnknownOrigin
        zone.check_origin()
        return zone
    except dns.zone.UnknownOrigin:
        raise
    except dns.zone.NoSOA:
        raise ZoneFileError(f"{path}: the zone has no SOA record at its origin") from None
    except dns.zone.NoNS:
        raise ZoneFileError(f"{path}: the zone has no NS records at its origin") from None
    except dns.exception.SyntaxError as e:
        # dnspython's message starts with "file:line:"; keep it, the line number is what the user needs.
        msg = _true_line(text, path, origin, str(e))
        if "$INCLUDE" in msg or "include" in msg.lower():
            msg += " ($INCLUDE is refused: inline the included records)"
        raise ZoneFileError(msg) from None
    except dns.zonefile.CNAMEAndOtherData:
        raise ZoneFileError(
            f"{path}: a name has a CNAME and other records too; a CNAME must stand alone"
        ) from None
    except dns.exception.DNSException as e:
        raise ZoneFileError(f"{path}: {e}") from None


_WHERE = re.compile(r"^(.*):(\d+): (.*)$", re.DOTALL)


def _true_line(text: str, path: str, origin: str | None, msg: str) -> str:
    """dnspython reports some errors (a bad address, an unterminated string) one line late, once it has read
    the newline. If the same error already happens in the lines before the one reported, it is on the line
    before."""
    m = _WHERE.match(msg)
    if not m or int(m[2]) <= 1:
        return msg
    line = int(m[2])
    prefix = "".join(text.splitlines(keepends=True)[: line - 1])
    try:
        dns.zone.from_text(
            prefix, origin=origin, relativize=False, allow_include=False, filename=path, check_origin=False
        )
    except dns.exception.SyntaxError as e:
        again = _WHERE.match(str(e))
        if again and again[3] == m[3]:
            return f"{m[1]}:{line - 1}: {m[3]}"
    except Exception:  # noqa: BLE001 - only a hint: keep dnspython's line
        pass
    return msg


class ZoneFileSource:
    """`outside`: a resolver the check may ask for the MX hosts outside the zone (only when the user named one
    with --resolver); without it they are not followed."""

    def __init__(self, zone: dns.zone.Zone, path: str, outside: Source | None = None) -> None:
        assert zone.origin is not None
        self._zone = zone
        self._origin: dns.name.Name = zone.origin
        self.outside = outside
        self.label = f"zone file {path}" + (f" (outside it: {outside.label})" if outside else "")
        self.recursive = False
        self._interior: set[dns.name.Name] | None = None  # empty non-terminals: built on first need
        self._cuts: set[dns.name.Name] | None = None  # delegation points below the apex
        # --parent-ds (collect/dnssec_planned.ParentDs): the DS the zone's DNSSEC is checked against
        self.parent_ds: object = None

    @property
    def zone(self) -> dns.zone.Zone:
        return self._zone

    def covers(self, name: str) -> bool:
        """Inside the zone, and not delegated away from it (a child zone's names are unknown here)."""
        qname = dns.name.from_text(name)
        return qname.is_subdomain(self._origin) and self._elsewhere(qname) is None

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
            elsewhere = self._elsewhere(qname)
            if elsewhere:
                return Undetermined(name, rdtype, elsewhere, self.label)
            node = self._zone.get_node(qname)
            if node is None:
                if self._has_below(qname):
                    return Answered(name, rdtype, tuple(out), "NOERROR", soa)
                node = self._wildcard(qname)
                if node is None:
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

    def _has_below(self, qname: dns.name.Name) -> bool:
        """Whether some name in the zone lies below `qname` (an empty non-terminal: NODATA, not NXDOMAIN)."""
        if self._interior is None:
            interior: set[dns.name.Name] = set()
            for n in self._zone.nodes:
                p = n
                while len(p) > len(self._origin) + 1:
                    p = p.parent()
                    if p in interior:
                        break
                    interior.add(p)
            self._interior = interior
        return qname in self._interior

    def _wildcard(self, qname: dns.name.Name) -> dns.node.Node | None:
        """The wildcard that covers a name that does not exist (RFC 4592), if any."""
        encloser = qname.parent()
        while (
            encloser != self._origin
            and self._zone.get_node(encloser) is None
            and not self._has_below(encloser)
        ):
            encloser = encloser.parent()
        return self._zone.get_node(dns.name.Name((b"*", *encloser.labels)))

    def _elsewhere(self, qname: dns.name.Name) -> str | None:
        """Why the file cannot answer for `qname`: it is at or below a zone cut, or under a DNAME."""
        if self._cuts is None:
            self._cuts = {
                n
                for n, node in self._zone.nodes.items()
                if n != self._origin and node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS)
            }
        p = qname
        while True:
            if p in self._cuts:
                return (
                    f"{_text(p)} is delegated to other name servers (NS records below the apex); "
                    "the zone file cannot answer for it"
                )
            if p != qname:
                node = self._zone.get_node(p)
                if node is not None and node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.DNAME):
                    return f"{_text(p)} has a DNAME; the zone file does not follow it"
            if p == self._origin or len(p) <= len(self._origin):
                return None
            p = p.parent()


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


def _records(owner: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> list[Record]:
    import dns.rrset

    rrset = dns.rrset.RRset(owner, rdataset.rdclass, rdataset.rdtype)
    rrset.update(rdataset)
    return records_of(rrset)
