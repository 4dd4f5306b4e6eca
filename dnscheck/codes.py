"""Finding codes: stable identifiers that scripts may rely on, each with its severity.

One exception to "one code, one severity": LOOKUP_FAILED is `unknown` when the failed lookup is MX or NS
(the records that decide the verdict) and `warning` for a leftover record. A failed lookup counts as the worst
that record could have shown.

A code never changes meaning once published; new situations get new codes.
"""

from __future__ import annotations

from dnscheck.models import Finding, Record, Severity

B, U, W, INFO = Severity.BLOCKED, Severity.UNKNOWN, Severity.WARNING, Severity.INFO

CODES: dict[str, tuple[Severity, str]] = {
    # Mail still flows to, or DNS is still served by, Microsoft 365.
    "MX_M365": (B, "An MX record points at Exchange Online."),
    "MX_CNAME_M365": (B, "An MX host is a CNAME to Exchange Online."),
    "NS_M365": (B, "Microsoft 365 hosts the zone's DNS (NS records at Microsoft)."),
    "NS_PARENT_M365": (
        B,
        "The registry (parent zone) still delegates the domain to Microsoft 365 name servers.",
    ),
    "MX_INCONSISTENT": (B, "Some authoritative servers still return a Microsoft 365 MX while others do not."),
    # Leftovers: removal may fail or services may misbehave, but mail is not lost.
    "SPF_M365": (W, "The SPF record still authorises Microsoft 365 to send."),
    "AUTODISCOVER_M365": (W, "Autodiscover still points at Exchange Online."),
    "DKIM_M365": (W, "A DKIM selector is still a CNAME to Microsoft 365."),
    "VERIFY_TXT_M365": (W, "A Microsoft 365 domain-verification TXT record remains."),
    "VERIFY_MX_M365": (W, "A Microsoft 365 domain-verification MX record remains."),
    "SIP_M365": (W, "A Skype for Business / Teams record still points at Microsoft."),
    "MDM_M365": (W, "An Intune / device-registration record still points at Microsoft."),
    "MSOID_M365": (W, "The msoid CNAME still points at Microsoft."),
    "MX_GATEWAY": (W, "The MX points at a mail-security gateway that may relay into Microsoft 365."),
    "MX_NONE": (W, "The domain has no MX record and no address: it cannot receive mail."),
    "MX_NONE_IMPLICIT": (W, "The domain has no MX record; mail falls back to its A/AAAA address."),
    "LOOKUP_FAILED": (W, "A lookup failed, so that record could not be checked."),  # or U: see above
    "NS_CHILD_STALE": (W, "The zone's own NS records still name Microsoft 365 servers; the parent does not."),
    "NS_MISMATCH": (W, "The parent's NS set and the zone's own NS set differ."),
    "NS_LAME": (W, "A delegated server does not answer authoritatively for the zone."),
    "NS_UNREACHABLE": (W, "A delegated server never answers."),  # unknown under --mode authoritative
    "CACHE_PENDING": (W, "Caches may still hold the old Microsoft 365 answers (see safe_after)."),
    # Facts worth knowing.
    "MX_NULL": (INFO, "The domain publishes a null MX (RFC 7505): it receives no mail on purpose."),
    "SUBDOMAIN_INPUT": (INFO, "The name checked is a subdomain of a registered domain."),
    "SERIAL_MISMATCH": (INFO, "The authoritative servers serve different SOA serials."),
    "AUTHORITATIVE_SKIPPED": (
        INFO,
        "No authoritative server could be reached; the verdict rests on the resolver.",
    ),
    "OUT_OF_ZONE": (INFO, "A name outside the zone file (--zone-file) was not looked up."),
    # Could not tell.
    "DOMAIN_NXDOMAIN": (U, "The domain does not exist (NXDOMAIN)."),
    "INPUT_INVALID": (U, "The input is not a domain name that can be checked."),
}


def severity_of(code: str) -> Severity:
    return CODES[code][0]


def finding(
    code: str,
    message: str,
    remediation: str = "",
    record: Record | None = None,
    cloud: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    """A finding with its code's severity (or `severity`, for LOOKUP_FAILED and NS_UNREACHABLE)."""
    return Finding(code, severity or CODES[code][0], message, remediation, record, cloud)
