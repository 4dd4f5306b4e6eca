"""Property tests (hypothesis) for the rules a script relies on:

- the classifier never returns safe when any record matches a Microsoft 365 fingerprint, whatever else is
present;
- monotonicity: adding a Microsoft 365 record never improves the verdict, and turning any lookup into a
failure
  never turns a non-safe verdict into safe;
- normalisation never raises, and is idempotent.
"""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnscheck.classify import classify
from dnscheck.fingerprints import FINGERPRINTS, M365_NAMES, match_host, match_spf, match_text
from dnscheck.models import Answered, Chain, Lookup, Observations, Record, Undetermined, Verdict
from dnscheck.normalise import Invalid, Target, normalise
from dnscheck.verdict import verdict_of

from .test_classify import rec

D = "contoso.com"
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------------------------------ hosts

_M365_HOSTS = {
    "mx": [
        "contoso-com.mail.protection.outlook.com",
        "contoso-com.o-v1.mx.microsoft",
        "contoso.mail.protection.office365.us",
        "contoso-com.mail.protection.partner.outlook.cn",
        "contoso-com.mail.protection.outlook.de",
        "mail.eo.outlook.com",
        "ms12345678.msv1.invalid",
        "CONTOSO-COM.MAIL.PROTECTION.OUTLOOK.COM.",
    ],
    "ns": [
        "ns1.bdm.microsoftonline.com",
        "ns2.bdm.microsoftonline.com",
        "ns1.dns.partner.microsoftonline.cn",
    ],
    "autodiscover": [
        "autodiscover.outlook.com",
        "autodiscover-dod.office365.us",
        "autodiscover.partner.outlook.cn",
    ],
    "dkim": [
        "selector1-contoso-com._domainkey.contoso.onmicrosoft.com",
        "selector2-contoso-com._domainkey.contoso.n-v1.dkim.mail.microsoft",
    ],
    "sip": ["sipfed.online.lync.com", "sipdir.online.lync.com", "webdir.online.partner.lync.cn"],
    "mdm": ["enterpriseregistration.windows.net", "enterpriseenrollment-s.manage.microsoft.com"],
    "msoid": ["clientconfig.microsoftonline-p.net", "clientconfig.partner.microsoftonline-p.net.cn"],
}
_OTHER_HOSTS = [
    "mx1.newmail.example",
    "mail.contoso.com",
    "ns1.newdns.example",
    "ns1-01.azure-dns.com",
    "ns2-01.azure-dns.net",
    "x.mail.protection.outlook.com.evil.net",
    "mail.protection-outlook.com",
    "outlook.com.evil",
    "live-com.olc.protection.outlook.com",
    "mx0a-001.pphosted.com",
    "eu-smtp.mimecast.com",
    "192.0.2.25",
    "autodiscover.contoso.com",
    "\\027[31m.evil",
    "a" * 63 + ".example",
]
_M365_TXT = [
    "v=spf1 include:spf.protection.outlook.com -all",
    "MS=ms12345678",
    "v=spf1 redirect=spf.protection.office365.us",
    "V=SPF1 ~INCLUDE:SPF.PROTECTION.OUTLOOK.DE ?all",
]
_OTHER_TXT = [
    "v=spf1 include:spf.newmail.example -all",
    "google-site-verification=x",
    "",
    "include:spf.protection.outlook.com",
    "v=spf1 include:spf.protection.outlook.com.evil.net -all",
    "\x1b[2J\x1b[31mSAFE\r\n",
    "MS=ms1234",
    "v=DMARC1; p=reject",
]


def _any_m365(kind: str) -> list[str]:
    return _M365_HOSTS[kind] + [h for k, hs in _M365_HOSTS.items() if k not in (kind, "ns") for h in hs][:3]


_HOSTS = {
    kind: st.sampled_from(_M365_HOSTS[kind] + _OTHER_HOSTS)
    | st.from_regex(r"[a-z0-9]{1,8}\.example", fullmatch=True)
    for kind in _M365_HOSTS
}
_TARGETS = {kind: st.sampled_from(_any_m365(kind)) | _HOSTS[kind] for kind in _M365_HOSTS}

failure = st.sampled_from(
    [
        "timed out: the resolver did not answer in time",
        "no server could answer: SERVFAIL",
        "no server could answer: REFUSED",
        "BadResponse: wrong question",
        "FormError: garbage",
    ]
)


def lookup(name: str, rdtype: str, records: st.SearchStrategy[list[Record]]) -> st.SearchStrategy[Lookup]:
    """NOERROR with records, NODATA, NXDOMAIN, or a failure. Built once per place: strategies are costly to
    make."""
    return st.one_of(
        records.map(lambda rs: Answered(name, rdtype, tuple(rs), "NOERROR", D)),
        st.just(Answered(name, rdtype, (), "NOERROR", D)),
        st.just(Answered(name, rdtype, (), "NXDOMAIN", "com")),
        failure.map(lambda r: Undetermined(name, rdtype, r)),
    )


mx_records = st.lists(
    st.one_of(st.tuples(st.integers(0, 65535), _HOSTS["mx"]), st.just((0, "."))).map(
        lambda pt: rec(D, "MX", f"{pt[0]} {pt[1]}")
    ),
    max_size=4,
)
ns_records = st.lists(_HOSTS["ns"].map(lambda h: rec(D, "NS", h)), max_size=4)
txt_records = st.lists(
    st.sampled_from(_M365_TXT + _OTHER_TXT).map(lambda t: Record(D, "TXT", t, 300)), max_size=4
)
addr_records = st.lists(st.just(rec(D, "A", "192.0.2.10")), max_size=1)
_PLACES = {
    "mx": lookup(D, "MX", mx_records),
    "ns": lookup(D, "NS", ns_records),
    "txt": lookup(D, "TXT", txt_records),
    "a": lookup(D, "A", addr_records),
    "aaaa": lookup(D, "AAAA", st.just([])),
}


@st.composite
def chains(draw: st.DrawFn, prefix: str, kind: str, rdtype: str) -> Chain:
    name = f"{prefix}.{D}"
    if draw(st.integers(0, 2)) == 0:  # most names do not exist
        return Chain(kind, name, (Answered(name, rdtype, (), "NXDOMAIN", D),))
    hops: list[Lookup] = []
    current = name
    for _ in range(draw(st.integers(1, 2))):
        if draw(st.integers(0, 5)) == 0:
            reason = draw(failure)
            hops.append(Undetermined(current, rdtype, reason))
            return Chain(kind, name, tuple(hops), failure=reason)
        target = draw(_TARGETS[kind])
        r = rec(current, "SRV", f"100 1 443 {target}") if rdtype == "SRV" else rec(current, "CNAME", target)
        shape = draw(st.integers(0, 2))
        hops.append(
            Answered(current, rdtype, (r,) if shape == 0 else (), "NXDOMAIN" if shape == 2 else "NOERROR", D)
        )
        current = r.target or current
    broken = draw(
        st.sampled_from([None, None, None, f"CNAME loop at {current}", "CNAME chain longer than 8 hops"])
    )
    return Chain(kind, name, tuple(hops), failure=broken)


_CHAINS = [chains(p, k, t) for p, k, t in M365_NAMES]
_MX_TARGETS = st.sampled_from(_M365_HOSTS["mx"]) | _HOSTS["mx"]


def _mx_host_chain(draw: st.DrawFn, host: str) -> Chain:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        reason = draw(failure)
        return Chain("mx", host, (Undetermined(host, "CNAME", reason),), failure=reason)
    if choice == 1:
        target = draw(_MX_TARGETS)
        return Chain("mx", host, (Answered(host, "CNAME", (rec(host, "CNAME", target),), "NOERROR", D),))
    return Chain("mx", host, (Answered(host, "CNAME", (), "NOERROR", D),))


@st.composite
def observations(draw: st.DrawFn) -> Observations:
    mx = draw(_PLACES["mx"])
    mx_hosts: tuple[Chain, ...] = ()
    if isinstance(mx, Answered):
        targets = sorted(
            {r.target for r in mx.records if r.target and r.target != "." and not match_host("mx", r.target)}
        )
        mx_hosts = tuple(_mx_host_chain(draw, h) for h in targets)
    return Observations(
        domain=D,
        zone=D,
        mx=mx,
        ns=draw(_PLACES["ns"]),
        txt=draw(_PLACES["txt"]),
        a=draw(_PLACES["a"]),
        aaaa=draw(_PLACES["aaaa"]),
        mx_hosts=mx_hosts,
        names=tuple(draw(c) for c in _CHAINS),
    )


def verdict(obs: Observations) -> Verdict:
    c = classify(obs, D)
    return verdict_of(c.findings, c.decisive)


# ----------------------------------------------------------------------------------------------- M365 present


def _host_fp(host: str) -> bool:
    return any(match_host(fp.kind, host, (fp,)) for fp in FINGERPRINTS if fp.match == "host")


def m365_records(obs: Observations) -> list[Record]:
    """Every record that matches a Microsoft 365 fingerprint, in a place the classifier is meant to look."""
    out: list[Record] = []
    if isinstance(obs.mx, Answered):
        out += [r for r in obs.mx.records if r.type == "MX" and r.target and match_host("mx", r.target)]
    if isinstance(obs.ns, Answered):
        out += [r for r in obs.ns.records if r.type == "NS" and r.target and match_host("ns", r.target)]
    if isinstance(obs.txt, Answered):
        out += [r for r in obs.txt.records if r.type == "TXT" and (match_spf(r.value) or match_text(r.value))]
    for c in obs.names:
        out += [r for r in c.records if r.type in ("CNAME", "SRV") and r.target and _host_fp(r.target)]
    for c in obs.mx_hosts:
        out += [r for r in c.records if r.type == "CNAME" and r.target and match_host("mx", r.target)]
    return out


@SETTINGS
@given(observations())
def test_never_safe_when_any_record_matches_a_fingerprint(obs: Observations) -> None:
    c = classify(obs, D)
    v = verdict_of(c.findings, c.decisive)
    found = m365_records(obs)
    if found:
        assert v is not Verdict.SAFE, (found, c.findings)
    # ... and every such record is marked as pointing at Microsoft 365 in the report
    if not (isinstance(obs.mx, Answered) and obs.mx.nxdomain):  # a domain that does not exist stops there
        marked = {s.record for s in c.records if s.m365}
        assert not [r for r in found if r not in marked]
    # never safe (nor a mere warning) unless MX and NS both answered
    if not (
        isinstance(obs.mx, Answered)
        and not obs.mx.nxdomain
        and isinstance(obs.ns, Answered)
        and any(r.type == "NS" for r in obs.ns.records)
    ):
        assert v in (Verdict.UNKNOWN, Verdict.BLOCKED)


# ------------------------------------------------------------------------------------------------ monotone

PLACES = ("mx", "ns", "txt", "name", "mx_host")
LOOKUPS = ("mx", "ns", "txt", "a", "aaaa", "name", "mx_host")


def _with_m365_record(obs: Observations, where: str, pick: int) -> Observations | None:
    """`obs` with one more record that points at Microsoft 365, at `where`; None when that lookup has no
    room."""

    def add(lk: Lookup, r: Record) -> Lookup | None:
        if not isinstance(lk, Answered) or lk.nxdomain:
            return None
        return dataclasses.replace(lk, records=(*lk.records, r))

    if where == "mx":
        new = add(obs.mx, rec(D, "MX", "0 " + _M365_HOSTS["mx"][pick % len(_M365_HOSTS["mx"])]))
        return dataclasses.replace(obs, mx=new) if new else None
    if where == "ns":
        new = add(obs.ns, rec(D, "NS", _M365_HOSTS["ns"][pick % len(_M365_HOSTS["ns"])]))
        return dataclasses.replace(obs, ns=new) if new else None
    if where == "txt":
        new = add(obs.txt, Record(D, "TXT", _M365_TXT[pick % len(_M365_TXT)], 300))
        return dataclasses.replace(obs, txt=new) if new else None
    if where == "name":
        i = pick % len(obs.names)
        c = obs.names[i]
        first = c.lookups[0]
        prefix, kind, rdtype = M365_NAMES[i]
        target = _M365_HOSTS[kind][0]
        r = rec(c.name, "SRV", f"100 1 443 {target}") if rdtype == "SRV" else rec(c.name, "CNAME", target)
        if not isinstance(first, Answered):
            return None
        first = Answered(first.name, first.rdtype, (*first.records, r), "NOERROR", first.zone)
        names = list(obs.names)
        names[i] = dataclasses.replace(c, lookups=(first, *c.lookups[1:]))
        return dataclasses.replace(obs, names=tuple(names))
    if where == "mx_host" and obs.mx_hosts:
        i = pick % len(obs.mx_hosts)
        c = obs.mx_hosts[i]
        first = c.lookups[0]
        if not isinstance(first, Answered):
            return None
        r = rec(c.name, "CNAME", _M365_HOSTS["mx"][0])
        hosts_ = list(obs.mx_hosts)
        hosts_[i] = dataclasses.replace(
            c, lookups=(Answered(c.name, "CNAME", (r,), "NOERROR", first.zone), *c.lookups[1:])
        )
        return dataclasses.replace(obs, mx_hosts=tuple(hosts_))
    return None


@SETTINGS
@given(observations(), st.integers(0, 1000))
def test_adding_an_m365_record_never_improves_the_verdict(obs: Observations, pick: int) -> None:
    before = verdict(obs)
    for where in PLACES:
        for k in (pick, pick + 1, pick + 5):
            more = _with_m365_record(obs, where, k)
            if more is None:
                continue
            after = verdict(more)
            assert after.rank >= before.rank, (where, before, after)
            assert after is not Verdict.SAFE, where


def _failing(obs: Observations, where: str, pick: int) -> Observations | None:
    """`obs` with one lookup turned into a failure (a chain stops at a failed hop, as the collector does)."""
    if where in ("mx", "ns", "txt", "a", "aaaa"):
        lk = getattr(obs, where)
        if isinstance(lk, Undetermined):
            return None
        bad = Undetermined(lk.name, lk.rdtype, "timed out: the resolver did not answer in time")
        if where == "mx":  # the collector only chases the MX hosts it learnt from an answer
            return dataclasses.replace(obs, mx=bad, mx_hosts=())
        return dataclasses.replace(obs, **{where: bad})
    pool = obs.names if where == "name" else obs.mx_hosts
    if not pool:
        return None
    i = pick % len(pool)
    c = pool[i]
    j = (pick // 7) % len(c.lookups)
    lk = c.lookups[j]
    if isinstance(lk, Undetermined):
        return None
    bad = Undetermined(lk.name, lk.rdtype, "no server could answer: SERVFAIL")
    new = Chain(c.kind, c.name, (*c.lookups[:j], bad), failure=bad.reason)
    items = list(pool)
    items[i] = new
    return dataclasses.replace(obs, **{"names" if where == "name" else "mx_hosts": tuple(items)})


@SETTINGS
@given(observations(), st.integers(0, 1000))
def test_a_failure_never_turns_a_non_safe_verdict_into_safe(obs: Observations, pick: int) -> None:
    before = verdict(obs)
    cumulative = obs
    for where in LOOKUPS:
        for k in (pick, pick + 7, pick + 50):
            worse = _failing(obs, where, k)
            if worse is None:
                continue
            after = verdict(worse)
            if before is not Verdict.SAFE:
                assert after is not Verdict.SAFE, (where, before, after)
            if where in ("mx", "ns"):
                assert after in (Verdict.UNKNOWN, Verdict.BLOCKED)
        cumulative = _failing(cumulative, where, pick) or cumulative
        if before is not Verdict.SAFE:  # failures piled on top of each other
            assert verdict(cumulative) is not Verdict.SAFE, (where, before)


# ------------------------------------------------------------------------------------------------ normalise

_letters = st.sampled_from(
    list(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
        "äöüßéÀÇñøåæœЖжаπΩשלוםعربي中文日本한국ⅷﬁＡｂ"
    )
)
_label = st.text(_letters, min_size=1, max_size=20)
_tld = st.sampled_from(["com", "de", "co.uk", "org", "net", "xn--p1ai", "рф", "中国", "io", "example"])
_name = st.builds(lambda ls, t: ".".join([*ls, t]), st.lists(_label, min_size=1, max_size=4), _tld)
_decorated = st.one_of(
    _name,
    st.builds(lambda n: n + ".", _name),
    st.builds(lambda n: n.upper(), _name),
    st.builds(lambda u, n: f"{u}@{n}", st.from_regex(r"[a-z0-9.+_-]{1,12}", fullmatch=True), _name),
    st.builds(
        lambda s, n, p: f"{s}://{n}{p}/x",
        st.sampled_from(["http", "https", "HTTPS"]),
        _name,
        st.sampled_from(["", ":443", ":8080"]),
    ),
    st.builds(lambda n: f"  {n}\t", _name),
)


@settings(max_examples=200, deadline=None)
@given(_decorated)
def test_normalisation_is_idempotent(raw: str) -> None:
    first = normalise(raw)
    if isinstance(first, Invalid):
        return
    again = normalise(first.domain)
    assert isinstance(again, Target), (raw, first, again)
    assert (again.domain, again.registered_domain) == (first.domain, first.registered_domain)
    assert first.domain == first.domain.lower() and first.domain.isascii() and not first.domain.endswith(".")
    assert len(first.domain) <= 253 and all(0 < len(x) <= 63 for x in first.domain.split("."))


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape"))
    )
)
def test_normalise_never_raises_and_always_explains(raw: str) -> None:
    result = normalise(raw)
    if isinstance(result, Invalid):
        assert result.reason
        result.input.encode("utf-8")  # no lone surrogates in what is echoed back
    else:
        assert result.domain.isascii()
