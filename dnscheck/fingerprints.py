"""What Microsoft 365 records look like: one table, data only.

Each row says which kind of record it applies to (`kind`), how to match it, which cloud and service it belongs to,
which finding it raises, and what to do about it. The classifier reads this table; nothing else in the code knows a
Microsoft host name.

Host patterns are whole-label suffixes, compared case-insensitively without the trailing dot: `outlook.com`
matches `x.mail.protection.outlook.com` but never `x.mail.protection.outlook.com.evil.net` or `protection-outlook.com`.
Never rebuild the expected label from the domain: Microsoft drops hyphens and appends suffixes such as `01b`, and
the US Government MX label is the tenant name. Each row names its public source; docs/fingerprints.md restates
them, and fixtures/realworld/ checks the table against published configurations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["mx", "ns", "spf", "txt", "autodiscover", "dkim", "sip", "mdm", "msoid"]
Match = Literal["host", "spf", "text"]


@dataclass(frozen=True)
class Fingerprint:
    id: str
    kind: Kind
    match: Match
    patterns: tuple[str, ...]  # host suffixes for "host"/"spf", regular expressions for "text"
    cloud: str | None
    service: str
    code: str
    source: str  # where this shape is published (see docs/fingerprints.md)


FINGERPRINTS: tuple[Fingerprint, ...] = (
    # --- Inbound mail (MX) ---
    Fingerprint(
        id="mx-worldwide",
        kind="mx",
        match="host",
        patterns=("mail.protection.outlook.com",),
        cloud="worldwide",
        service="Exchange Online",
        code="MX_M365",
        source="Microsoft Learn, External Domain Name System records for Office 365 (aka.ms/o365edns)",
    ),
    # DNSSEC/DANE form, e.g. contoso-com.o-v1.mx.microsoft (MC1048624, default for new domains).
    Fingerprint(
        id="mx-worldwide-dnssec",
        kind="mx",
        match="host",
        patterns=("mx.microsoft",),
        cloud="worldwide",
        service="Exchange Online",
        code="MX_M365",
        source="Microsoft Learn, How SMTP DANE works; Message Center MC1048624",
    ),
    Fingerprint(
        id="mx-usgov",
        kind="mx",
        match="host",
        patterns=("mail.protection.office365.us",),
        cloud="usgov",
        service="Exchange Online (GCC High/DoD)",
        code="MX_M365",
        source="Microsoft Learn, DNS records for Office 365 GCC High / DoD",
    ),
    Fingerprint(
        id="mx-china",
        kind="mx",
        match="host",
        patterns=("mail.protection.partner.outlook.cn",),
        cloud="china",
        service="Exchange Online (21Vianet)",
        code="MX_M365",
        source="Microsoft Learn, Office 365 operated by 21Vianet: create DNS records",
    ),
    Fingerprint(
        id="mx-germany",
        kind="mx",
        match="host",
        patterns=("mail.protection.outlook.de",),
        cloud="germany",
        service="Exchange Online (Microsoft Cloud Deutschland, legacy)",
        code="MX_M365",
        source="Microsoft Learn, Inbound SMTP DANE with DNSSEC (legacy MX values to delete)",
    ),
    # Generic hosts from before 2018; still Microsoft's, still where mail would go.
    Fingerprint(
        id="mx-legacy-generic",
        kind="mx",
        match="host",
        patterns=("mail.eo.outlook.com", "mail.messaging.microsoft.com", "mail.global.frontbridge.com"),
        cloud="worldwide",
        service="Exchange Online (deprecated MX)",
        code="MX_M365",
        source="Microsoft Learn, Inbound SMTP DANE with DNSSEC (legacy MX values to delete); Microsoft's 2018 notice",
    ),
    Fingerprint(
        id="mx-verify",
        kind="mx",
        match="host",
        patterns=("msv1.invalid", "msv1.invalid.outlook.com"),
        cloud=None,
        service="domain verification",
        code="VERIFY_MX_M365",
        source="admin center value seen in published zones (fixtures/realworld, e.g. suhaibchaudhry/dns-zones)",
    ),
    # --- DNS hosting (NS) ---
    Fingerprint(
        id="ns-worldwide",
        kind="ns",
        match="host",
        patterns=("bdm.microsoftonline.com",),
        cloud="worldwide",
        service="Microsoft 365 DNS hosting",
        code="NS_M365",
        source="Microsoft Learn, Change nameservers to set up Microsoft 365 with any domain registrar",
    ),
    Fingerprint(
        id="ns-china",
        kind="ns",
        match="host",
        patterns=("dns.partner.microsoftonline.cn",),
        cloud="china",
        service="Microsoft 365 DNS hosting (21Vianet)",
        code="NS_M365",
        source="Microsoft Learn, Change nameservers ... (21Vianet version)",
    ),
    # Azure DNS (*.azure-dns.com/net/org/info) is a separate product and deliberately absent.
    # --- SPF ---
    Fingerprint(
        id="spf-worldwide",
        kind="spf",
        match="spf",
        patterns=("spf.protection.outlook.com",),
        cloud="worldwide",
        service="Exchange Online sending",
        code="SPF_M365",
        source="Microsoft Learn, External Domain Name System records for Office 365 (aka.ms/o365edns)",
    ),
    Fingerprint(
        id="spf-usgov",
        kind="spf",
        match="spf",
        patterns=("spf.protection.office365.us",),
        cloud="usgov",
        service="Exchange Online sending",
        code="SPF_M365",
        source="Microsoft Learn, DNS records for Office 365 GCC High / DoD",
    ),
    Fingerprint(
        id="spf-china",
        kind="spf",
        match="spf",
        patterns=("spf.protection.partner.outlook.cn",),
        cloud="china",
        service="Exchange Online sending",
        code="SPF_M365",
        source="Microsoft Learn, Office 365 operated by 21Vianet: create DNS records",
    ),
    Fingerprint(
        id="spf-germany",
        kind="spf",
        match="spf",
        patterns=("spf.protection.outlook.de",),
        cloud="germany",
        service="Exchange Online sending",
        code="SPF_M365",
        source="an archived Microsoft SPF table for Microsoft Cloud Deutschland",
    ),
    # --- Verification TXT ---
    Fingerprint(
        id="txt-verify",
        kind="txt",
        match="text",
        patterns=(r"^ms=ms\d{8}$",),
        cloud=None,
        service="domain verification",
        code="VERIFY_TXT_M365",
        source="Microsoft Learn, Add DNS records to connect your domain",
    ),
    # Verification TXT forms, decided from evidence (issue 9):
    # - "MS=ms" + 8 digits is the only form Microsoft documents (Microsoft Learn, "Add DNS records to connect your
    #   domain" and "Create DNS records at any DNS hosting provider": TXT @ "MS=msXXXXXXXX"); every host page of
    #   fixtures/realworld/msdns-* gives it, and published zones use it in either case (ms=ms..., MS=MS...,
    #   e.g. ministryofjustice/dns). It counts as the leftover it is: VERIFY_TXT_M365, warning (txt-verify).
    # - "v=verifydomain MS=" + 7 digits is published in real zones next to Microsoft 365 records
    #   (hmcts/azure-public-dns environments/prod/reform-hmcts-net.yml, Terraform zones in public repositories) but
    #   appears in no Microsoft page found: it comes in at info, with a message that says it is not Microsoft's
    #   documented form (classify._txt gives the severity).
    # - Other "MS=" values seen in the wild (40 hex digits in ministryofjustice/dns justice.gov.uk.yaml, bare
    #   "MS=" + digits) cannot be attributed to Microsoft 365 and stay out; so do forms with inner spaces, which no
    #   published zone showed.
    Fingerprint(
        id="txt-verify-undocumented",
        kind="txt",
        match="text",
        patterns=(r"^v=verifydomain\s+ms=\d{6,8}$",),
        cloud=None,
        service="domain verification (undocumented form)",
        code="VERIFY_TXT_M365",
        source="seen in published zones only: hmcts/azure-public-dns environments/prod/reform-hmcts-net.yml",
    ),
    # --- Autodiscover ---
    Fingerprint(
        id="autodiscover-worldwide",
        kind="autodiscover",
        match="host",
        patterns=("autodiscover.outlook.com",),
        cloud="worldwide",
        service="Exchange Online autodiscover",
        code="AUTODISCOVER_M365",
        source="Microsoft Learn, External Domain Name System records for Office 365 (aka.ms/o365edns)",
    ),
    Fingerprint(
        id="autodiscover-usgov",
        kind="autodiscover",
        match="host",
        patterns=("autodiscover.office365.us", "autodiscover-dod.office365.us"),
        cloud="usgov",
        service="Exchange Online autodiscover",
        code="AUTODISCOVER_M365",
        source="Microsoft Learn, DNS records for Office 365 GCC High / DoD",
    ),
    Fingerprint(
        id="autodiscover-china",
        kind="autodiscover",
        match="host",
        patterns=("autodiscover.partner.outlook.cn",),
        cloud="china",
        service="Exchange Online autodiscover",
        code="AUTODISCOVER_M365",
        source="Microsoft Learn, Office 365 operated by 21Vianet: create DNS records",
    ),
    Fingerprint(
        id="autodiscover-germany",
        kind="autodiscover",
        match="host",
        patterns=("autodiscover-outlook.office.de",),
        cloud="germany",
        service="Exchange Online autodiscover",
        code="AUTODISCOVER_M365",
        source="Microsoft Cloud Deutschland DNS records (legacy)",
    ),
    # --- DKIM: old form (<tenant>.onmicrosoft.com) and new form (*.dkim.mail.microsoft, since May 2025) ---
    Fingerprint(
        id="dkim-old",
        kind="dkim",
        match="host",
        patterns=("onmicrosoft.com",),
        cloud="worldwide",
        service="Exchange Online DKIM",
        code="DKIM_M365",
        source="Microsoft Learn, Set up DKIM to sign mail from your Microsoft 365 domain",
    ),
    Fingerprint(
        id="dkim-new",
        kind="dkim",
        match="host",
        patterns=("dkim.mail.microsoft",),
        cloud="worldwide",
        service="Exchange Online DKIM",
        code="DKIM_M365",
        source="Microsoft Learn, Set up DKIM ... (custom domains added since May 2025)",
    ),
    Fingerprint(
        id="dkim-usgov",
        kind="dkim",
        match="host",
        patterns=("onmicrosoft.us",),
        cloud="usgov",
        service="Exchange Online DKIM",
        code="DKIM_M365",
        source="Microsoft Learn, DNS records for Office 365 GCC High / DoD",
    ),
    Fingerprint(
        id="dkim-china",
        kind="dkim",
        match="host",
        patterns=("partner.onmschina.cn",),
        cloud="china",
        service="Exchange Online DKIM",
        code="DKIM_M365",
        source="Microsoft Learn, Office 365 operated by 21Vianet: create DNS records",
    ),
    # --- Skype for Business / Teams ---
    Fingerprint(
        id="sip-worldwide",
        kind="sip",
        match="host",
        patterns=("online.lync.com",),
        cloud="worldwide",
        service="Skype for Business / Teams",
        code="SIP_M365",
        source="Microsoft Learn, External Domain Name System records for Office 365 (aka.ms/o365edns)",
    ),
    Fingerprint(
        id="sip-china",
        kind="sip",
        match="host",
        patterns=("online.partner.lync.cn",),
        cloud="china",
        service="Skype for Business / Teams",
        code="SIP_M365",
        source="Microsoft Learn, Office 365 operated by 21Vianet: create DNS records",
    ),
    Fingerprint(
        id="sip-usgov",
        kind="sip",
        match="host",
        patterns=("online.gov.skypeforbusiness.us", "online.dod.skypeforbusiness.us"),
        cloud="usgov",
        service="Skype for Business / Teams",
        code="SIP_M365",
        source="Microsoft Learn, DNS records for Office 365 GCC High / DoD",
    ),
    # --- Intune / device registration ---
    Fingerprint(
        id="mdm-worldwide",
        kind="mdm",
        match="host",
        patterns=("enterpriseregistration.windows.net", "manage.microsoft.com"),
        cloud="worldwide",
        service="Intune / Entra device registration",
        code="MDM_M365",
        source="Microsoft Learn, Enable auto-discovery of Intune enrollment server",
    ),
    Fingerprint(
        id="mdm-usgov",
        kind="mdm",
        match="host",
        patterns=("manage.microsoft.us", "enterpriseregistration.microsoftonline.us"),
        cloud="usgov",
        service="Intune / Entra device registration",
        code="MDM_M365",
        source="Microsoft Learn, Intune for US Government: enrollment DNS records",
    ),
    Fingerprint(
        id="mdm-china",
        kind="mdm",
        match="host",
        patterns=("enterpriseregistration.partner.microsoftonline.cn",),
        cloud="china",
        service="Intune / Entra device registration",
        code="MDM_M365",
        source="Microsoft Learn, Office 365 operated by 21Vianet: create DNS records",
    ),
    # --- msoid ---
    Fingerprint(
        id="msoid-worldwide",
        kind="msoid",
        match="host",
        patterns=("clientconfig.microsoftonline-p.net",),
        cloud="worldwide",
        service="Microsoft Online sign-in",
        code="MSOID_M365",
        source="Microsoft Learn, External Domain Name System records for Office 365 (says to remove msoid)",
    ),
    Fingerprint(
        id="msoid-china",
        kind="msoid",
        match="host",
        patterns=("clientconfig.partner.microsoftonline-p.net.cn",),
        cloud="china",
        service="Microsoft Online sign-in",
        code="MSOID_M365",
        source="Microsoft Learn, Office 365 operated by 21Vianet: create DNS records (msoid required there)",
    ),
)

# The names under a custom domain that Microsoft 365 asks the admin to create: (prefix, kind, type to ask).
M365_NAMES: tuple[tuple[str, Kind, str], ...] = (
    ("autodiscover", "autodiscover", "CNAME"),
    ("selector1._domainkey", "dkim", "CNAME"),
    ("selector2._domainkey", "dkim", "CNAME"),
    ("_sipfederationtls._tcp", "sip", "SRV"),
    ("_sip._tls", "sip", "SRV"),
    ("sip", "sip", "CNAME"),
    ("lyncdiscover", "sip", "CNAME"),
    ("enterpriseregistration", "mdm", "CNAME"),
    ("enterpriseenrollment", "mdm", "CNAME"),
    ("msoid", "msoid", "CNAME"),
    # Autodiscover located by SRV (Outlook asks _autodiscover._tcp before giving up, per [MS-OXDSCLI]) and the
    # hybrid federation name autodiscover.service.<domain> (Microsoft Learn, Exchange federation DNS records).
    ("_autodiscover._tcp", "autodiscover", "SRV"),
    ("autodiscover.service", "autodiscover", "CNAME"),
)

# Mail-security gateways that commonly sit in front of Exchange Online. An MX here is not proof of Microsoft 365,
# but the gateway may still deliver there: a warning, never "safe" without a look.
#
# Each row: (name, host suffixes, where the suffixes come from, confirmed). "Confirmed" rows have a vendor page or a
# published configuration behind them. Unconfirmed rows keep matching (dropping one would turn a warning into a
# possible "safe"), but their source says that no published evidence was found for them; they are candidates to
# drop once someone checks them. Sources named "CIPP-API" are KelvinTegelaar/CIPP-API MailProviders/*.json at
# commit 118cf1fcc48a0355683b37aadb1e3eb900a23574 (a Microsoft 365 admin tool's table of gateway MX patterns, each
# file linking the vendor's own page); "Posh365" is the Test-MXHandler.ps1 table of Posh365 0.9.88
# (https://www.powershellgallery.com/packages/Posh365/0.9.88/Content/Private%5CSecurity%5CTest-MXHandler.ps1).
_GATEWAY_ROWS: tuple[tuple[str, tuple[str, ...], str, bool], ...] = (
    (
        "proofpoint-essentials",
        ("ppe-hosted.com",),
        "Proofpoint Essentials connection details (mx1-us1/mx2-us1, mx1-eu1/mx2-eu1... .ppe-hosted.com), "
        "https://help.proofpoint.com/Proofpoint_Essentials/Email_Security/Administrator_Topics/000_gettingstarted/"
        "020_connectiondetails, via CIPP-API MailProviders/Proofpoint.json",
        True,
    ),
    (
        "proofpoint",
        ("pphosted.com",),
        "Proofpoint on Demand per-customer MX (mx0a-/mx0b-<id>.pphosted.com): the host names in published Received "
        "headers of Proofpoint-protected senders; no vendor page was found in the searched material",
        True,
    ),
    (
        "proofpoint-unconfirmed",
        ("proofpoint.com",),
        "unconfirmed: no published MX under proofpoint.com was found for a customer domain",
        False,
    ),
    (
        "mimecast",
        ("mimecast.com",),
        "Mimecast regional inbound MX <region>-smtp-inbound-<n>.mimecast.com (us, eu, uk, de, za, au, ca...), "
        "Mimecast community 'Connect Application - Modifying Your MX Records' via CIPP-API MailProviders/"
        "Mimecast.json; Posh365 (au*/eu*mimecast*)",
        True,
    ),
    (
        "mimecast-unconfirmed",
        ("mimecast.co.za", "mimecast-offshore.com"),
        "unconfirmed: the regional pattern above puts every grid, South Africa included, under mimecast.com; "
        "these two suffixes were not seen in any published MX",
        False,
    ),
    (
        "barracuda",
        ("barracudanetworks.com",),
        "Barracuda Email Gateway Defense (formerly Essentials/ESS): d<id>a/b.ess[.<region>].barracudanetworks.com, "
        "CIPP-API MailProviders/BarracudaESS.json; Posh365 (*barracudanetworks.com)",
        True,
    ),
    (
        "barracuda-unconfirmed",
        ("cudamail.com",),
        "unconfirmed: no published MX under cudamail.com was found",
        False,
    ),
    (
        "cisco-secure-email",
        ("iphmx.com",),
        "Cisco Secure Email Cloud Gateway (formerly IronPort cloud): mx1/mx2.<allocation>.iphmx.com; Posh365 "
        "(*iphmx*); https://www.captaindns.com/en/blog/cisco-secure-email-gateway",
        True,
    ),
    (
        "cisco-email-threat-defense",
        ("etd.cisco.com",),
        "Cisco Secure Email Threat Defense used inline (mx.us/eu/in/au/ae.etd.cisco.com), https://docs.cmd.cisco.com/"
        "en/Content/secure-email-threat-defense-user-guide/Setup%20SMTP/Set%20up%20Your%20Message%20Source/SMTP.htm",
        True,
    ),
    (
        "broadcom-messagelabs",
        ("messagelabs.com",),
        "Broadcom (Symantec.cloud) Email Security: clusterN[a].<region>.messagelabs.com, published with a Microsoft "
        "365 verification TXT in ministryofjustice/dns-iac terraform/justice.gov.uk.tf (fixtures/realworld/moj-*)",
        True,
    ),
    (
        "trend-micro",
        ("tmes.trendmicro.com", "tmes.trendmicro.eu", "tmes-anz.trendmicro.com", "in.hes.trendmicro.com"),
        "unconfirmed: Trend Micro Email Security; in.hes.trendmicro.com (the older Hosted Email Security) appears in "
        "published MX classifiers, the tmes* suffixes in no published MX found",
        False,
    ),
    (
        "sophos",
        ("hydra.sophos.com",),
        "Sophos Email (Central): mx-01-<region>.prod.hydra.sophos.com; Posh365 (*eu-central*/*eu-west*.sophos.com)",
        True,
    ),
    (
        "hornetsecurity",
        ("hornetsecurity.com",),
        "Hornetsecurity 365 Total Protection (Vade merged in): the domain's MX points at Hornetsecurity, which "
        "forwards to Microsoft 365, https://cp.hornetsecurity.com/manual/en/partner/365_total_protection/"
        "c_basic_settings.html; hosts mx01-mx04.hornetsecurity.com (priorities 10-40), "
        "https://www.captaindns.com/en/blog/hornetsecurity-secure-email-gateway; no published zone found",
        True,
    ),
    (
        "forcepoint",
        ("mailcontrol.com",),
        "Forcepoint (formerly Websense) Email Security cloud: <id>.in.mailcontrol.com; Posh365 (*in.mailcontrol.com)",
        True,
    ),
    (
        "trellix",
        ("fireeyecloud.com",),
        "Trellix (formerly FireEye) Email Security Cloud: Posh365 (*fireeyecloud.com)",
        True,
    ),
    (
        "spamtitan",
        ("spamtitan.com",),
        "TitanHQ SpamTitan: https://docs.titanhq.com/en/540-change-your-mx-records.html, via CIPP-API "
        "MailProviders/SpamTitan.json",
        True,
    ),
    (
        "mailguard",
        ("mailguard.com.au",),
        "MailGuard (Australia): Posh365 (*mailguard*)",
        True,
    ),
    ("libraesva", ("libraesva.com",), "unconfirmed: no published MX under libraesva.com was found", False),
    ("vade", ("vadesecure.com",), "unconfirmed: no published MX under vadesecure.com was found", False),
    ("securence", ("securence.com",), "unconfirmed: no published MX under securence.com was found", False),
    # CodeTwo and Exclaimer route Exchange Online's outbound mail through a signature service; neither documents an
    # inbound MX. Kept only so an MX at them still warns.
    ("codetwo", ("codetwo.online",), "unconfirmed: a signature service; no published MX was found", False),
    ("exclaimer", ("exclaimer.net",), "unconfirmed: a signature service; no published MX was found", False),
    (
        "cloudflare-email-security",
        ("mxrecord.io", "mxrecord.mx"),
        "Cloudflare Email Security (formerly Area 1) inline in front of Office 365: mailstream-*.mxrecord.io/.mx, "
        "cloudflare/cloudflare-docs content/email-security/deployment/inline/setup/"
        "deployment-configuration-guide-office-365-mx.md",
        True,
    ),
)

GATEWAYS: tuple[Fingerprint, ...] = tuple(
    Fingerprint(
        id=f"gateway-{name}",
        kind="mx",
        match="host",
        patterns=suffixes,
        cloud=None,
        service=name.removesuffix("-unconfirmed"),
        code="MX_GATEWAY",
        source=source,
    )
    for name, suffixes, source, _confirmed in _GATEWAY_ROWS
)
UNCONFIRMED_GATEWAYS = frozenset(f"gateway-{name}" for name, _, _, confirmed in _GATEWAY_ROWS if not confirmed)


def _host_matches(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)


def clean_host(host: str) -> str:
    return host.rstrip(".").lower()


def match_host(kind: Kind, host: str, table: tuple[Fingerprint, ...] = FINGERPRINTS) -> Fingerprint | None:
    """The first fingerprint of `kind` whose suffix covers `host`, or None."""
    host = clean_host(host)
    for fp in table:
        if fp.kind == kind and fp.match == "host" and any(_host_matches(host, s) for s in fp.patterns):
            return fp
    return None


def match_gateway(host: str) -> Fingerprint | None:
    return match_host("mx", host, GATEWAYS)


def spf_targets(txt: str) -> list[str]:
    """The include:/redirect= domains of an SPF record, or [] when the string is not SPF."""
    terms = txt.split()
    # Sender ID records (RFC 4406, "spf2.0/pra ...") use the same include:/redirect= terms; published next to SPF
    # with Microsoft's include (e.g. an audit of rollingstone.com's TXT set), they authorise Exchange Online too.
    if not terms or not (terms[0].lower() == "v=spf1" or terms[0].lower().startswith("spf2.0/")):
        return []
    out = []
    for term in terms[1:]:
        low = term.lower().lstrip("+-~?")
        for prefix in ("include:", "redirect="):
            if low.startswith(prefix):
                out.append(clean_host(low[len(prefix) :]))
    return out


def match_spf(txt: str) -> Fingerprint | None:
    for target in spf_targets(txt):
        for fp in FINGERPRINTS:
            if fp.match == "spf" and any(_host_matches(target, s) for s in fp.patterns):
                return fp
    return None


_TEXT_RES = {
    fp.id: [re.compile(p, re.IGNORECASE) for p in fp.patterns] for fp in FINGERPRINTS if fp.match == "text"
}


def match_text(txt: str) -> Fingerprint | None:
    stripped = txt.strip()
    for fp in FINGERPRINTS:
        if fp.match == "text" and any(r.search(stripped) for r in _TEXT_RES[fp.id]):
            return fp
    return None
