"""dnscheck.collect.wire reads a resolver's answer as dnspython does: the same records, TTLs, targets, rcode and
zone, on every record set of the real-world corpus, on generated messages, and on garbled ones (where both read
a message, they agree; a message dnspython refuses for its answer section, wire refuses too)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnscheck.collect import wire
from dnscheck.collect.records import records_of
from dnscheck.collect.resolver import _records, _soa_owner

REALWORLD = Path(__file__).resolve().parents[2] / "fixtures" / "realworld"
TYPES = ("MX", "NS", "CNAME", "TXT", "A", "AAAA", "SRV", "SOA")


def _expected(data: bytes, lenient: bool = False) -> tuple[object, ...]:
    """What dnscheck read from a message with dnspython before this module (`lenient`: skipping the records
    dnspython cannot read)."""
    m = dns.message.from_wire(data, continue_on_error=lenient)
    records = _records(m)
    # what the authoritative probe took: every record of the answer owned by the name asked
    owned = tuple(r for rrset in m.answer if rrset.name == m.question[0].name for r in records_of(rrset))
    return (
        records,
        [(r.ttl, r.target) for r in records],
        _soa_owner(m),
        int(m.rcode()),
        bool(m.answer),
        owned,
        [(r.ttl, r.target) for r in owned],
    )


def _read(data: bytes, query: bytes) -> tuple[object, ...]:
    r = wire.read(data, wire.question(query), owned=True)
    return (
        r.records,
        [(r.ttl, r.target) for r in r.records],
        r.zone,
        r.rcode(),
        r.answered,
        r.owned,
        [(r.ttl, r.target) for r in r.owned],
    )


def _response(
    qname: str,
    qtype: str,
    answer: list[dns.rrset.RRset],
    authority: list[dns.rrset.RRset] = (),
    rcode: int = 0,
) -> tuple[bytes, bytes]:
    query = wire.query(qname, dns.rdatatype.from_text(qtype), 1232, qid=4242)
    q = dns.message.from_wire(query)
    r = dns.message.make_response(q)
    r.set_rcode(rcode)
    r.answer.extend(answer)
    r.authority.extend(authority)
    return query, r.to_wire()


def test_the_query_is_packed_as_dnspython_packs_it() -> None:
    for name in ("example.com", "Example.COM.", "_sip._tls.xn--bcher-kva.example", "a" * 63 + ".com", "."):
        for rdtype in ("MX", "TXT", "SRV", "DS"):
            q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
            q.id = 7
            assert wire.query(name, dns.rdatatype.from_text(rdtype), 1232, qid=7) == q.to_wire()
    with pytest.raises(dns.exception.DNSException):
        wire.query("a..b", 1, 1232)


def _corpus_rrsets() -> list[tuple[str, dns.rrset.RRset, dns.rrset.RRset]]:
    out = []
    for entry in json.loads((REALWORLD / "MANIFEST.json").read_text())["fixtures"]:
        path = REALWORLD / entry["file"]
        zone = dns.zone.from_file(str(path), origin=entry["domain"], relativize=False, check_origin=False)
        soa = zone.get_rrset(zone.origin, "SOA")
        for name, node in zone.nodes.items():
            for rds in node.rdatasets:
                if dns.rdatatype.to_text(rds.rdtype) in TYPES:
                    rrset = dns.rrset.RRset(name, rds.rdclass, rds.rdtype)
                    rrset.update(rds)
                    out.append((path.name, rrset, soa))
    return out


def test_every_record_set_of_the_corpus_reads_the_same() -> None:
    rrsets = _corpus_rrsets()
    assert len(rrsets) > 500
    for source, rrset, soa in rrsets:
        qname = rrset.name.to_text()
        query, data = _response(qname, dns.rdatatype.to_text(rrset.rdtype), [rrset])
        assert _read(data, query) == _expected(data), source
        if rrset.rdtype == dns.rdatatype.CNAME:  # asked for another type: the chain, then nothing
            query, data = _response(qname, "MX", [rrset], [soa] if soa else [])
            assert _read(data, query) == _expected(data), source
        if soa is not None:  # the same name, NXDOMAIN, with the zone's SOA
            query, data = _response(qname, "TXT", [], [soa], rcode=dns.rcode.NXDOMAIN)
            assert _read(data, query) == _expected(data), source


_label = st.one_of(
    st.from_regex(r"[a-z0-9_-]{1,12}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9]{1,5}", fullmatch=True),
    st.binary(min_size=1, max_size=6),
)
_names = st.lists(_label, min_size=1, max_size=4).map(
    lambda labels: dns.name.Name([lb if isinstance(lb, bytes) else lb.encode() for lb in labels] + [b""])
)


@st.composite
def _rdata(draw: st.DrawFn, rdtype: str) -> dns.rdata.Rdata:
    n = draw(_names).to_text()
    text = {
        "MX": lambda: f"{draw(st.integers(0, 65535))} {n}",
        "NS": lambda: n,
        "CNAME": lambda: n,
        "SRV": lambda: (
            f"{draw(st.integers(0, 9))} {draw(st.integers(0, 9))} {draw(st.integers(1, 65535))} {n}"
        ),
        "A": lambda: ".".join(str(draw(st.integers(0, 255))) for _ in range(4)),
        "AAAA": lambda: draw(st.sampled_from(["2001:db8::1", "::ffff:10.0.0.1", "fe80::1:2:3:4", "::"])),
        "TXT": lambda: " ".join(
            '"' + "".join(f"\\{b:03d}" for b in s) + '"'
            for s in draw(st.lists(st.binary(max_size=20), min_size=1, max_size=3))
        ),
        "SOA": lambda: f"{n} {draw(_names).to_text()} 1 2 3 4 5",
    }[rdtype]()
    return dns.rdata.from_text("IN", rdtype, text)


@st.composite
def _messages(draw: st.DrawFn) -> tuple[bytes, bytes]:
    qname = draw(_names)
    qtype = draw(st.sampled_from(TYPES))
    answer: list[dns.rrset.RRset] = []
    owner = qname
    for _ in range(draw(st.integers(0, 3))):  # a CNAME chain, perhaps with a loop
        target = draw(st.one_of(_names, st.just(qname)))
        answer.append(
            dns.rrset.from_rdata(
                owner, draw(st.integers(0, 2**31)), dns.rdata.from_text("IN", "CNAME", target.to_text())
            )
        )
        owner = target
    for _ in range(draw(st.integers(0, 3))):  # the answer, other names' records, duplicates, TTLs that differ
        rdtype = draw(st.sampled_from(TYPES))
        rrset = dns.rrset.RRset(
            draw(st.one_of(st.just(owner), _names)), dns.rdataclass.IN, dns.rdatatype.from_text(rdtype)
        )
        for _ in range(draw(st.integers(1, 3))):
            rrset.add(draw(_rdata(rdtype)), draw(st.integers(0, 86400)))
        answer.append(rrset)
    authority = []
    if draw(st.booleans()):
        authority.append(dns.rrset.from_rdata(draw(_names), 300, draw(_rdata("SOA"))))
    rcode = draw(st.sampled_from([0, 0, 3, 2, 5, 6]))
    return _response(qname.to_text(), qtype, answer, authority, rcode)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_messages())
def test_generated_messages_read_the_same(message: tuple[bytes, bytes]) -> None:
    query, data = message
    assert _read(data, query) == _expected(data)
    reply = wire.read(data, wire.question(query))
    m = dns.message.from_wire(data)
    try:
        m.resolve_chaining()
        error = None
    except dns.exception.DNSException as e:
        error = str(e)
    assert reply.chain_error == error


def test_the_extended_rcode_of_the_opt_record_counts() -> None:
    query, data = _response("example.com.", "MX", [])
    m = dns.message.from_wire(data)
    m.use_edns(0, 0, 1232)
    m.set_rcode(dns.rcode.BADVERS)
    out = m.to_wire()
    assert (
        wire.read(out, wire.question(query)).rcode()
        == dns.rcode.BADVERS
        == dns.message.from_wire(out).rcode()
    )


def test_an_answer_of_another_type_is_read_by_dnspython() -> None:
    rrset = dns.rrset.from_text("example.com.", 300, "IN", "CAA", '0 issue "letsencrypt.org"')
    query, data = _response("example.com.", "CAA", [rrset])
    assert _read(data, query) == _expected(data)
    assert wire.read(data, wire.question(query)).records[0].value == '0 issue "letsencrypt.org"'
    # an MX answer that also carries a record of another type: read by dnspython, the MX still there
    mx = dns.rrset.from_text("example.com.", 300, "IN", "MX", "0 example-com.mail.protection.outlook.com.")
    query, data = _response("example.com.", "MX", [rrset, mx])
    assert _read(data, query) == _expected(data)
    got = wire.read(data, wire.question(query), owned=True)
    assert [r.type for r in got.records] == ["MX"] and [r.type for r in got.owned] == ["CAA", "MX"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d[:-1],  # cut short
        lambda d: d + b"\x00",  # trailing junk
        lambda d: d[:2] + bytes([d[2] & 0x7F]) + d[3:],  # not a response (QR clear)
        lambda d: d[:4] + b"\x00\x02" + d[6:],  # two questions
    ],
)
def test_a_broken_message_is_refused(mutate: object) -> None:
    rrset = dns.rrset.from_text("example.com.", 300, "IN", "MX", "10 mx.example.com.")
    query, data = _response("example.com.", "MX", [rrset])
    with pytest.raises(dns.exception.FormError):
        wire.read(mutate(data), wire.question(query))  # type: ignore[operator]


def test_a_compression_pointer_loop_is_refused() -> None:
    query = wire.query("example.com", 15, 1232)
    head = bytes.fromhex("0000 8180 0001 0001 0000 0000")
    question = query[12:-11]
    loop = b"\xc0" + bytes([12 + len(question)])  # points at itself
    record = loop + bytes.fromhex("000f 0001 0000012c 0004") + b"\x00\x0a\xc0\x0c"
    with pytest.raises(dns.exception.FormError):
        wire.read(head + question + record, wire.question(query))


def test_an_answer_to_another_question_is_refused() -> None:
    rrset = dns.rrset.from_text("example.org.", 300, "IN", "MX", "10 mx.example.org.")
    _, data = _response("example.org.", "MX", [rrset])
    with pytest.raises(dns.exception.FormError):
        wire.read(data, wire.question(wire.query("example.com", 15, 1232)))
    with pytest.raises(dns.exception.FormError):
        wire.read(data, wire.question(wire.query("example.org", 16, 1232)))


def test_garbled_messages_never_read_differently() -> None:
    """Random damage to real answers: whenever wire reads a message and dnspython reads it too, they agree. Where
    wire reads a message dnspython refuses (a few in a thousand), the damage is in a record of a section whose
    contents dnscheck does not read (the authority's or additional's data of a type wire does not read): the
    rest reads the same. Where dnspython reads one wire refuses, it is an answer to another question (the
    damage hit the question), which dnscheck never took either."""
    rng = random.Random(20261206)
    rrsets = _corpus_rrsets()
    agreed = refused = lenient = 0
    for _ in range(4000):
        _, rrset, soa = rng.choice(rrsets)
        query, data = _response(
            rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype), [rrset], [soa] if soa else []
        )
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(12, len(damaged))
            damaged[at] = rng.randrange(256) if rng.random() < 0.7 else damaged[at] ^ (1 << rng.randrange(8))
        data = bytes(damaged)
        try:
            mine = _read(data, query)
        except dns.exception.FormError as e:
            refused += 1
            if str(e) == "the answer to another question":
                continue
            with pytest.raises(dns.exception.DNSException):
                _expected(data)
            continue
        try:
            theirs = _expected(data)
        except dns.exception.DNSException:
            theirs = _expected(data, lenient=True)
            lenient += 1
        assert mine == theirs
        agreed += 1
    assert agreed > 1000 and refused > 1000 and lenient < 40


def test_an_answer_too_large_for_udp_comes_over_tcp_whole() -> None:
    """A resolver's answer larger than the EDNS payload comes truncated over UDP; dnscheck asks again over TCP (a
    plain RFC 7766 exchange) within the same deadline, and reads the whole answer."""
    import asyncio

    from dnscheck.collect.resolver import ResolverSource, make_resolver
    from dnscheck.models import Answered
    from tests.fakeserver import Data, FakeServer, no_offsite_packets

    strings = [f'TXT "v=verify{i:02d} ' + "x" * 200 + '"' for i in range(12)]  # ~2.6 kB
    data = Data({"big.example": strings}, zones=("big.example",))
    with no_offsite_packets(), FakeServer(data) as srv:
        lk = asyncio.run(ResolverSource(make_resolver([srv.address], 3.0)).lookup("big.example", "TXT"))
        transports = [t for t, name, _ in srv.queries if name.rstrip(".") == "big.example"]
    assert isinstance(lk, Answered) and len(lk.records) == 12, lk
    assert transports[:2] == ["udp", "tcp"], transports
