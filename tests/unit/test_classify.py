"""classify(): every finding code from hand-made Observations, lookalikes, odd records, and the failure rules.

The builders at the top (`rec`, `ans`, `und`, `observe`, ...) are shared with test_verdict and
test_properties.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from dnscheck.check import Options, check, invalid_result
from dnscheck.classify import Classification, classify
from dnscheck.codes import CODES
from dnscheck.fingerprints import M365_NAMES, match_host
from dnscheck.models import (
    Answered,
    Chain,
    Delegation,
    Lookup,
    Observations,
    Record,
    ServerView,
    Severity,
    Undetermined,
    Verdict,
)
from dnscheck.normalise import Invalid, Target
from dnscheck.verdict import verdict_of

D = "contoso.com"
NEW_MX = "mx1.newmail.example"
NEW_NS = ("ns1.newdns.example", "ns2.newdns.example")
M365_MX = "contoso-com.mail.protection.outlook.com"
M365_NS = tuple(f"ns{i}.bdm.microsoftonline.com" for i in range(1, 5))


# ------------------------------------------------------------------------------------------------ builders


def _host(text: str) -> str:
    return text.rstrip(".").lower() or "."


def rec(name: str, rtype: str, value: str, ttl: int | None = 3600) -> Record:
    """A record as the resolver source builds it (presentation value, target kept for matching)."""
    target = None
    if rtype == "MX":
        pref, _, host = value.partition(" ")
        target = _host(host)
        value = f"{pref} {target}"
    elif rtype in ("CNAME", "NS", "DNAME"):
        target = value = _host(value)
    elif rtype == "SRV":
        *nums, host = value.split()
        target = _host(host)
        value = " ".join([*nums, target])
    return Record(name, rtype, value, ttl, target)


def ans(name: str, rtype: str, *records: Record, rcode: str = "NOERROR", zone: str | None = None) -> Answered:
    return Answered(name, rtype, tuple(records), rcode, zone)


def und(
    name: str, rtype: str, reason: str = "timed out: the resolver did not answer in time"
) -> Undetermined:
    return Undetermined(name, rtype, reason)


def mx(*targets: str, domain: str = D) -> Answered:
    return ans(domain, "MX", *(rec(domain, "MX", t if " " in t else f"10 {t}") for t in targets))


def ns(*hosts: str, domain: str = D) -> Answered:
    return ans(domain, "NS", *(rec(domain, "NS", h) for h in hosts))


def txt(*texts: str, domain: str = D) -> Answered:
    return ans(domain, "TXT", *(Record(domain, "TXT", t, 3600) for t in texts))


def chain(kind: str, name: str, *lookups: Lookup, failure: str | None = None) -> Chain:
    return Chain(kind, name, tuple(lookups), failure)


def names(domain: str = D, **overrides: Chain) -> tuple[Chain, ...]:
    """The chains for every name Microsoft 365 uses, NXDOMAIN unless overridden (key: prefix with . -> _)."""
    out = []
    for prefix, kind, rdtype in M365_NAMES:
        key = prefix.replace(".", "_")
        name = f"{prefix}.{domain}"
        out.append(
            overrides.pop(key, None) or chain(kind, name, ans(name, rdtype, rcode="NXDOMAIN", zone=domain))
        )
    assert not overrides, f"unknown names: {overrides}"
    return tuple(out)


def cname(prefix: str, target: str, domain: str = D) -> Chain:
    """`prefix.domain CNAME target`, as one chain hop (or SRV for the SRV names)."""
    kind, rdtype = next((k, t) for p, k, t in M365_NAMES if p == prefix)
    name = f"{prefix}.{domain}"
    if rdtype == "SRV":
        return chain(kind, name, ans(name, "SRV", rec(name, "SRV", f"100 1 443 {target}")))
    return chain(kind, name, ans(name, "CNAME", rec(name, "CNAME", target)))


def observe(
    domain: str = D,
    *,
    mx: Lookup | None = None,
    ns: Lookup | None = None,
    txt: Lookup | None = None,
    a: Lookup | None = None,
    aaaa: Lookup | None = None,
    names_: tuple[Chain, ...] | None = None,
    mx_hosts: tuple[Chain, ...] | None = None,
    zone: str | None = None,
    skipped: tuple[str, ...] = (),
    delegation: Delegation | None = None,
) -> Observations:
    """A domain that has left Microsoft 365 completely, unless told otherwise."""
    mx_ = mx if mx is not None else globals()["mx"](NEW_MX, domain=domain)
    if mx_hosts is None:
        hosts = sorted(
            {
                r.target
                for r in (mx_.records if isinstance(mx_, Answered) else ())
                if r.type == "MX" and r.target and r.target != "." and not match_host("mx", r.target)
            }
        )
        mx_hosts = tuple(chain("mx", h, ans(h, "CNAME", zone="newmail.example")) for h in hosts)
    return Observations(
        domain=domain,
        zone=zone if zone is not None else domain,
        mx=mx_,
        ns=ns if ns is not None else globals()["ns"](*NEW_NS, domain=domain),
        txt=txt if txt is not None else globals()["txt"](domain=domain),
        a=a if a is not None else ans(domain, "A", rec(domain, "A", "192.0.2.10")),
        aaaa=aaaa if aaaa is not None else ans(domain, "AAAA"),
        mx_hosts=mx_hosts,
        names=names_ if names_ is not None else names(domain),
        skipped=skipped,
        delegation=delegation,
    )


def run(obs: Observations, registered: str = D) -> tuple[Verdict, set[str], Classification]:
    c = classify(obs, registered)
    return verdict_of(c.findings, c.decisive), {f.code for f in c.findings}, c


def by_code(c: Classification, code: str) -> list[Any]:
    return [f for f in c.findings if f.code == code]


# ---------------------------------------------------------------------------------------------- the baseline


def test_a_domain_that_has_left_is_safe() -> None:
    verdict, codes, c = run(observe())
    assert verdict is Verdict.SAFE, c.findings
    assert codes == set()
    assert c.decisive and c.cloud is None
    assert not any(s.m365 for s in c.records)


def test_the_fixture_tenant_is_blocked_with_every_leftover() -> None:
    obs = observe(
        mx=mx("0 " + M365_MX),
        ns=ns(*M365_NS),
        txt=txt("v=spf1 include:spf.protection.outlook.com -all", "MS=ms12345678"),
        names_=names(
            autodiscover=cname("autodiscover", "autodiscover.outlook.com"),
            selector1__domainkey=cname(
                "selector1._domainkey", "selector1-contoso-com._domainkey.contoso.onmicrosoft.com"
            ),
            selector2__domainkey=cname(
                "selector2._domainkey", "selector2-contoso-com._domainkey.contoso.n-v1.dkim.mail.microsoft"
            ),
            _sipfederationtls__tcp=cname("_sipfederationtls._tcp", "sipfed.online.lync.com"),
            _sip__tls=cname("_sip._tls", "sipdir.online.lync.com"),
            sip=cname("sip", "sipdir.online.lync.com"),
            lyncdiscover=cname("lyncdiscover", "webdir.online.lync.com"),
            enterpriseregistration=cname("enterpriseregistration", "enterpriseregistration.windows.net"),
            enterpriseenrollment=cname("enterpriseenrollment", "enterpriseenrollment-s.manage.microsoft.com"),
            msoid=cname("msoid", "clientconfig.microsoftonline-p.net"),
        ),
    )
    verdict, codes, c = run(obs)
    assert verdict is Verdict.BLOCKED
    assert codes == {
        "MX_M365",
        "NS_M365",
        "SPF_M365",
        "VERIFY_TXT_M365",
        "AUTODISCOVER_M365",
        "DKIM_M365",
        "SIP_M365",
        "MDM_M365",
        "MSOID_M365",
    }
    assert len(by_code(c, "DKIM_M365")) == 2 and len(by_code(c, "SIP_M365")) == 4
    assert c.cloud == "worldwide"
    # every record that points at Microsoft is marked, including all four NS records
    marked = {s.record.value for s in c.records if s.m365}
    assert set(M365_NS) <= marked
    assert "0 " + M365_MX in marked


# ------------------------------------------------------------------------------------- every code, one by one


@pytest.mark.parametrize(
    ("target", "cloud"),
    [
        (M365_MX, "worldwide"),
        ("contoso-com.o-v1.mx.microsoft", "worldwide"),
        ("contoso.mail.protection.office365.us", "usgov"),
        ("contoso-com.mail.protection.partner.outlook.cn", "china"),
        ("contoso-com.mail.protection.outlook.de", "germany"),
        ("mail.eo.outlook.com", "worldwide"),
        ("CONTOSO-COM.MAIL.PROTECTION.OUTLOOK.COM.", "worldwide"),
    ],
)
def test_mx_m365_per_cloud(target: str, cloud: str) -> None:
    verdict, codes, c = run(observe(mx=mx(target)))
    assert verdict is Verdict.BLOCKED and codes == {"MX_M365"}
    assert c.cloud == cloud
    (f,) = by_code(c, "MX_M365")
    assert f.severity is Severity.BLOCKED and f.record is not None and f.remediation


def test_mx_m365_among_other_mx_records() -> None:
    verdict, codes, _ = run(observe(mx=mx(NEW_MX, "20 " + M365_MX, "30 backup.example.net")))
    assert verdict is Verdict.BLOCKED and "MX_M365" in codes


def test_mx_cname_m365() -> None:
    host = "mail.contoso.com"
    hops = chain("mx", host, ans(host, "CNAME", rec(host, "CNAME", M365_MX)))
    verdict, codes, c = run(observe(mx=mx(host), mx_hosts=(hops,)))
    assert verdict is Verdict.BLOCKED and codes == {"MX_CNAME_M365"}
    assert "CNAME" in by_code(c, "MX_CNAME_M365")[0].message


def test_mx_cname_m365_at_the_end_of_a_chain() -> None:
    host = "mail.contoso.com"
    hops = chain(
        "mx",
        host,
        ans(host, "CNAME", rec(host, "CNAME", "relay.contoso.net")),
        ans("relay.contoso.net", "CNAME", rec("relay.contoso.net", "CNAME", M365_MX)),
    )
    verdict, codes, _ = run(observe(mx=mx(host), mx_hosts=(hops,)))
    assert verdict is Verdict.BLOCKED and codes == {"MX_CNAME_M365"}


@pytest.mark.parametrize(
    ("hosts", "cloud"),
    [
        (M365_NS, "worldwide"),
        (M365_NS[:2], "worldwide"),
        (("NS1.BDM.MICROSOFTONLINE.COM.",), "worldwide"),
        (("ns1.dns.partner.microsoftonline.cn", "ns2.dns.partner.microsoftonline.cn"), "china"),
        ((NEW_NS[0], M365_NS[0]), "worldwide"),  # half-moved delegation
    ],
)
def test_ns_m365(hosts: tuple[str, ...], cloud: str) -> None:
    verdict, codes, c = run(observe(ns=ns(*hosts)))
    assert verdict is Verdict.BLOCKED and codes == {"NS_M365"}
    (f,) = by_code(c, "NS_M365")
    assert "MX change made at another DNS host has no effect" in f.message  # said plainly
    assert c.cloud == cloud


def test_azure_dns_is_not_m365_hosting() -> None:
    azure = ("ns1-01.azure-dns.com", "ns2-01.azure-dns.net", "ns3-01.azure-dns.org", "ns4-01.azure-dns.info")
    verdict, codes, _ = run(observe(ns=ns(*azure)))
    assert verdict is Verdict.SAFE and codes == set()
    # ... but a domain on Azure DNS can still point its MX at Exchange Online
    verdict, codes, _ = run(observe(ns=ns(*azure), mx=mx(M365_MX)))
    assert verdict is Verdict.BLOCKED and codes == {"MX_M365"}


@pytest.mark.parametrize(
    ("texts", "code"),
    [
        (("v=spf1 include:spf.protection.outlook.com -all",), "SPF_M365"),
        (("v=spf1 redirect=spf.protection.office365.us",), "SPF_M365"),
        (("v=spf1 ~INCLUDE:SPF.PROTECTION.PARTNER.OUTLOOK.CN ~all",), "SPF_M365"),
        (("MS=ms12345678",), "VERIFY_TXT_M365"),
        (("google-site-verification=abc", "MS=ms87654321"), "VERIFY_TXT_M365"),
    ],
)
def test_txt_leftovers(texts: tuple[str, ...], code: str) -> None:
    verdict, codes, c = run(observe(txt=txt(*texts)))
    assert verdict is Verdict.WARNING and codes == {code}, c.findings


@pytest.mark.parametrize(
    "text",
    [
        "include:spf.protection.outlook.com",  # not SPF
        "v=spf1 include:spf.protection.outlook.com.evil.net -all",
        "v=spf1 include:spf.newmail.example -all",
        "v=DMARC1; p=reject",
        "MS=ms1234",
        "hello\x1b[31m world",
    ],
)
def test_txt_that_is_not_m365(text: str) -> None:
    verdict, codes, _ = run(observe(txt=txt(text)))
    assert verdict is Verdict.SAFE and codes == set()


def test_verify_mx_m365() -> None:
    verdict, codes, _ = run(observe(mx=mx(NEW_MX, "32767 ms12345678.msv1.invalid")))
    assert verdict is Verdict.WARNING and codes == {"VERIFY_MX_M365"}


@pytest.mark.parametrize(
    ("prefix", "target", "code"),
    [
        ("autodiscover", "autodiscover.outlook.com", "AUTODISCOVER_M365"),
        ("autodiscover", "autodiscover-dod.office365.us", "AUTODISCOVER_M365"),
        ("selector1._domainkey", "selector1-contoso-com._domainkey.contoso.onmicrosoft.com", "DKIM_M365"),
        (
            "selector2._domainkey",
            "selector2-contoso-com._domainkey.contoso.r-v1.dkim.mail.microsoft",
            "DKIM_M365",
        ),
        ("_sipfederationtls._tcp", "sipfed.online.lync.com", "SIP_M365"),
        ("_sip._tls", "sipdir.online.partner.lync.cn", "SIP_M365"),
        ("sip", "sipdir.online.lync.com", "SIP_M365"),
        ("lyncdiscover", "webdir.online.lync.com", "SIP_M365"),
        ("enterpriseregistration", "enterpriseregistration.windows.net", "MDM_M365"),
        ("enterpriseenrollment", "EnterpriseEnrollment-s.manage.microsoft.us.", "MDM_M365"),
        ("msoid", "clientconfig.microsoftonline-p.net", "MSOID_M365"),
        ("msoid", "clientconfig.partner.microsoftonline-p.net.cn", "MSOID_M365"),
    ],
)
def test_leftover_names(prefix: str, target: str, code: str) -> None:
    key = prefix.replace(".", "_")
    verdict, codes, c = run(observe(names_=names(**{key: cname(prefix, target)})))
    assert verdict is Verdict.WARNING and codes == {code}, c.findings
    assert all(s.m365 for s in c.records if s.record.target == _host(target))


@pytest.mark.parametrize(
    ("prefix", "target", "code"),
    [
        ("autodiscover", M365_MX, "AUTODISCOVER_M365"),
        ("msoid", "autodiscover.outlook.com", "MSOID_M365"),
        ("sip", "enterpriseregistration.windows.net", "SIP_M365"),
    ],
)
def test_a_leftover_name_pointing_at_another_kind_of_m365_host(prefix: str, target: str, code: str) -> None:
    """Fail closed: a name Microsoft 365 asked for that points at any Microsoft 365 host is a leftover."""
    key = prefix.replace(".", "_")
    verdict, codes, _ = run(observe(names_=names(**{key: cname(prefix, target)})))
    assert verdict is Verdict.WARNING and codes == {code}


def test_leftover_reached_through_a_cname_chain() -> None:
    name = f"autodiscover.{D}"
    hops = chain(
        "autodiscover",
        name,
        ans(name, "CNAME", rec(name, "CNAME", "autod.contoso.net")),
        ans("autod.contoso.net", "CNAME", rec("autod.contoso.net", "CNAME", "autodiscover.outlook.com")),
    )
    verdict, codes, _ = run(observe(names_=names(autodiscover=hops)))
    assert verdict is Verdict.WARNING and codes == {"AUTODISCOVER_M365"}


@pytest.mark.parametrize(
    "host",
    [
        "mx0a-001.pphosted.com",
        "eu-smtp-inbound-1.mimecast.com",
        "d123.mx.barracudanetworks.com",
    ],
)
def test_mx_gateway(host: str) -> None:
    verdict, codes, c = run(observe(mx=mx(host)))
    assert verdict is Verdict.WARNING and codes == {"MX_GATEWAY"}
    assert not any(s.m365 for s in c.records)  # a gateway is not proof of Microsoft 365


def test_mx_none() -> None:
    verdict, codes, _ = run(observe(mx=ans(D, "MX"), a=ans(D, "A"), aaaa=ans(D, "AAAA")))
    assert verdict is Verdict.WARNING and codes == {"MX_NONE"}


def test_mx_none_implicit() -> None:
    verdict, codes, c = run(observe(mx=ans(D, "MX"), a=ans(D, "A", rec(D, "A", "192.0.2.7"))))
    assert verdict is Verdict.WARNING and codes == {"MX_NONE_IMPLICIT"}
    assert "192.0.2.7" in by_code(c, "MX_NONE_IMPLICIT")[0].message
    verdict, codes, _ = run(
        observe(mx=ans(D, "MX"), a=ans(D, "A"), aaaa=ans(D, "AAAA", rec(D, "AAAA", "2001:db8::7")))
    )
    assert codes == {"MX_NONE_IMPLICIT"}


def test_mx_none_with_a_failed_address_lookup_is_not_safe() -> None:
    verdict, codes, c = run(observe(mx=ans(D, "MX"), a=und(D, "A"), aaaa=ans(D, "AAAA")))
    assert verdict is Verdict.WARNING and codes == {"LOOKUP_FAILED"}


def test_mx_null_alone_is_safe_and_informational() -> None:
    verdict, codes, c = run(observe(mx=mx("0 .")))
    assert verdict is Verdict.SAFE and codes == {"MX_NULL"}
    assert by_code(c, "MX_NULL")[0].severity is Severity.INFO


def test_mx_null_mixed_with_others_is_reported_and_the_others_still_count() -> None:
    verdict, codes, c = run(observe(mx=mx("0 .", "10 " + M365_MX)))
    assert verdict is Verdict.BLOCKED and codes == {"MX_NULL", "MX_M365"}
    assert "RFC 7505 forbids" in by_code(c, "MX_NULL")[0].message
    verdict, codes, _ = run(observe(mx=mx("0 .", "10 " + NEW_MX)))
    assert verdict is Verdict.SAFE and codes == {"MX_NULL"}


@pytest.mark.parametrize("target", ["192.0.2.25", "40.107.22.33", "127.0.0.1"])
def test_mx_pointing_at_an_ip_literal_is_not_safe(target: str) -> None:
    """An MX must name a host (RFC 5321 5.1). Some senders deliver to the literal anyway, and an address could
    be Exchange Online's: whose server it is cannot be told from DNS, so it is a warning, never safe."""
    verdict, codes, c = run(observe(mx=mx(target)))
    assert verdict is Verdict.WARNING and codes == {"LOOKUP_FAILED"}
    (f,) = by_code(c, "LOOKUP_FAILED")
    assert "IP address" in f.message and f.severity is Severity.WARNING
    # ... and next to an Exchange Online MX, still blocked
    verdict, _, _ = run(observe(mx=mx(target, "20 " + M365_MX)))
    assert verdict is Verdict.BLOCKED


def test_subdomain_input() -> None:
    sub = "eu.contoso.com"
    verdict, codes, c = run(observe(sub, zone=D, mx=mx(NEW_MX, domain=sub)), registered=D)
    assert verdict is Verdict.SAFE and codes == {"SUBDOMAIN_INPUT"}
    assert by_code(c, "SUBDOMAIN_INPUT")[0].severity is Severity.INFO


def test_out_of_zone() -> None:
    """An MX host outside a zone file, not followed: only information, but never `safe` (issue 9)."""
    verdict, codes, _ = run(
        observe(mx=mx("mx.elsewhere.example"), mx_hosts=(), skipped=("mx.elsewhere.example",))
    )
    assert codes == {"OUT_OF_ZONE"} and verdict is Verdict.UNKNOWN


def test_out_of_zone_with_a_warning_stays_a_warning() -> None:
    obs = observe(
        mx=mx("mx.elsewhere.example"),
        mx_hosts=(),
        skipped=("mx.elsewhere.example",),
        txt=txt("v=spf1 include:spf.protection.outlook.com -all"),
    )
    verdict, codes, _ = run(obs)
    assert codes == {"OUT_OF_ZONE", "SPF_M365"} and verdict is Verdict.WARNING


# ------------------------------------------------------------------------------ mail paths that lead nowhere


def _with_addresses(obs: Observations, **by_host: Lookup | tuple[Lookup, ...]) -> Observations:
    pairs = tuple((h.replace("_", "."), lk if isinstance(lk, tuple) else (lk,)) for h, lk in by_host.items())
    return dataclasses.replace(obs, mx_addresses=pairs)


def _addr(host: str) -> Answered:
    return ans(host, "A", rec(host, "A", "192.0.2.25"))


def test_mx_target_missing_everywhere_is_blocked() -> None:
    obs = _with_addresses(observe(), mx1_newmail_example=ans(NEW_MX, "A", rcode="NXDOMAIN", zone="newmail.example"))
    verdict, codes, c = run(obs)
    assert codes == {"MX_TARGET_MISSING"} and verdict is Verdict.BLOCKED
    assert dict(by_code(c, "MX_TARGET_MISSING")[0].args)["why"] == "NXDOMAIN"


def test_mx_target_missing_on_one_of_two_is_a_warning() -> None:
    obs = _with_addresses(
        observe(mx=mx(NEW_MX, "mx2.newmail.example")),
        mx1_newmail_example=(ans(NEW_MX, "A"), ans(NEW_MX, "AAAA")),
        mx2_newmail_example=_addr("mx2.newmail.example"),
    )
    verdict, codes, c = run(obs)
    assert codes == {"MX_TARGET_MISSING"} and verdict is Verdict.WARNING
    (f,) = by_code(c, "MX_TARGET_MISSING")
    assert f.severity is Severity.WARNING and dict(f.args)["why"] == "NODATA"


def test_mx_address_lookup_failed_is_unknown_never_safe() -> None:
    obs = _with_addresses(observe(), mx1_newmail_example=und(NEW_MX, "A"))
    verdict, codes, _ = run(obs)
    assert codes == {"LOOKUP_FAILED"} and verdict is Verdict.UNKNOWN


def test_mx_host_with_an_address_is_safe() -> None:
    verdict, codes, _ = run(_with_addresses(observe(), mx1_newmail_example=_addr(NEW_MX)))
    assert codes == set() and verdict is Verdict.SAFE


def test_mx_relative_typo() -> None:
    typo = f"{M365_MX}.{D}"
    obs = _with_addresses(observe(mx=mx(typo)), **{typo.replace(".", "_"): ans(typo, "A", rcode="NXDOMAIN", zone=D)})
    verdict, codes, c = run(obs)
    assert codes == {"MX_RELATIVE_TYPO"} and verdict is Verdict.BLOCKED
    assert dict(by_code(c, "MX_RELATIVE_TYPO")[0].args)["intended"] == M365_MX


def test_cname_relative_typo() -> None:
    obs = observe(names_=names(autodiscover=cname("autodiscover", f"autodiscover.outlook.com.{D}")))
    verdict, codes, _ = run(obs)
    assert codes == {"CNAME_RELATIVE_TYPO"} and verdict is Verdict.WARNING


def test_m365_partner_managed() -> None:
    obs = observe(txt=txt("NETORGFT1234567.onmicrosoft.com"))
    verdict, codes, c = run(obs)
    assert codes == {"M365_PARTNER_MANAGED"} and verdict is Verdict.SAFE
    assert dict(by_code(c, "M365_PARTNER_MANAGED")[0].args)["partner"] == "GoDaddy"


def test_domain_nxdomain() -> None:
    obs = observe(
        mx=ans(D, "MX", rcode="NXDOMAIN", zone="com"),
        ns=ans(D, "NS", rcode="NXDOMAIN", zone="com"),
        txt=ans(D, "TXT", rcode="NXDOMAIN"),
        a=ans(D, "A", rcode="NXDOMAIN"),
        aaaa=ans(D, "AAAA", rcode="NXDOMAIN"),
        mx_hosts=(),
    )
    verdict, codes, c = run(obs)
    assert verdict is Verdict.UNKNOWN and codes == {"DOMAIN_NXDOMAIN"}
    assert not c.decisive


def test_input_invalid() -> None:
    r = invalid_result(Invalid("co.uk", "co.uk is a public suffix"))
    assert r.verdict is Verdict.UNKNOWN and [f.code for f in r.findings] == ["INPUT_INVALID"]
    assert r.verdict.exit_code == 3


# ------------------------------------------------------------------------------------------------ failures


@pytest.mark.parametrize(
    "reason",
    [
        "timed out: the resolver did not answer in time",
        "no server could answer: SERVFAIL",
        "no server could answer: REFUSED",
        "FormError: garbage",
        "no time left before the deadline (--timeout)",
    ],
)
def test_failed_mx_is_unknown(reason: str) -> None:
    verdict, codes, c = run(observe(mx=und(D, "MX", reason)))
    assert verdict is Verdict.UNKNOWN and codes == {"LOOKUP_FAILED"}
    (f,) = by_code(c, "LOOKUP_FAILED")
    assert f.severity is Severity.UNKNOWN and reason in f.message
    assert not c.decisive


def test_failed_ns_is_unknown() -> None:
    verdict, codes, c = run(observe(ns=und(D, "NS")))
    assert verdict is Verdict.UNKNOWN and codes == {"LOOKUP_FAILED"}
    assert by_code(c, "LOOKUP_FAILED")[0].severity is Severity.UNKNOWN


def test_ns_answered_without_ns_records_is_unknown() -> None:
    verdict, codes, c = run(observe(ns=ans(D, "NS")))
    assert verdict is Verdict.UNKNOWN and codes == {"LOOKUP_FAILED"}
    verdict, _, _ = run(observe(ns=ans(D, "NS", rec(D, "SOA", "a. b. 1 2 3 4 5"))))
    assert verdict is Verdict.UNKNOWN


def test_blocked_outranks_a_failed_lookup() -> None:
    verdict, codes, _ = run(observe(mx=mx(M365_MX), ns=und(D, "NS")))
    assert verdict is Verdict.BLOCKED and codes == {"MX_M365", "LOOKUP_FAILED"}
    verdict, _, _ = run(observe(mx=und(D, "MX"), ns=ns(*M365_NS)))
    assert verdict is Verdict.BLOCKED


def test_failed_txt_is_a_warning() -> None:
    verdict, codes, c = run(observe(txt=und(D, "TXT")))
    assert verdict is Verdict.WARNING and codes == {"LOOKUP_FAILED"}
    assert by_code(c, "LOOKUP_FAILED")[0].severity is Severity.WARNING


@pytest.mark.parametrize(
    ("prefix", "failure"),
    [
        ("autodiscover", "timed out"),
        ("selector1._domainkey", "no server could answer: SERVFAIL"),
        ("msoid", "CNAME loop at msoid.contoso.com"),
        ("sip", "CNAME chain longer than 8 hops"),
    ],
)
def test_failed_leftover_is_a_warning(prefix: str, failure: str) -> None:
    kind, rdtype = next((k, t) for p, k, t in M365_NAMES if p == prefix)
    name = f"{prefix}.{D}"
    lookups: tuple[Lookup, ...] = (
        (und(name, rdtype, failure),)
        if "loop" not in failure and "hops" not in failure
        else (ans(name, "CNAME", rec(name, "CNAME", name)),)
    )
    broken = chain(kind, name, *lookups, failure=failure)
    verdict, codes, c = run(observe(names_=names(**{prefix.replace(".", "_"): broken})))
    assert verdict is Verdict.WARNING and codes == {"LOOKUP_FAILED"}
    (f,) = by_code(c, "LOOKUP_FAILED")
    assert f.severity is Severity.WARNING and failure in f.message and f.record is not None


def test_failed_mx_host_cname_is_unknown() -> None:
    """The MX host could be a CNAME to Exchange Online: not knowing is `unknown`, not a leftover warning."""
    host = "mail.contoso.com"
    broken = chain("mx", host, und(host, "CNAME"), failure="timed out")
    verdict, codes, c = run(observe(mx=mx(host), mx_hosts=(broken,)))
    assert verdict is Verdict.UNKNOWN and codes == {"LOOKUP_FAILED"}
    loop = chain(
        "mx",
        host,
        ans(host, "CNAME", rec(host, "CNAME", "b.contoso.com")),
        ans("b.contoso.com", "CNAME", rec("b.contoso.com", "CNAME", host)),
        failure=f"CNAME loop at {host}",
    )
    verdict, _, _ = run(observe(mx=mx(host), mx_hosts=(loop,)))
    assert verdict is Verdict.UNKNOWN


def test_an_odd_rcode_in_an_answer_is_never_decisive() -> None:
    """Sources only build Answered for NOERROR and NXDOMAIN; anything else must not count as an answer."""
    odd = Answered(D, "MX", (rec(D, "MX", "10 " + NEW_MX),), "SERVFAIL")
    _, _, c = run(observe(mx=odd))
    assert not c.decisive
    odd_ns = Answered(D, "NS", tuple(rec(D, "NS", h) for h in NEW_NS), "REFUSED")
    _, _, c = run(observe(ns=odd_ns))
    assert not c.decisive


def test_every_lookup_failed_at_once() -> None:
    obs = Observations(
        D,
        None,
        und(D, "MX"),
        und(D, "NS"),
        und(D, "TXT"),
        und(D, "A"),
        und(D, "AAAA"),
        names=tuple(chain(k, f"{p}.{D}", und(f"{p}.{D}", t), failure="timed out") for p, k, t in M365_NAMES),
    )
    verdict, codes, c = run(obs)
    assert verdict is Verdict.UNKNOWN and codes == {"LOOKUP_FAILED"}
    assert len(c.findings) == 3 + len(M365_NAMES)


# ---------------------------------------------------------------------------------------------- lookalikes


@pytest.mark.parametrize(
    "host",
    [
        "x.mail.protection.outlook.com.evil.net",
        "mail.protection-outlook.com",
        "outlook.com.evil",
        "contoso-com.mail.protection.outlook.com.attacker.example",
        "xmail.protection.outlook.com",
        "live-com.olc.protection.outlook.com",
    ],
)
def test_lookalike_mx_is_not_m365(host: str) -> None:
    verdict, codes, c = run(observe(mx=mx(host)))
    assert verdict is Verdict.SAFE and codes == set()
    assert not any(s.m365 for s in c.records)


@pytest.mark.parametrize("host", ["ns1.bdm.microsoftonline.com.evil.net", "ns1.bdm-microsoftonline.com"])
def test_lookalike_ns_is_not_m365(host: str) -> None:
    verdict, codes, _ = run(observe(ns=ns(host, NEW_NS[0])))
    assert verdict is Verdict.SAFE and codes == set()


@pytest.mark.parametrize(
    "target", ["autodiscover.outlook.com.evil.net", "autodiscover-outlook.com", "x.onmicrosoft.com.evil"]
)
def test_lookalike_leftovers(target: str) -> None:
    verdict, codes, _ = run(observe(names_=names(autodiscover=cname("autodiscover", target))))
    assert verdict is Verdict.SAFE and codes == set()


def test_records_of_other_types_at_the_leftover_names_are_ignored() -> None:
    name = f"autodiscover.{D}"
    a_only = chain("autodiscover", name, ans(name, "CNAME"))  # NODATA: an A record lives there
    txt_there = chain(
        "autodiscover", name, ans(name, "CNAME", Record(name, "TXT", "autodiscover.outlook.com"))
    )
    for c in (a_only, txt_there):
        verdict, codes, _ = run(observe(names_=names(autodiscover=c)))
        assert verdict is Verdict.SAFE and codes == set()


# ---------------------------------------------------------------------------------------------- delegation


def _soa(zone: str, serial: int, aa: bool = True) -> Answered:
    return Answered(
        zone,
        "SOA",
        (Record(zone, "SOA", f"ns1.{zone} h.{zone} {serial} 3600 600 86400 300", 3600),),
        "NOERROR",
        None,
        None,
        None,
        aa,
    )


def _view(
    host: str,
    address: str,
    *,
    serial: int = 1,
    aa: bool = True,
    ns_hosts: tuple[str, ...] = NEW_NS,
    mx_target: str = NEW_MX,
    silent: bool = False,
) -> ServerView:
    if silent:
        gone = [Undetermined(D, t, "no answer (timed out)", address, None, True) for t in ("SOA", "NS", "MX")]
        return ServerView(host, address, *gone)
    return ServerView(
        host,
        address,
        _soa(D, serial, aa),
        Answered(D, "NS", tuple(rec(D, "NS", h) for h in ns_hosts), "NOERROR", None, address, None, aa),
        Answered(D, "MX", (rec(D, "MX", f"10 {mx_target}"),), "NOERROR", None, address, None, aa),
    )


def _delegation(
    parent_ns: tuple[str, ...] = NEW_NS, servers: tuple[ServerView, ...] | None = None, **kw: Any
) -> Delegation:
    if servers is None:
        servers = tuple(_view(h, f"192.0.2.{i + 1}") for i, h in enumerate(parent_ns))
    return Delegation(D, "com", (), tuple(rec(D, "NS", h) for h in parent_ns), (), servers, **kw)


@pytest.mark.parametrize(
    ("delegation", "code", "verdict"),
    [
        (_delegation(failure="no parent server answered"), "AUTHORITATIVE_SKIPPED", Verdict.SAFE),
        (_delegation(M365_NS[:2]), "NS_PARENT_M365", Verdict.BLOCKED),
        (
            _delegation(servers=(_view(NEW_NS[0], "192.0.2.1", ns_hosts=M365_NS[:2]),)),
            "NS_CHILD_STALE",
            Verdict.WARNING,
        ),
        (
            _delegation(servers=(_view(NEW_NS[0], "192.0.2.1", ns_hosts=("ns9.other.example",)),)),
            "NS_MISMATCH",
            Verdict.WARNING,
        ),
        (
            _delegation(servers=(_view(NEW_NS[0], "192.0.2.1"), _view(NEW_NS[1], "192.0.2.2", aa=False))),
            "NS_LAME",
            Verdict.WARNING,
        ),
        (
            _delegation(servers=(_view(NEW_NS[0], "192.0.2.1"), _view(NEW_NS[1], "192.0.2.2", silent=True))),
            "NS_UNREACHABLE",
            Verdict.WARNING,
        ),
        (
            _delegation(
                servers=(_view(NEW_NS[0], "192.0.2.1", serial=1), _view(NEW_NS[1], "192.0.2.2", serial=2))
            ),
            "SERIAL_MISMATCH",
            Verdict.SAFE,
        ),
        (
            _delegation(
                servers=(_view(NEW_NS[0], "192.0.2.1"), _view(NEW_NS[1], "192.0.2.2", mx_target=M365_MX))
            ),
            "MX_INCONSISTENT",
            Verdict.BLOCKED,
        ),
    ],
)
def test_delegation_codes(delegation: Delegation, code: str, verdict: Verdict) -> None:
    got, codes, c = run(observe(delegation=delegation))
    assert code in codes, c.findings
    assert got is verdict, c.findings


def test_required_delegation_failure_is_unknown() -> None:
    got, codes, _ = run(observe(delegation=_delegation(failure="port 53 blocked", required=True)))
    assert got is Verdict.UNKNOWN and "LOOKUP_FAILED" in codes


# ----------------------------------------------------------------- CACHE_PENDING (added by the check service)


class DictSource:
    """An in-memory source: {(name, type): Lookup}; anything else is NXDOMAIN."""

    label = "dict"
    recursive = False

    def __init__(self, lookups: dict[tuple[str, str], Lookup]) -> None:
        self.lookups = lookups

    def covers(self, name: str) -> bool:
        return True

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        return self.lookups.get((name, rdtype)) or Answered(name, rdtype, (), "NXDOMAIN", "com")


def test_cache_pending() -> None:
    src = DictSource(
        {
            (D, "MX"): mx(NEW_MX),
            (D, "NS"): ns(*NEW_NS),
            (D, "TXT"): txt(),
            (D, "A"): ans(D, "A"),
            (D, "AAAA"): ans(D, "AAAA"),
            (NEW_MX, "CNAME"): ans(NEW_MX, "CNAME"),
            (NEW_MX, "A"): ans(NEW_MX, "A", rec(NEW_MX, "A", "192.0.2.25")),
        }
    )
    target = Target(D, D, D)
    done = asyncio.run(check(target, src, Options(timeout=2, mode="resolver")))
    assert done.verdict is Verdict.SAFE, done.findings
    pending = asyncio.run(
        check(target, src, Options(timeout=2, mode="resolver", changed_at=datetime.now(UTC)))
    )
    assert pending.verdict is Verdict.WARNING
    assert [f.code for f in pending.findings] == ["CACHE_PENDING"]


# ------------------------------------------------------------------------------------------------ MTA-STS


def _sts(mode: str, *patterns: str, fetched: bool = True, failure: str | None = None) -> Any:
    from dnscheck.mtasts import MtaSts, StsPolicy

    name = f"_mta-sts.{D}"
    record = rec(name, "TXT", "v=STSv1; id=2026;")
    policy = StsPolicy(mode, 604800, patterns) if fetched and failure is None else None
    url = f"https://mta-sts.{D}/.well-known/mta-sts.txt"
    return MtaSts(ans(name, "TXT", record), record, "2026", url, fetched, policy, failure)


def _with_sts(sts: Any, **kw: Any) -> Observations:
    import dataclasses

    return dataclasses.replace(observe(**kw), mta_sts=sts)


def test_mta_sts_policy_listing_exchange_online_is_a_warning() -> None:
    verdict, codes, _ = run(_with_sts(_sts("enforce", "*.mail.protection.outlook.com", NEW_MX)))
    assert (verdict, codes) == (Verdict.WARNING, {"MTA_STS_M365"})


def test_mta_sts_enforced_without_the_new_mx_blocks() -> None:
    verdict, codes, _ = run(_with_sts(_sts("enforce", M365_MX)))
    assert verdict is Verdict.BLOCKED and codes == {"MTA_STS_MX_MISMATCH", "MTA_STS_M365"}
    verdict, codes, _ = run(_with_sts(_sts("testing", M365_MX)))  # testing mode refuses nothing
    assert codes == {"MTA_STS_M365"}
    verdict, codes, _ = run(_with_sts(_sts("none", M365_MX)))
    assert (verdict, codes) == (Verdict.SAFE, set())


def test_mta_sts_not_fetched_and_failures() -> None:
    _, codes, _ = run(_with_sts(_sts("enforce", fetched=False)))
    assert codes == {"MTA_STS_NOT_FETCHED"}
    verdict, codes, c = run(_with_sts(_sts("enforce", failure="HTTP 404")))
    assert (verdict, codes) == (Verdict.WARNING, {"LOOKUP_FAILED"})
    assert "HTTP 404" in c.findings[0].message
    from dnscheck.mtasts import MtaSts

    verdict, codes, _ = run(_with_sts(MtaSts(und(f"_mta-sts.{D}", "TXT", "timed out"))))
    assert (verdict, codes) == (Verdict.WARNING, {"LOOKUP_FAILED"})


# ------------------------------------------------------------------------------------------------ tenant


TID = "11111111-2222-3333-4444-555555555555"


def _tenant(state: str, **kw: Any) -> list[str]:
    from dnscheck.tenant import TenantStatus, classify_tenant

    expected = kw.pop("expected", ())
    found = classify_tenant(TenantStatus(D, state, **kw), expected)
    assert verdict_of(found, True) is not Verdict.SAFE or state == "absent"
    return [f.code for f in found]


def test_tenant_findings() -> None:
    present = {"tenant_id": TID, "cloud": "worldwide", "namespace": "Managed"}
    assert _tenant("present", **present) == ["TENANT_PRESENT"]
    assert _tenant("present", **present, expected=(TID,)) == ["TENANT_PRESENT_EXPECTED"]
    assert _tenant("present", **present, expected=("99999999-2222-3333-4444-555555555555",)) == ["TENANT_MOVED"]
    fed = {**present, "namespace": "Federated", "federation_host": "sso.godaddy.com"}
    assert _tenant("present", **fed) == ["TENANT_PRESENT", "TENANT_FEDERATED"]
    assert _tenant("absent", cloud="worldwide", namespace="Unknown") == ["TENANT_ABSENT"]
    assert _tenant("unknown", failure="HTTP 500", failed_at="https://login.microsoftonline.com/x") == [
        "LOOKUP_FAILED"
    ]
# ------------------------------------------------------------------------------------------------ DNSSEC


@pytest.mark.parametrize(
    "code, scenario",
    [
        ("DNSSEC_DS_UNSIGNED", "unsigned"),
        ("DNSSEC_DS_MISMATCH", "other_keys"),
        ("DNSSEC_BOGUS", "bogus"),
        ("DNSSEC_SIG_EXPIRING", "expiring"),
        ("DNSSEC_ALGORITHM", "algorithm"),
        ("DNSSEC_SIGNED", "signed"),
        ("DNSSEC_INSECURE", "insecure"),
        ("DNSSEC_UNCHECKED", "unchecked"),
        ("DNSSEC_MX_MICROSOFT", "mx_microsoft"),
    ],
)
def test_dnssec_codes_come_from_their_scenarios(code: str, scenario: str) -> None:
    """The DNSSEC rules (dnscheck/dnssec.py) and their scenarios live in test_dnssec.py."""
    from tests.unit.test_dnssec import SCENARIOS

    assert code in [f.code for f in SCENARIOS[scenario]()]


def test_undocumented_verification_txt_is_info_and_says_so() -> None:
    obs = observe(txt=txt("v=verifydomain MS=6154796"))
    verdict, codes, c = run(obs)
    (f,) = by_code(c, "VERIFY_TXT_M365")
    assert f.severity is Severity.INFO and f.variant == "undocumented" and verdict is Verdict.SAFE
    assert not any(s.m365 for s in c.records if s.record.type == "TXT")


# ------------------------------------------------------------------------------------------- wildcard MX


def test_wildcard_mx_to_exchange_online_is_named() -> None:
    """`*.<domain> MX` (a zone file's, see check.wildcard_mx) to Exchange Online: a warning of its own."""
    w = f"*.{D}"
    obs = dataclasses.replace(
        observe(), wildcard_mx=ans(w, "MX", rec(w, "MX", "0 contoso-com.mail.protection.outlook.com."))
    )
    verdict, codes, c = run(obs)
    assert verdict is Verdict.WARNING and "MX_WILDCARD_M365" in codes
    assert by_code(c, "MX_WILDCARD_M365")[0].severity is Severity.WARNING


def test_wildcard_mx_that_could_not_be_read_is_never_safe() -> None:
    obs = dataclasses.replace(observe(), wildcard_mx=Undetermined(f"*.{D}", "MX", "delegated", "zone file"))
    verdict, codes, _ = run(obs)
    assert verdict is Verdict.WARNING and "LOOKUP_FAILED" in codes


# ------------------------------------------------------------------------------------------------ coverage


def test_every_code_is_produced_by_some_test_here() -> None:
    """A new code in codes.py must get a scenario in this file."""
    import inspect
    import sys

    text = inspect.getsource(sys.modules[__name__])
    missing = [code for code in CODES if f'"{code}"' not in text.split("def test_every_code_is_produced")[0]]
    assert not missing, f"codes without a scenario: {missing}"


def test_child_ns_from_the_resolver_when_no_server_answers_keeps_the_microsoft_fact() -> None:
    """The parent delegates elsewhere, the zone's servers are all unreachable, and the resolver returned the zone's
    NS RRset naming Microsoft: NS_M365 is withdrawn in favour of the parent's view, so NS_CHILD_STALE must say it."""
    from dnscheck.classify import classify
    from dnscheck.models import Answered, Delegation, Observations, Record, ServerView, Undetermined

    def ns(name: str, target: str) -> Record:
        return Record(name, "NS", target, 3600, target)

    dead = Undetermined("contoso.com", "SOA", "no answer (timed out)", "192.0.2.53", silent=True)
    delegation = Delegation(
        zone="contoso.com", parent="com",
        referral=(Answered("contoso.com", "NS", (ns("contoso.com", "ns1.newdns.net"),)),),
        parent_ns=(ns("contoso.com", "ns1.newdns.net"),), glue=(),
        servers=(ServerView("ns1.newdns.net", "192.0.2.53", dead, dead, dead),),
    )
    obs = Observations(
        domain="contoso.com", zone="contoso.com",
        mx=Answered("contoso.com", "MX", (Record("contoso.com", "MX", "10 mx.newmail.net", 300, "mx.newmail.net"),)),
        ns=Answered("contoso.com", "NS", (ns("contoso.com", "ns1.bdm.microsoftonline.com"),)),
        txt=Answered("contoso.com", "TXT"), a=Answered("contoso.com", "A"), aaaa=Answered("contoso.com", "AAAA"),
        delegation=delegation,
    )
    codes = {f.code for f in classify(obs, "contoso.com").findings}
    assert "NS_CHILD_STALE" in codes and "NS_UNREACHABLE" in codes and "NS_M365" not in codes
