"""The fingerprint table and its matchers: whole-label suffixes, case-insensitive, trailing dot ignored.

Cross-checked against the shapes Microsoft publishes (docs/fingerprints.md names the pages): every
name those expressions describe must be recognised, and the ones the reference marks "not M365" must not be.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnscheck.codes import CODES
from dnscheck.fingerprints import (
    FINGERPRINTS,
    GATEWAYS,
    M365_NAMES,
    UNCONFIRMED_GATEWAYS,
    match_gateway,
    match_host,
    match_spf,
    match_text,
    spf_targets,
)
from dnscheck.models import Severity

CLOUDS = {"worldwide", "usgov", "china", "germany", None}


# ------------------------------------------------------------------------------------------------ the table


def test_table_is_well_formed() -> None:
    ids = [fp.id for fp in (*FINGERPRINTS, *GATEWAYS)]
    assert len(ids) == len(set(ids)), "fingerprint ids are unique"
    for fp in (*FINGERPRINTS, *GATEWAYS):
        assert fp.code in CODES, fp
        assert fp.cloud in CLOUDS, fp
        assert fp.service and fp.source, fp  # every row names where the shape is published
        assert fp.patterns, fp
        if fp.match in ("host", "spf"):
            for p in fp.patterns:
                assert p == p.lower() and not p.endswith(".") and not p.startswith("."), p
                assert "." in p, f"{p}: a bare TLD would match half the internet"
        else:
            for p in fp.patterns:
                re.compile(p)


def test_every_m365_name_kind_has_fingerprints() -> None:
    kinds = {fp.kind for fp in FINGERPRINTS}
    for _, kind, rdtype in M365_NAMES:
        assert kind in kinds
        assert rdtype in ("CNAME", "SRV")


def test_blocking_codes_only_for_mail_routing_and_dns_hosting() -> None:
    for fp in FINGERPRINTS:
        if CODES[fp.code].severity is Severity.BLOCKED:
            assert fp.kind in ("mx", "ns"), fp


# ------------------------------------------------------------------------------------------------ hosts


@pytest.mark.parametrize(
    ("kind", "host", "fid", "cloud"),
    [
        ("mx", "contoso-com.mail.protection.outlook.com", "mx-worldwide", "worldwide"),
        ("mx", "octobot-io01b.mail.protection.outlook.com", "mx-worldwide", "worldwide"),
        ("mx", "contosotest-com.o-v1.mx.microsoft", "mx-worldwide-dnssec", "worldwide"),
        ("mx", "contoso-com.r-v1.mx.microsoft", "mx-worldwide-dnssec", "worldwide"),
        ("mx", "contoso.mail.protection.office365.us", "mx-usgov", "usgov"),
        ("mx", "contoso-com.mail.protection.partner.outlook.cn", "mx-china", "china"),
        ("mx", "contoso-com.mail.protection.outlook.de", "mx-germany", "germany"),
        ("mx", "mail.eo.outlook.com", "mx-legacy-generic", "worldwide"),
        ("mx", "mail.messaging.microsoft.com", "mx-legacy-generic", "worldwide"),
        ("mx", "mail.global.frontbridge.com", "mx-legacy-generic", "worldwide"),
        ("mx", "ms12345678.msv1.invalid", "mx-verify", None),
        ("ns", "ns1.bdm.microsoftonline.com", "ns-worldwide", "worldwide"),
        ("ns", "ns4.bdm.microsoftonline.com", "ns-worldwide", "worldwide"),
        ("ns", "ns1.dns.partner.microsoftonline.cn", "ns-china", "china"),
        ("autodiscover", "autodiscover.outlook.com", "autodiscover-worldwide", "worldwide"),
        ("autodiscover", "autodiscover.office365.us", "autodiscover-usgov", "usgov"),
        ("autodiscover", "autodiscover-dod.office365.us", "autodiscover-usgov", "usgov"),
        ("autodiscover", "autodiscover.partner.outlook.cn", "autodiscover-china", "china"),
        ("dkim", "selector1-contoso-com._domainkey.contoso.onmicrosoft.com", "dkim-old", "worldwide"),
        (
            "dkim",
            "selector2-contoso-com._domainkey.contoso.n-v1.dkim.mail.microsoft",
            "dkim-new",
            "worldwide",
        ),
        ("sip", "sipfed.online.lync.com", "sip-worldwide", "worldwide"),
        ("sip", "sipdir.online.lync.com", "sip-worldwide", "worldwide"),
        ("sip", "webdir.online.lync.com", "sip-worldwide", "worldwide"),
        ("sip", "sipfed.online.gov.skypeforbusiness.us", "sip-usgov", "usgov"),
        ("sip", "sipfed.online.dod.skypeforbusiness.us", "sip-usgov", "usgov"),
        ("sip", "sipfed.online.partner.lync.cn", "sip-china", "china"),
        ("mdm", "enterpriseregistration.windows.net", "mdm-worldwide", "worldwide"),
        ("mdm", "enterpriseenrollment-s.manage.microsoft.com", "mdm-worldwide", "worldwide"),
        ("mdm", "manage.microsoft.com", "mdm-worldwide", "worldwide"),
        ("mdm", "enterpriseenrollment-s.manage.microsoft.us", "mdm-usgov", "usgov"),
        ("msoid", "clientconfig.microsoftonline-p.net", "msoid-worldwide", "worldwide"),
        ("msoid", "clientconfig.partner.microsoftonline-p.net.cn", "msoid-china", "china"),
    ],
)
def test_known_hosts(kind: str, host: str, fid: str, cloud: str | None) -> None:
    for variant in (host, host.upper(), host + ".", host.title() + "."):
        fp = match_host(kind, variant)  # type: ignore[arg-type]
        assert fp is not None and fp.id == fid and fp.cloud == cloud, (variant, fp)


@pytest.mark.parametrize(
    ("kind", "host"),
    [
        # lookalikes: the suffix must be a whole-label suffix of the whole name
        ("mx", "x.mail.protection.outlook.com.evil.net"),
        ("mx", "mail.protection-outlook.com"),
        ("mx", "x.mail.protection-outlook.com"),
        ("mx", "xmail.protection.outlook.com"),
        ("mx", "x.mail-protection.outlook.com"),
        ("mx", "outlook.com.evil"),
        ("mx", "outlook.com"),
        ("mx", "protection.outlook.com"),
        ("mx", "x.mail.protection.outlook.co"),
        ("mx", "x.mail.protection.outlook.com.cn"),
        ("mx", "x.mail.protection.outlook.comx"),
        ("mx", "mx.microsoft.evil.net"),
        ("mx", "evilmx.microsoft"),
        ("mx", "microsoft"),
        ("mx", "contoso.msv1.invalid.evil.net"),
        ("mx", "mail.contoso.com"),
        ("mx", ""),
        ("mx", "."),
        ("mx", "192.0.2.1"),
        # Microsoft, but not a Microsoft 365 tenant (reference section 1)
        ("mx", "live-com.olc.protection.outlook.com"),
        ("mx", "contoso-com.pamx1.hotmail.com"),
        # Azure DNS is a different product (reference section 2)
        ("ns", "ns1-01.azure-dns.com"),
        ("ns", "ns2-01.azure-dns.net"),
        ("ns", "ns3-01.azure-dns.org"),
        ("ns", "ns4-01.azure-dns.info"),
        ("ns", "ns1.bdm.microsoftonline.com.evil.net"),
        ("ns", "ns1.bdm-microsoftonline.com"),
        ("ns", "bdm.microsoftonline.com.attacker.example"),
        ("ns", "ns1.microsoftonline.com"),
        ("autodiscover", "autodiscover.outlook.com.evil.net"),
        ("autodiscover", "autodiscover-outlook.com"),
        ("dkim", "selector1._domainkey.contoso.onmicrosoft.com.evil.net"),
        ("dkim", "onmicrosoft.com.evil"),
        ("sip", "sipdir.online.lync.com.evil.net"),
        ("msoid", "clientconfig.microsoftonline-p.net.evil.net"),
        ("mdm", "manage.microsoft.com.evil.net"),
        ("mdm", "evilmanage.microsoft.com"),
    ],
)
def test_lookalikes_never_match(kind: str, host: str) -> None:
    assert match_host(kind, host) is None  # type: ignore[arg-type]
    assert match_host(kind, host.upper() + ".") is None  # type: ignore[arg-type]


def test_kinds_do_not_leak_into_each_other() -> None:
    assert match_host("ns", "contoso-com.mail.protection.outlook.com") is None
    assert match_host("mx", "ns1.bdm.microsoftonline.com") is None
    assert match_host("mx", "autodiscover.outlook.com") is None


def test_dnssec_mx_family_is_matched_whole() -> None:
    """Everything under mx.microsoft counts, including hosts the reference says are not tenant MX hosts
    (`smtp.hve.mx.microsoft`): an MX pointing there still sends mail to Microsoft, so it is never safe."""
    assert match_host("mx", "smtp.hve.mx.microsoft") is not None


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("mx0a-001.pphosted.com", "proofpoint"),
        ("us-smtp-inbound-1.mimecast.com", "mimecast"),
        ("d123.mx.barracudanetworks.com", "barracuda"),
        ("mx1.hc123-45.iphmx.com", "cisco-secure-email"),
        ("cluster1.eu.messagelabs.com", "broadcom-messagelabs"),
        ("MX1.HYDRA.SOPHOS.COM.", "sophos"),
        # the regional forms the sources of the table give
        ("mx1-us1.ppe-hosted.com", "proofpoint-essentials"),
        ("mx2-eu1.ppe-hosted.com.", "proofpoint-essentials"),
        ("za-smtp-inbound-1.mimecast.com", "mimecast"),
        ("d123456a.ess.barracudanetworks.com", "barracuda"),
        ("d123456b.ess.de.barracudanetworks.com", "barracuda"),
        ("cluster5a.eu.messagelabs.com.", "broadcom-messagelabs"),
        ("mx.eu.etd.cisco.com", "cisco-email-threat-defense"),
        ("mx-01-eu-west-1.prod.hydra.sophos.com", "sophos"),
        # unconfirmed rows still warn: dropping them could turn a warning into "safe"
        ("je-smtp-inbound-1.mimecast-offshore.com", "mimecast"),
    ],
)
def test_gateways(host: str, name: str) -> None:
    fp = match_gateway(host)
    assert fp is not None and fp.service == name and fp.code == "MX_GATEWAY"
    assert match_host("mx", host) is None  # a gateway is not Exchange Online itself


@pytest.mark.parametrize(
    "host", ["pphosted.com.evil.net", "notmimecast.com", "mimecast.com.attacker.example"]
)
def test_gateway_lookalikes(host: str) -> None:
    assert match_gateway(host) is None


def test_every_gateway_row_names_its_evidence() -> None:
    """No placeholder sources: a confirmed row names a URL or a repository, an unconfirmed one says so."""
    for fp in GATEWAYS:
        assert "the vendor's published" not in fp.source, fp.id
        if fp.id in UNCONFIRMED_GATEWAYS:
            assert fp.source.startswith("unconfirmed:"), fp.id
        else:
            # a URL, a repository path, or one of the two tables the comment above GATEWAYS defines
            assert any(k in fp.source for k in ("https://", "/", "Posh365", "CIPP-API")), fp.id
    assert {"gateway-cisco-email-threat-defense", "gateway-hornetsecurity"}.isdisjoint(UNCONFIRMED_GATEWAYS)
    assert {"gateway-trend-micro", "gateway-codetwo", "gateway-exclaimer"} <= UNCONFIRMED_GATEWAYS


# ------------------------------------------------------------------------------------------------ SPF


@pytest.mark.parametrize(
    ("txt", "cloud"),
    [
        ("v=spf1 include:spf.protection.outlook.com -all", "worldwide"),
        ("V=SPF1 INCLUDE:SPF.PROTECTION.OUTLOOK.COM -ALL", "worldwide"),
        ("v=spf1 include:Spf.Protection.Outlook.Com. ~all", "worldwide"),
        ("v=spf1 +include:spf.protection.outlook.com -all", "worldwide"),
        ("v=spf1 ~include:spf.protection.outlook.com -all", "worldwide"),
        ("v=spf1 ?include:spf.protection.outlook.com -all", "worldwide"),
        ("v=spf1 -include:spf.protection.outlook.com +all", "worldwide"),  # still names Microsoft 365
        ("v=spf1 redirect=spf.protection.outlook.com", "worldwide"),
        (
            "v=spf1 ip4:192.0.2.0/24 include:_spf.google.com include:spf.protection.outlook.com ~all",
            "worldwide",
        ),
        ("v=spf1\tinclude:spf.protection.outlook.com\t-all", "worldwide"),
        ("  v=spf1   include:spf.protection.outlook.com   -all  ", "worldwide"),
        ("v=spf1 include:spf.protection.office365.us -all", "usgov"),
        ("v=spf1 include:spf.protection.partner.outlook.cn -all", "china"),
        ("v=spf1 include:spf.protection.outlook.de -all", "germany"),
    ],
)
def test_spf_includes(txt: str, cloud: str) -> None:
    fp = match_spf(txt)
    assert fp is not None and fp.cloud == cloud and fp.code == "SPF_M365"


@pytest.mark.parametrize(
    "txt",
    [
        "include:spf.protection.outlook.com",  # not an SPF record: no version term
        "MS=ms12345678 include:spf.protection.outlook.com",
        "v=spf10 include:spf.protection.outlook.com -all",
        "v=spf1include:spf.protection.outlook.com",
        "v=spf2.0/pra include:spf.protection.outlook.com",
        "v=DMARC1; p=reject; rua=mailto:x@spf.protection.outlook.com",
        "google-site-verification=spf.protection.outlook.com",
        "v=spf1 include:spf.protection.outlook.com.evil.net -all",
        "v=spf1 include:evilspf.protection.outlook.com -all",
        "v=spf1 include:spf-protection.outlook.com -all",
        "v=spf1 a:spf.protection.outlook.com.example -all",
        "v=spf1 ip4:40.92.0.0/15 -all",  # Microsoft's address ranges are not looked at
        "v=spf1 -all",
        "",
        "   ",
        "v=spf1",
        "v=spf1 include: -all",
        "v=spf1 redirect=",
    ],
)
def test_spf_non_matches(txt: str) -> None:
    assert match_spf(txt) is None


def test_spf_targets() -> None:
    assert spf_targets("v=spf1 include:A.example. redirect=B.example ~include:c.example -all") == [
        "a.example",
        "b.example",
        "c.example",
    ]
    assert spf_targets("not spf include:a.example") == []
    assert spf_targets("") == []


# ------------------------------------------------------------------------------------------- verification TXT


@pytest.mark.parametrize(
    ("txt", "hit"),
    [
        ("MS=ms12345678", True),
        ("ms=MS12345678", True),
        ("  MS=ms12345678  ", True),
        ("MS=ms1234567", False),
        ("MS=ms123456789", False),
        ("MS=ms12345678 extra", False),
        ("xMS=ms12345678", False),
        ("MS=12345678", False),
        ("MS=msabcdefgh", False),
        ("v=spf1 include:spf.protection.outlook.com -all", False),
    ],
)
def test_verification_txt(txt: str, hit: bool) -> None:
    fp = match_text(txt)
    assert (fp is not None) is hit
    if hit:
        assert fp is not None and fp.code == "VERIFY_TXT_M365"


@pytest.mark.parametrize(
    ("txt", "fid"),
    [
        ("MS=ms12345678", "txt-verify"),  # Microsoft's documented form
        ("ms=MS12345678", "txt-verify"),
        ("v=verifydomain MS=6154796", "txt-verify-undocumented"),  # hmcts/azure-public-dns
        ("V=VERIFYDOMAIN ms=5017473", "txt-verify-undocumented"),
        ("MS=77F6B29953B5B4241F92A29E1C5632174D184A59", None),  # ministryofjustice/dns: not attributable
        ("MS=55208010", None),
        ("MS=ms 12345678", None),
        ("v=verifydomain MS=ms12345678", None),
        ("v=verifydomain MS=6154796 x", None),
    ],
)
def test_verification_txt_variants(txt: str, fid: str | None) -> None:
    """The forms decided in fingerprints.py: documented, seen-but-undocumented (info), and out."""
    fp = match_text(txt)
    assert (fp.id if fp else None) == fid


# ------------------------------------------------------------ the reference's regular expressions (section 7)

_REF = {  # name -> (kind, regex); every name these describe must be recognised
    "MX_WW_LEGACY": ("mx", r"[a-z0-9-]{1,20}\.mail\.protection\.outlook\.com"),
    "MX_WW_DNSSEC": ("mx", r"[a-z0-9-]{1,20}\.[a-z0-9]{1,3}-v[0-9]{1,2}\.mx\.microsoft"),
    "MX_GOV": ("mx", r"[a-z0-9-]{1,20}\.mail\.protection\.office365\.us"),
    "MX_CN": ("mx", r"[a-z0-9-]{1,20}\.mail\.protection\.partner\.outlook\.cn"),
    "MX_DE_LEGACY": ("mx", r"[a-z0-9-]{1,20}\.mail\.protection\.outlook\.de"),
    "MX_OLD_GENERIC": (
        "mx",
        r"(mail\.eo\.outlook\.com|mail\.messaging\.microsoft\.com|mail\.global\.frontbridge\.com)",
    ),
    "MX_VERIFY": ("mx", r"ms[0-9]{8}\.msv1\.invalid"),
    "NS_M365": ("ns", r"ns[1-4]\.bdm\.microsoftonline\.com"),
    "NS_21V": ("ns", r"ns[1-4]\.dns\.partner\.microsoftonline\.cn"),
    "AUTODISCOVER": (
        "autodiscover",
        r"(autodiscover\.outlook\.com|autodiscover(-dod)?\.office365\.us|autodiscover\.partner\.outlook\.cn)",
    ),
    "DKIM_OLD": ("dkim", r"selector[12]-[a-z0-9-]{1,20}\._domainkey\.[a-z0-9-]{1,20}\.onmicrosoft\.com"),
    "DKIM_NEW": (
        "dkim",
        r"selector[12]-[a-z0-9-]{1,20}\._domainkey\.[a-z0-9-]{1,20}\.[a-z0-9]{1,3}-v[0-9]\.dkim\.mail\.microsoft",
    ),
    "SIP_TARGETS": (
        "sip",
        r"(sipfed|sipdir|webdir)\.online\.(lync\.com|partner\.lync\.cn|gov\.skypeforbusiness\.us"
        r"|dod\.skypeforbusiness\.us)",
    ),
    "MDM_TARGETS": (
        "mdm",
        r"(enterpriseregistration\.windows\.net|enterpriseenrollment(-s)?\.manage\.microsoft\."
        r"(com|us)|manage\.microsoft\.com)",
    ),
    "MSOID_TARGETS": ("msoid", r"clientconfig\.(partner\.)?microsoftonline-p\.net(\.cn)?"),
}
_NOT_M365 = {
    "NOT_TENANT": ("mx", r"[a-z0-9-]{1,20}(\.olc\.protection\.outlook\.com|\.pamx1\.hotmail\.com)"),
    "NS_AZURE_DNS": ("ns", r"ns[1-4]-[0-9]{1,3}\.azure-dns\.(com|net|org|info)"),
}


def _hosts(regex: str) -> st.SearchStrategy[str]:
    # Labels may not start or end with a hyphen in real names, but the matcher must not care.
    return st.from_regex(re.compile(regex), fullmatch=True)


@pytest.mark.parametrize("ref", sorted(_REF))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_reference_regexes_are_all_recognised(ref: str, data: st.DataObject) -> None:
    kind, regex = _REF[ref]
    host = data.draw(_hosts(regex))
    if ref == "MSOID_TARGETS" and host in (
        "clientconfig.microsoftonline-p.net.cn",
        "clientconfig.partner.microsoftonline-p.net",
    ):
        return  # shapes the expression allows but Microsoft never published
    assert match_host(kind, host) is not None, (ref, host)  # type: ignore[arg-type]
    assert match_host(kind, host.upper() + ".") is not None, (ref, host)  # type: ignore[arg-type]


@pytest.mark.parametrize("ref", sorted(_NOT_M365))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_reference_non_m365_never_recognised(ref: str, data: st.DataObject) -> None:
    kind, regex = _NOT_M365[ref]
    host = data.draw(_hosts(regex))
    assert match_host(kind, host) is None, (ref, host)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(
    prefix=st.from_regex(r"[a-z0-9-]{0,12}", fullmatch=True),
    suffix=st.sampled_from([s for fp in FINGERPRINTS if fp.match == "host" for s in fp.patterns]),
    tail=st.from_regex(r"\.[a-z0-9-]{1,12}(\.[a-z]{2,6})?", fullmatch=True),
)
def test_a_fingerprint_followed_by_more_labels_never_matches(prefix: str, suffix: str, tail: str) -> None:
    """`<anything>.<fingerprint>.<more labels>` is someone else's name."""
    host = (f"{prefix}." if prefix else "") + suffix + tail
    for kind in {fp.kind for fp in FINGERPRINTS}:
        fp = match_host(kind, host)  # type: ignore[arg-type]
        # the only way to match is for the whole name to end in some (other) fingerprint suffix
        assert fp is None or any(host == p or host.endswith("." + p) for p in fp.patterns), (host, fp)


@settings(max_examples=100, deadline=None)
@given(
    suffix=st.sampled_from([s for fp in FINGERPRINTS if fp.match == "host" for s in fp.patterns]),
    glue=st.sampled_from(["-", "x", "0", "_"]),
)
def test_a_fingerprint_glued_to_another_label_never_matches(suffix: str, glue: str) -> None:
    """`evil<glue><fingerprint>`: the first label of the suffix is not a whole label of the name."""
    host = "evil" + glue + suffix
    kind = next(fp.kind for fp in FINGERPRINTS if suffix in fp.patterns)
    fp = match_host(kind, host)
    assert fp is None or any(host.endswith("." + p) for p in fp.patterns), (host, fp)
