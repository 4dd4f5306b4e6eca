"""Finding codes: stable identifiers that scripts may rely on, each declared once, as data.

A row says the code's default severity, the other severities a rule may give it (and why), and what the finding is
about (`Topic`): the runbook derives its step from the topic, never from a list of codes, so a new code cannot fall
through. Its words live in `dnscheck.catalogue`, looked up when a report is rendered.

A code never changes meaning once published; new situations get new codes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from dnscheck.i18n import N_
from dnscheck.models import Finding, Record, Severity


class Topic(enum.StrEnum):
    """What a finding is about. The runbook's steps follow from it."""

    MAIL = "mail"  # where mail for the domain goes (MX, its targets, MTA-STS)
    DNS = "dns"  # who serves the zone: NS, the delegation, the servers, DNSSEC
    LEFTOVER = (
        "leftover"  # records Microsoft 365 asked for that do not route mail (SPF, DKIM, autodiscover...)
    )
    TENANT = "tenant"  # the domain's place in a Microsoft 365 tenant
    TIMING = "timing"  # caches that may still hold old answers
    INPUT = "input"  # the name given, or the domain's existence
    RECORD = "record"  # LOOKUP_FAILED: about whatever record failed (see topic_of)


B, U, W, INFO = Severity.BLOCKED, Severity.UNKNOWN, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    topic: Topic
    summary: str  # one line for the README's table and --help; a message id
    also: tuple[Severity, ...] = ()  # other severities a rule may give it
    why_also: str = ""  # when it takes them (for the README)


CODES: dict[str, Code] = {
    c.code: c
    for c in (
        # Mail still flows to, or DNS is still served by, Microsoft 365.
        Code("MX_M365", B, Topic.MAIL, N_("An MX record points at Exchange Online.")),
        Code("MX_CNAME_M365", B, Topic.MAIL, N_("An MX host is a CNAME to Exchange Online.")),
        Code(
            "MX_WILDCARD_M365",
            W,
            Topic.MAIL,
            N_("A wildcard MX still sends the mail of every other subdomain to Exchange Online."),
        ),
        Code(
            "MX_INCONSISTENT",
            B,
            Topic.MAIL,
            N_(
                "Some authoritative servers (or the resolver) still return a Microsoft 365 MX and others do not."
            ),
        ),
        Code("NS_M365", B, Topic.DNS, N_("Microsoft 365 hosts the zone's DNS (NS records at Microsoft).")),
        Code(
            "NS_PARENT_M365",
            B,
            Topic.DNS,
            N_("The registry (parent zone) still delegates the domain to Microsoft 365 name servers."),
        ),
        # Leftovers: removal may fail or services may misbehave, but mail is not lost.
        Code("SPF_M365", W, Topic.LEFTOVER, N_("The SPF record still authorises Microsoft 365 to send.")),
        Code("AUTODISCOVER_M365", W, Topic.LEFTOVER, N_("Autodiscover still points at Exchange Online.")),
        Code("DKIM_M365", W, Topic.LEFTOVER, N_("A DKIM selector is still a CNAME to Microsoft 365.")),
        Code(
            "VERIFY_TXT_M365",
            W,
            Topic.LEFTOVER,
            N_("A Microsoft 365 domain-verification TXT record remains."),
            also=(INFO,),
            why_also=N_("info for a verification form that Microsoft does not document"),
        ),
        Code(
            "VERIFY_MX_M365", W, Topic.LEFTOVER, N_("A Microsoft 365 domain-verification MX record remains.")
        ),
        Code(
            "SIP_M365",
            W,
            Topic.LEFTOVER,
            N_("A Skype for Business / Teams record still points at Microsoft."),
        ),
        Code(
            "MDM_M365",
            W,
            Topic.LEFTOVER,
            N_("An Intune / device-registration record still points at Microsoft."),
        ),
        Code("MSOID_M365", W, Topic.LEFTOVER, N_("The msoid CNAME still points at Microsoft.")),
        Code(
            "MX_GATEWAY",
            W,
            Topic.MAIL,
            N_("The MX points at a mail-security gateway that may relay into Microsoft 365."),
        ),
        Code(
            "MX_TARGET_MISSING",
            B,
            Topic.MAIL,
            N_("An MX host has no address (NXDOMAIN or no A/AAAA): mail for it has nowhere to go."),
            also=(W,),
            why_also=N_("warning when other MX hosts of the domain still have an address"),
        ),
        Code(
            "MX_RELATIVE_TYPO",
            B,
            Topic.MAIL,
            N_(
                "An MX host is a Microsoft 365 or gateway name with the domain appended (missing trailing dot)."
            ),
        ),
        Code(
            "CNAME_RELATIVE_TYPO",
            W,
            Topic.LEFTOVER,
            N_("A Microsoft 365 CNAME or SRV target has the domain appended (missing trailing dot)."),
        ),
        Code(
            "MX_NONE",
            W,
            Topic.MAIL,
            N_("The domain has no MX record and no address: it cannot receive mail."),
        ),
        Code(
            "MX_NONE_IMPLICIT",
            W,
            Topic.MAIL,
            N_("The domain has no MX record; mail falls back to its A/AAAA address."),
        ),
        Code(
            "LOOKUP_FAILED",
            W,
            Topic.RECORD,
            N_("A lookup failed, so that record could not be checked."),
            also=(U,),
            why_also=N_(
                "unknown when the failed lookup decides where mail goes (MX, NS, the delegation), and for "
                "the tenant check"
            ),
        ),
        Code(
            "MTA_STS_MX_MISMATCH",
            B,
            Topic.MAIL,
            N_("The MTA-STS policy is enforced and lists none of the MX hosts published now."),
        ),
        Code(
            "MTA_STS_M365",
            W,
            Topic.MAIL,
            N_("The MTA-STS policy still lists Microsoft 365 MX hosts."),
        ),
        Code(
            "TENANT_MOVED",
            B,
            Topic.TENANT,
            N_("The domain is in a Microsoft 365 tenant other than the ones expected (--expect-tenant)."),
        ),
        Code(
            "TENANT_PRESENT",
            W,
            Topic.TENANT,
            N_("The domain is a verified domain of a Microsoft 365 tenant (--tenant-check)."),
        ),
        Code(
            "TENANT_PRESENT_EXPECTED",
            W,
            Topic.TENANT,
            N_("The domain is in one of the expected Microsoft 365 tenants (--expect-tenant)."),
        ),
        Code(
            "NS_CHILD_STALE",
            W,
            Topic.DNS,
            N_("The zone's own NS records still name Microsoft 365 servers; the parent does not."),
        ),
        Code(
            "NS_MISMATCH",
            W,
            Topic.DNS,
            N_("The parent's NS set and the zone's own NS set differ."),
            also=(U,),
            why_also=N_("unknown with --mode authoritative when the parent returned no delegation"),
        ),
        Code("NS_LAME", W, Topic.DNS, N_("A delegated server does not answer authoritatively for the zone.")),
        Code(
            "NS_UNREACHABLE",
            W,
            Topic.DNS,
            N_("A delegated server never answers."),
            also=(U,),
            why_also=N_("unknown with --mode authoritative"),
        ),
        Code(
            "CACHE_PENDING",
            W,
            Topic.TIMING,
            N_("Caches may still hold the old Microsoft 365 answers (see safe_after)."),
        ),
        # Facts worth knowing.
        Code(
            "MX_NULL",
            INFO,
            Topic.MAIL,
            N_("The domain publishes a null MX (RFC 7505): it receives no mail on purpose."),
        ),
        Code(
            "M365_PARTNER_MANAGED",
            INFO,
            Topic.TENANT,
            N_("The records name a tenant that a partner (e.g. GoDaddy) manages: cancel there."),
        ),
        Code(
            "SUBDOMAIN_INPUT",
            INFO,
            Topic.INPUT,
            N_("The name checked is a subdomain of a registered domain."),
        ),
        Code(
            "SERIAL_MISMATCH", INFO, Topic.DNS, N_("The authoritative servers serve different SOA serials.")
        ),
        Code(
            "AUTHORITATIVE_SKIPPED",
            INFO,
            Topic.DNS,
            N_("No authoritative server could be reached; the verdict rests on the resolver."),
        ),
        Code(
            "OUT_OF_ZONE",
            INFO,
            Topic.INPUT,
            N_("An MX host outside the zone file (--zone-file) was not looked up: never safe without it."),
        ),
        Code(
            "MTA_STS_NOT_FETCHED",
            INFO,
            Topic.MAIL,
            N_("The domain publishes MTA-STS; its policy was not fetched (--no-https or --zone-file)."),
        ),
        Code(
            "TENANT_FEDERATED",
            INFO,
            Topic.TENANT,
            N_("Sign-in for the domain is federated to another identity provider (--tenant-check)."),
        ),
        Code(
            "TENANT_ABSENT",
            INFO,
            Topic.TENANT,
            N_("No Microsoft 365 tenant holds the domain (--tenant-check)."),
        ),
        # DNSSEC across the move (dnscheck/dnssec.py).
        Code(
            "DNSSEC_DS_UNSIGNED",
            B,
            Topic.DNS,
            N_("The parent publishes a DS for the zone, but its servers serve no DNSKEY: validation fails."),
        ),
        Code(
            "DNSSEC_DS_MISMATCH",
            B,
            Topic.DNS,
            N_("A server's keys match no DS at the parent, or do not sign its DNSKEY set: validation fails."),
        ),
        Code(
            "DNSSEC_BOGUS",
            B,
            Topic.DNS,
            N_("Validating resolvers reject the domain's answers: validating senders cannot deliver mail."),
        ),
        Code(
            "DNSSEC_SIG_EXPIRING",
            W,
            Topic.DNS,
            N_("A signature the domain depends on expires within a week or before its TTL runs out."),
        ),
        Code(
            "DNSSEC_ALGORITHM",
            W,
            Topic.DNS,
            N_("A DNSKEY algorithm or DS digest type that current guidance deprecates (RFC 8624, RFC 9905)."),
        ),
        Code("DNSSEC_SIGNED", INFO, Topic.DNS, N_("The DNSSEC chain from the parent's DS is whole.")),
        Code(
            "DNSSEC_INSECURE",
            INFO,
            Topic.DNS,
            N_("The zone is signed but the parent publishes no DS: it is not validated."),
        ),
        Code(
            "DNSSEC_UNCHECKED",
            INFO,
            Topic.DNS,
            N_("DNSSEC was not checked (a zone file without --parent-ds, or the parent did not answer)."),
            also=(W,),
            why_also=N_("warning when the parent's servers were asked for the DS and none answered"),
        ),
        Code(
            "DNSSEC_MX_MICROSOFT",
            INFO,
            Topic.MAIL,
            N_("The MX is Exchange Online's DNSSEC form (mx.microsoft), which has its own rules."),
        ),
        # Could not tell.
        Code("DOMAIN_NXDOMAIN", U, Topic.INPUT, N_("The domain does not exist (NXDOMAIN).")),
        Code("INPUT_INVALID", U, Topic.INPUT, N_("The input is not a domain name that can be checked.")),
    )
}

# LOOKUP_FAILED is about the record that failed: the record type says which part of the move it concerns.
_TOPIC_OF_TYPE = {"MX": Topic.MAIL, "NS": Topic.DNS, "SOA": Topic.DNS, "DS": Topic.DNS, "DNSKEY": Topic.DNS}

# ... or, for the lookups that are not DNS records, what was asked.
_TOPIC_OF_VARIANT = {"tenant": Topic.TENANT, "mta_sts": Topic.MAIL, "txt_sts": Topic.MAIL}


def severity_of(code: str) -> Severity:
    return CODES[code].severity


def topic_of(f: Finding) -> Topic:
    """What a finding is about; for LOOKUP_FAILED, the failed record's (MX -> mail, NS -> DNS, else leftover).

    A LOOKUP_FAILED without a record (the check itself failed) is about mail: the most conservative reading."""
    topic = CODES[f.code].topic
    if topic is not Topic.RECORD:
        return topic
    if f.variant in _TOPIC_OF_VARIANT:
        return _TOPIC_OF_VARIANT[f.variant]
    if f.record is None:
        return Topic.MAIL
    return _TOPIC_OF_TYPE.get(f.record.type, Topic.MAIL if f.severity is U else Topic.LEFTOVER)


def finding(
    code: str,
    *,
    variant: str | None = None,
    record: Record | None = None,
    cloud: str | None = None,
    severity: Severity | None = None,
    **args: Any,
) -> Finding:
    """A finding: its code's severity (or `severity`, one its row allows), and the arguments of its message."""
    row = CODES[code]
    if severity is not None and severity is not row.severity and severity not in row.also:
        raise ValueError(f"{code} cannot be {severity}")
    return Finding(
        code,
        severity or row.severity,
        tuple(args.items()),
        record=record,
        cloud=cloud,
        variant=variant,
    )
