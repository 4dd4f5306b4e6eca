"""Microsoft 365 bought through a partner: the traces its tenant leaves in DNS, and where to cancel."""

from __future__ import annotations

import re

from dnscheck.fingerprints import clean_host

# Microsoft 365 sold through GoDaddy runs in a tenant GoDaddy names NETORGFT<digits>.onmicrosoft.com and publishes as
# a TXT record at the apex (Exlint/dashboard terraform/core/route53-email.tf) and in DKIM CNAME targets. The
# subscription is then cancelled at GoDaddy, not in the Microsoft 365 admin center.
PARTNER_TENANTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("GoDaddy", re.compile(r"(^|\.)netorgft\d+\.onmicrosoft\.com$", re.IGNORECASE)),
)


def match_partner(value: str) -> tuple[str, str] | None:
    """(partner, tenant) when a TXT value or a CNAME target names a partner-managed tenant."""
    host = clean_host(value.strip().strip('"'))
    for partner, pattern in PARTNER_TENANTS:
        m = pattern.search(host)
        if m:
            return partner, host[m.start() + len(m.group(1)) :]
    return None
