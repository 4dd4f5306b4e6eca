"""A recursive resolver's answer, read straight from its wire form into the records dnscheck uses.

Why not dnspython's `Message.from_wire` and `Resolver.resolve`: on a fleet run they were two thirds of the client's
CPU (an object per name, per record and per enum value, then the resolver's state machine, then
`resolve_chaining`), for answers of which dnscheck reads a handful of fields. This module reads exactly those
fields and nothing else, with dnspython's rules, so that its result is the one dnspython would give:

- names: labels of at most 63 octets, at most 255 octets in all, compression pointers that point strictly
  backwards and never into the name they continue (dnspython's `from_wire_parser`), shown as dnspython shows them
  (`Name.to_text`, with its escapes);
- records: grouped into RRsets by owner, type and class, in order of first appearance, duplicates dropped (and
  for CNAME, DNAME and SOA, only the last kept), the RRset's TTL the smallest of its records' (dnspython's
  `Rdataset.add`);
- the CNAME chain from the question's name (dnspython's `resolve_chaining`: at most 16 hops, and no answer with
  NXDOMAIN);
- the message: nothing after the last record, one OPT record at most (in the additional section, owned by the
  root), the extended rcode from it.

The records of the answer section must be of a type read here (MX, NS, CNAME, DNAME, SRV, TXT, A, AAAA, SOA) and
of class IN; any other answer (an RRSIG, a CAA...) is handed to dnspython whole (`from_dnspython`), so nothing is
ever read differently, only faster. The authority and additional sections are walked record by record (their
owners and lengths checked) but only an SOA's owner is kept, and the OPT record read.
`tests/unit/test_wire.py` compares this reader with dnspython on generated, real and garbled messages.
"""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass

import dns.exception
import dns.ipv4
import dns.ipv6
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from dnscheck.collect.records import host_text, records_of
from dnscheck.models import Record

MAX_CHAIN = 16  # dnspython's dns.message.MAX_CHAIN
MAX_POINTERS = 16  # dnspython's dns.name.MAX_COMPRESSION_POINTER_CHAIN
_NEEDS_ESCAPE = re.compile(rb'[^\x21-\x7e]|["().;\\@$]')
_HEAD = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_IN = 1
_OPT = 41
_TSIG = 250
_SOA = 6
_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV", 39: "DNAME"}
_NAMED = (2, 5, 39)  # the rdata is one name
_IN_ONLY = (1, 28, 33)  # A, AAAA, SRV: any other class has other data (the others are the same in every class)
_SINGLETONS = (5, 6, 39)  # CNAME, SOA, DNAME (dns.rdatatype.is_singleton)
_RCODES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}


class WireError(dns.exception.FormError):
    """The message breaks DNS's wire rules (as dnspython would refuse it)."""


@dataclass(frozen=True, slots=True)
class Reply:
    """What dnscheck reads of a resolver's answer. `flags` and `rcode()` as on a dnspython Message, so that the
    paced resolvers (dnscheck.collect.paced) handle both alike."""

    flags: int
    code: int
    records: tuple[Record, ...]  # the CNAME chain from the question's name, then the RRset it ends at
    answered: bool  # the answer section has records (perhaps of other names or types)
    zone: str | None  # the owner of the first SOA in the authority section
    chain_error: str | None = None  # why the chain could not be followed (ChainTooLong, AnswerForNXDOMAIN)
    owned: tuple[Record, ...] = ()  # with read(owned=True): the answer's records owned by the question's name

    def rcode(self) -> int:
        return self.code

    def rcode_text(self) -> str:
        return _RCODES.get(self.code) or dns.rcode.to_text(self.code)  # type: ignore[arg-type]


def query(name: str, rdtype: int, payload: int, qid: int = 0, rd: bool = True) -> bytes:
    """A query (RD unless `rd` is false, EDNS0 with `payload`, no option) for `name`, as dnspython's make_query +
    use_edns(0, 0, payload) would pack it."""
    head = _HEAD.pack(qid, 0x0100 if rd else 0, 1, 0, 0, 1)
    return head + name_wire(name) + struct.pack("!HHBHHIH", rdtype, _IN, 0, _OPT, payload, 0, 0)


def name_wire(name: str) -> bytes:
    """The wire form of a name given in text (absolute; a trailing dot is optional)."""
    text = name.rstrip(".") if name != "." else ""
    if text.isascii() and "\\" not in text and len(text) <= 253:
        labels = text.encode().split(b".") if text else []
        if all(0 < len(label) < 64 for label in labels):
            return b"".join(bytes((len(label),)) + label for label in labels) + b"\x00"
    import dns.name

    wire = dns.name.from_text(name).to_wire()
    assert wire is not None
    return wire


def question(query: bytes) -> bytes:
    """The question section of a query (name, type, class; no compression in a query's first name), its name
    lower-cased: what an answer must repeat."""
    end = 12
    while end < len(query) and query[end]:
        end += query[end] + 1
    return query[12 : end + 1].lower() + query[end + 1 : end + 5]


def repeats(data: bytes, asked: bytes) -> bool:
    """Whether the message `data` repeats the question section `asked` (see `question`) right after its header."""
    end = 12 + len(asked)
    return data[12 : end - 4].lower() + data[end - 4 : end] == asked


def describe(asked: bytes) -> str:
    """A question section as text ("example.com. MX"), for messages."""
    name, at = _name(asked + b"\0" * 4, 0, len(asked))
    return f"{name}. {dns.rdatatype.to_text(struct.unpack_from('!H', asked, at)[0])}"


@functools.lru_cache(maxsize=64)
def type_code(rdtype: str) -> int:
    return int(dns.rdatatype.from_text(rdtype))


def read(data: bytes, asked: bytes, owned: bool = False) -> Reply:
    """The reply in `data` to the question `asked` (see `question`). WireError when it is malformed, or is not a
    response to that question. `owned`: also the records the answer has for the question's name, of any type
    (what an authoritative server says about the name)."""
    try:
        return _read(data, asked, owned)
    except _Unsupported:
        return from_dnspython(data, asked, owned)
    except (IndexError, struct.error, UnicodeDecodeError) as e:
        raise WireError(f"malformed message ({e})") from None


def from_dnspython(data: bytes, asked: bytes, owned: bool = False) -> Reply:
    """The same reading, through dnspython (an answer with records of a type not read here)."""
    try:
        message = dns.message.from_wire(data)
    except Exception as e:  # noqa: BLE001 - whatever dnspython cannot read is a message that cannot be used
        raise WireError(f"{type(e).__name__}: {e}") from None
    if not isinstance(message, dns.message.QueryMessage) or not _answers(message, data, asked):
        raise WireError("not a response to this question")
    error = None
    records: tuple[Record, ...] = ()
    try:
        chain = message.resolve_chaining()
        rrsets = [*chain.cnames, *([chain.answer] if chain.answer is not None else [])]
        records = tuple(rec for rrset in rrsets for rec in records_of(rrset))
    except dns.exception.DNSException as e:
        error = str(e)
    zone = next((host_text(r.name) for r in message.authority if r.rdtype == _SOA), None)
    qname = message.question[0].name
    mine = tuple(r for rrset in message.answer if rrset.name == qname for r in records_of(rrset)) if owned else ()
    return Reply(int(message.flags), int(message.rcode()), records, bool(message.answer), zone, error, mine)


def _answers(message: dns.message.Message, data: bytes, asked: bytes) -> bool:
    return (
        bool(message.flags & 0x8000)
        and not message.opcode()
        and repeats(data, asked)
        and len(message.question) == 1
    )


class _Unsupported(Exception):
    pass


def _read(data: bytes, asked: bytes, owned: bool) -> Reply:
    _, flags, qdcount, ancount, nscount, arcount = _HEAD.unpack_from(data)
    if not flags & 0x8000 or (flags >> 11) & 0xF or qdcount != 1:
        raise WireError("not a response to a query")
    if not repeats(data, asked):  # then the name there is `asked`'s, uncompressed, and ends where it does
        raise WireError("the answer to another question")
    qname, at = _name(data, 12, len(data))
    at += 4
    qtype = struct.unpack_from("!H", data, at - 4)[0]
    rrsets: dict[tuple[str, int], _RRset] = {}
    for _ in range(ancount):
        at = _answer_record(data, at, rrsets)
    zone = None
    for _ in range(nscount):
        owner, rtype, _, at, _ = _record(data, at)
        if rtype == _SOA and zone is None:
            zone = _host(owner)
        elif rtype == _OPT:
            raise WireError("an OPT record outside the additional section")
    at, extended = _additional(data, at, arcount)
    rcode = flags & 0xF | extended << 4
    if at != len(data):
        raise WireError("trailing data after the message")
    key = _host(qname)
    records, error = _chain(rrsets, key, qtype, rcode)
    mine = tuple(r for (o, _), rrset in rrsets.items() if o == key for r in _rrset_records(rrset)) if owned else ()
    return Reply(flags, rcode, records, ancount > 0, zone, error, mine)


def _additional(data: bytes, at: int, count: int) -> tuple[int, int]:
    """(where the section ends, the extended rcode of its OPT record)."""
    extended = -1
    for _ in range(count):
        owner, rtype, ttl, at, start = _record(data, at)
        if rtype == _TSIG:
            raise WireError("a signed answer (TSIG) to an unsigned question")
        if rtype == _OPT:
            if extended >= 0 or owner:
                raise WireError("more than one OPT record, or one not owned by the root")
            extended = ttl >> 24
            _options(data, start, at)
    return at, max(extended, 0)


class _RRset:
    __slots__ = ("owner", "type", "ttl", "items")

    def __init__(self, owner: str, rtype: int, ttl: int) -> None:
        self.owner, self.type, self.ttl = owner, rtype, ttl
        self.items: dict[object, tuple[str, str | None]] = {}  # canonical rdata -> (value, target)


def _record(data: bytes, at: int) -> tuple[str, int, int, int, int]:
    """(owner, type, TTL, where the next record starts, where this one's data starts) of a record outside the
    answer section: only its owner is kept, but its data is checked when it is of a type read here."""
    owner, at = _name(data, at, len(data))
    rtype, rclass, ttl, rdlen = _RR.unpack_from(data, at)
    start = at + 10
    end = start + rdlen
    if end > len(data):
        raise WireError("record data past the end of the message")
    if rtype in _TYPES and (rclass == _IN or rtype not in _IN_ONLY):
        _rdata(data, start, end, rtype)
    return owner, rtype, ttl, end, start


def _options(data: bytes, at: int, end: int) -> None:
    """EDNS options: code, length, data, to the end of the OPT record exactly."""
    while at < end:
        (length,) = struct.unpack_from("!H", data, at + 2)
        at += 4 + length
    _exact(at, end)


def _answer_record(data: bytes, at: int, rrsets: dict[tuple[str, int], _RRset]) -> int:
    owner, at = _name(data, at, len(data))
    rtype, rclass, ttl, rdlen = _RR.unpack_from(data, at)
    at += 10
    end = at + rdlen
    if end > len(data):
        raise WireError("record data past the end of the message")
    if rclass != _IN or rtype not in _TYPES:
        raise _Unsupported
    if ttl > 0x7FFFFFFF:  # RFC 2181 section 8, as dnspython reads it
        ttl = 0
    key, value, target = _rdata(data, at, end, rtype)
    owner = _host(owner)
    rrset = rrsets.get((owner, rtype))
    if rrset is None:
        rrset = rrsets[(owner, rtype)] = _RRset(owner, rtype, ttl)
    elif ttl < rrset.ttl:
        rrset.ttl = ttl
    if rtype in _SINGLETONS:  # one record at most: dnspython keeps the last one
        rrset.items.clear()
    rrset.items.setdefault(key, (value, target))
    return end


def _rdata(data: bytes, at: int, end: int, rtype: int) -> tuple[object, str, str | None]:
    """(canonical form, to drop duplicates; the value as dnscheck shows it; the host it points at)."""
    if rtype == 1 or rtype == 28:
        raw = data[at:end]
        if len(raw) != (4 if rtype == 1 else 16):
            raise WireError("address record of the wrong length")
        return raw, dns.ipv4.inet_ntoa(raw) if rtype == 1 else dns.ipv6.inet_ntoa(raw), None
    if rtype == 16:
        strings = []
        while at < end:
            n = data[at]
            if at + 1 + n > end:
                raise WireError("TXT string past the end of its record")
            strings.append(data[at + 1 : at + 1 + n])
            at += 1 + n
        if not strings:
            raise WireError("TXT record without a string")
        return tuple(strings), b"".join(strings).decode("utf-8", errors="replace"), None
    if rtype == 6:  # shown whole, as dnspython shows it: absolute names, with their case
        mname, at = _name(data, at, end)
        rname, at = _name(data, at, end)
        numbers = struct.unpack_from("!IIIII", data, at)
        _exact(at + 20, end)
        text = f"{_dotted(mname)} {_dotted(rname)} "
        return (mname.lower(), rname.lower(), numbers), text + " ".join(map(str, numbers)), None
    fixed = {15: 2, 33: 6}.get(rtype, 0)  # MX: preference; SRV: priority, weight, port
    numbers = struct.unpack_from("!" + "H" * (fixed // 2), data, at)
    target, at = _name(data, at + fixed, end)
    _exact(at, end)
    host = _host(target)
    value = " ".join([*map(str, numbers), host])
    return (numbers, host), value, host


def _dotted(name: str) -> str:
    return name + "." if name else "."


def _exact(at: int, end: int) -> None:
    if at != end:
        raise WireError("record data of the wrong length")


def _name(data: bytes, at: int, limit: int) -> tuple[str, int]:
    """(the name at `at` as dnspython's to_text(omit_final_dot=True) shows it, where the data after it starts).
    `limit`: where the name must end (the end of its record's data, or of the message)."""
    labels: list[bytes] = []
    size = 1
    after = -1
    start = at  # where the part being read starts: a pointer must point before it, and what it points at end there
    hops = 0
    while True:
        if at >= limit:
            raise WireError("name past the end of its record")
        n = data[at]
        if n == 0:
            at += 1
            break
        if n < 64:
            size += n + 1
            if size > 255:
                raise WireError("name longer than 255 octets")
            if at + 1 + n > limit:
                raise WireError("name past the end of its record")
            labels.append(data[at + 1 : at + 1 + n])
            at += n + 1
            continue
        if n < 192:
            raise WireError("bad label type")
        if at + 2 > limit:
            raise WireError("name past the end of its record")
        target = ((n & 0x3F) << 8) | data[at + 1]
        if after < 0:
            after = at + 2
        hops += 1
        if target >= start or hops > MAX_POINTERS:
            raise WireError("bad compression pointer")
        limit, at, start = start, target, target
    return _text(labels), (after if after >= 0 else at)


def _text(labels: list[bytes]) -> str:
    if any(_NEEDS_ESCAPE.search(label) for label in labels):
        return ".".join(dns.name._escapify(label) for label in labels)
    return b".".join(labels).decode("ascii")


def _host(text: str) -> str:
    return text.lower() or "."


def _chain(
    rrsets: dict[tuple[str, int], _RRset], qname: str, qtype: int, rcode: int
) -> tuple[tuple[Record, ...], str | None]:
    """The CNAME chain from `qname` and the RRset it ends at, as dnspython's resolve_chaining finds them."""
    chain: list[_RRset] = []
    name = qname
    answer = None
    for _ in range(MAX_CHAIN):
        answer = rrsets.get((name, qtype))
        if answer is not None or qtype == 5:
            break
        cname = rrsets.get((name, 5))
        if cname is None:
            break
        chain.append(cname)
        name = next(iter(cname.items.values()))[1] or "."
    else:
        return (), str(dns.message.ChainTooLong())
    if rcode == 3 and answer is not None:
        return (), str(dns.message.AnswerForNXDOMAIN())
    if answer is not None:
        chain.append(answer)
    return tuple(rec for rrset in chain for rec in _rrset_records(rrset)), None


def _rrset_records(rrset: _RRset) -> list[Record]:
    rtype = _TYPES[rrset.type]
    return [Record(rrset.owner, rtype, value, rrset.ttl, target) for value, target in rrset.items.values()]
