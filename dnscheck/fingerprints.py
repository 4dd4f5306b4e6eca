"""What Microsoft 365 records look like: one table, data only.

Each row says which kind of record it applies to (`kind`), how to match it, which cloud and service it belongs to,
which finding it raises, and what to do about it. The classifier reads this table; nothing else in the code knows a
Microsoft host name.

Host patterns are whole-label suffixes, compared case-insensitively without the trailing dot: `outlook.com`
matches `x.mail.protection.outlook.com` but never `x.mail.protection.outlook.com.evil.net` or `protection-outlook.com`.
Never rebuild the expected label from the domain: Microsoft drops hyphens and appends suffixes such as `01b`, and
the US Government MX label is the tenant name. Sources: shared/reference/m365-dns-fingerprints.md.
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
    remediation: str


_MX_FIX = "Change the MX record at the DNS host to the new mail provider's servers."
_NS_FIX = "Create MX and every other record at the new DNS host first, then change the NS delegation at the registrar."
_SPF_FIX = "Remove the Microsoft 365 include from the SPF record (keep the new provider's)."
_AUTOD_FIX = "Delete the autodiscover CNAME, or point it at the new mail provider."
_DKIM_FIX = "Delete the selector1/selector2 CNAMEs after disabling DKIM signing in Microsoft 365."
_SIP_FIX = "Delete the Skype for Business / Teams SRV and CNAME records."
_MDM_FIX = (
    "Delete the enterpriseregistration / enterpriseenrollment CNAMEs once Intune no longer uses the domain."
)
_MSOID_FIX = "Delete the msoid CNAME."
_VERIFY_FIX = "Delete the verification record once the domain has been removed from Microsoft 365."
_GATEWAY_FIX = (
    "Check where the gateway delivers: if its outbound route is Exchange Online, change the route before removing "
    "the domain."
)

FINGERPRINTS: tuple[Fingerprint, ...] = (
    # --- Inbound mail (MX) ---
    Fingerprint(
        "mx-worldwide",
        "mx",
        "host",
        ("mail.protection.outlook.com",),
        "worldwide",
        "Exchange Online",
        "MX_M365",
        _MX_FIX,
    ),
    # DNSSEC/DANE form, e.g. contoso-com.o-v1.mx.microsoft (MC1048624, default for new domains).
    Fingerprint(
        "mx-worldwide-dnssec",
        "mx",
        "host",
        ("mx.microsoft",),
        "worldwide",
        "Exchange Online",
        "MX_M365",
        _MX_FIX,
    ),
    Fingerprint(
        "mx-usgov",
        "mx",
        "host",
        ("mail.protection.office365.us",),
        "usgov",
        "Exchange Online (GCC High/DoD)",
        "MX_M365",
        _MX_FIX,
    ),
    Fingerprint(
        "mx-china",
        "mx",
        "host",
        ("mail.protection.partner.outlook.cn",),
        "china",
        "Exchange Online (21Vianet)",
        "MX_M365",
        _MX_FIX,
    ),
    Fingerprint(
        "mx-germany",
        "mx",
        "host",
        ("mail.protection.outlook.de",),
        "germany",
        "Exchange Online (Microsoft Cloud Deutschland, legacy)",
        "MX_M365",
        _MX_FIX,
    ),
    # Generic hosts from before 2018; still Microsoft's, still where mail would go.
    Fingerprint(
        "mx-legacy-generic",
        "mx",
        "host",
        ("mail.eo.outlook.com", "mail.messaging.microsoft.com", "mail.global.frontbridge.com"),
        "worldwide",
        "Exchange Online (deprecated MX)",
        "MX_M365",
        _MX_FIX,
    ),
    Fingerprint(
        "mx-verify",
        "mx",
        "host",
        # msv1.invalid.outlook.com: the older long form, seen as the only MX of a published BIND file
        # (suhaibchaudhry/dns-zones previous_records/andersoncanyon.net).
        ("msv1.invalid", "msv1.invalid.outlook.com"),
        None,
        "domain verification",
        "VERIFY_MX_M365",
        _VERIFY_FIX,
    ),
    # --- DNS hosting (NS) ---
    Fingerprint(
        "ns-worldwide",
        "ns",
        "host",
        ("bdm.microsoftonline.com",),
        "worldwide",
        "Microsoft 365 DNS hosting",
        "NS_M365",
        _NS_FIX,
    ),
    Fingerprint(
        "ns-china",
        "ns",
        "host",
        ("dns.partner.microsoftonline.cn",),
        "china",
        "Microsoft 365 DNS hosting (21Vianet)",
        "NS_M365",
        _NS_FIX,
    ),
    # Azure DNS (*.azure-dns.com/net/org/info) is a separate product and deliberately absent.
    # --- SPF ---
    Fingerprint(
        "spf-worldwide",
        "spf",
        "spf",
        ("spf.protection.outlook.com",),
        "worldwide",
        "Exchange Online sending",
        "SPF_M365",
        _SPF_FIX,
    ),
    Fingerprint(
        "spf-usgov",
        "spf",
        "spf",
        ("spf.protection.office365.us",),
        "usgov",
        "Exchange Online sending",
        "SPF_M365",
        _SPF_FIX,
    ),
    Fingerprint(
        "spf-china",
        "spf",
        "spf",
        ("spf.protection.partner.outlook.cn",),
        "china",
        "Exchange Online sending",
        "SPF_M365",
        _SPF_FIX,
    ),
    Fingerprint(
        "spf-germany",
        "spf",
        "spf",
        ("spf.protection.outlook.de",),
        "germany",
        "Exchange Online sending",
        "SPF_M365",
        _SPF_FIX,
    ),
    # --- Verification TXT ---
    Fingerprint(
        "txt-verify",
        "txt",
        "text",
        (r"^ms=ms\d{8}$",),
        None,
        "domain verification",
        "VERIFY_TXT_M365",
        _VERIFY_FIX,
    ),
    # --- Autodiscover ---
    Fingerprint(
        "autodiscover-worldwide",
        "autodiscover",
        "host",
        ("autodiscover.outlook.com",),
        "worldwide",
        "Exchange Online autodiscover",
        "AUTODISCOVER_M365",
        _AUTOD_FIX,
    ),
    Fingerprint(
        "autodiscover-usgov",
        "autodiscover",
        "host",
        ("autodiscover.office365.us", "autodiscover-dod.office365.us"),
        "usgov",
        "Exchange Online autodiscover",
        "AUTODISCOVER_M365",
        _AUTOD_FIX,
    ),
    Fingerprint(
        "autodiscover-china",
        "autodiscover",
        "host",
        ("autodiscover.partner.outlook.cn",),
        "china",
        "Exchange Online autodiscover",
        "AUTODISCOVER_M365",
        _AUTOD_FIX,
    ),
    Fingerprint(
        "autodiscover-germany",
        "autodiscover",
        "host",
        ("autodiscover-outlook.office.de",),
        "germany",
        "Exchange Online autodiscover",
        "AUTODISCOVER_M365",
        _AUTOD_FIX,
    ),
    # --- DKIM: old form (<tenant>.onmicrosoft.com) and new form (*.dkim.mail.microsoft, since May 2025) ---
    Fingerprint(
        "dkim-old",
        "dkim",
        "host",
        ("onmicrosoft.com",),
        "worldwide",
        "Exchange Online DKIM",
        "DKIM_M365",
        _DKIM_FIX,
    ),
    Fingerprint(
        "dkim-new",
        "dkim",
        "host",
        ("dkim.mail.microsoft",),
        "worldwide",
        "Exchange Online DKIM",
        "DKIM_M365",
        _DKIM_FIX,
    ),
    Fingerprint(
        "dkim-usgov",
        "dkim",
        "host",
        ("onmicrosoft.us",),
        "usgov",
        "Exchange Online DKIM",
        "DKIM_M365",
        _DKIM_FIX,
    ),
    Fingerprint(
        "dkim-china",
        "dkim",
        "host",
        ("partner.onmschina.cn",),
        "china",
        "Exchange Online DKIM",
        "DKIM_M365",
        _DKIM_FIX,
    ),
    # --- Skype for Business / Teams ---
    Fingerprint(
        "sip-worldwide",
        "sip",
        "host",
        ("online.lync.com",),
        "worldwide",
        "Skype for Business / Teams",
        "SIP_M365",
        _SIP_FIX,
    ),
    Fingerprint(
        "sip-china",
        "sip",
        "host",
        ("online.partner.lync.cn",),
        "china",
        "Skype for Business / Teams",
        "SIP_M365",
        _SIP_FIX,
    ),
    Fingerprint(
        "sip-usgov",
        "sip",
        "host",
        ("online.gov.skypeforbusiness.us", "online.dod.skypeforbusiness.us"),
        "usgov",
        "Skype for Business / Teams",
        "SIP_M365",
        _SIP_FIX,
    ),
    # --- Intune / device registration ---
    Fingerprint(
        "mdm-worldwide",
        "mdm",
        "host",
        ("enterpriseregistration.windows.net", "manage.microsoft.com"),
        "worldwide",
        "Intune / Entra device registration",
        "MDM_M365",
        _MDM_FIX,
    ),
    Fingerprint(
        "mdm-usgov",
        "mdm",
        "host",
        ("manage.microsoft.us", "enterpriseregistration.microsoftonline.us"),
        "usgov",
        "Intune / Entra device registration",
        "MDM_M365",
        _MDM_FIX,
    ),
    Fingerprint(
        "mdm-china",
        "mdm",
        "host",
        ("enterpriseregistration.partner.microsoftonline.cn",),
        "china",
        "Intune / Entra device registration",
        "MDM_M365",
        _MDM_FIX,
    ),
    # --- msoid ---
    Fingerprint(
        "msoid-worldwide",
        "msoid",
        "host",
        ("clientconfig.microsoftonline-p.net",),
        "worldwide",
        "Microsoft Online sign-in",
        "MSOID_M365",
        _MSOID_FIX,
    ),
    Fingerprint(
        "msoid-china",
        "msoid",
        "host",
        ("clientconfig.partner.microsoftonline-p.net.cn",),
        "china",
        "Microsoft Online sign-in",
        "MSOID_M365",
        _MSOID_FIX,
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
GATEWAYS: tuple[Fingerprint, ...] = tuple(
    Fingerprint(f"gateway-{name}", "mx", "host", suffixes, None, name, "MX_GATEWAY", _GATEWAY_FIX)
    for name, suffixes in (
        ("proofpoint", ("pphosted.com", "ppe-hosted.com", "proofpoint.com")),
        ("mimecast", ("mimecast.com", "mimecast.co.za", "mimecast-offshore.com")),
        ("barracuda", ("barracudanetworks.com", "cudamail.com")),
        ("cisco-secure-email", ("iphmx.com",)),
        ("broadcom-messagelabs", ("messagelabs.com",)),
        ("trend-micro", ("tmes.trendmicro.com", "tmes.trendmicro.eu", "tmes-anz.trendmicro.com")),
        ("sophos", ("hydra.sophos.com",)),
        ("hornetsecurity", ("hornetsecurity.com",)),
        ("forcepoint", ("mailcontrol.com",)),
        ("trellix", ("fireeyecloud.com",)),
        ("spamtitan", ("spamtitan.com",)),
        ("mailguard", ("mailguard.com.au",)),
        ("libraesva", ("libraesva.com",)),
        ("vade", ("vadesecure.com",)),
        ("securence", ("securence.com",)),
        ("codetwo", ("codetwo.online",)),
        ("exclaimer", ("exclaimer.net",)),
        # Cloudflare Email Security (formerly Area 1) inline in front of Office 365: mailstream-*.mxrecord.io/.mx
        # (cloudflare/cloudflare-docs content/email-security/deployment/inline/setup/
        # deployment-configuration-guide-office-365-mx.md).
        ("cloudflare-email-security", ("mxrecord.io", "mxrecord.mx")),
    )
)


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
