"""The words of every finding: message and remediation templates, keyed by code (or CODE.variant).

Templates are English message ids (`N_`), translated when rendered, then filled with the finding's arguments
(`str.format`). Arguments are data (names, numbers, reasons), never sentences. Lookup order for the message:
"CODE.variant", then "*.variant" (a shape shared by several codes, such as a fingerprint hit on an MX), then
"CODE". The remediation is the first entry of that order that has one, else the code's own.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from dnscheck.clouds import cloud_name, service_name
from dnscheck.i18n import N_, _, number, when
from dnscheck.reasons import translate


@dataclass(frozen=True)
class Message:
    text: str
    fix: str | None = None  # None: take the code's own remediation


_MX_FIX = N_("Change the MX record at the DNS host to the new mail provider's servers.")
_NS_FIX = N_(
    "Create MX and every other record at the new DNS host first, then change the NS delegation at the registrar."
)
_RETRY = N_("Re-run the check, or use --resolver to ask another resolver.")
_DS_FIX = N_(
    "Safe orders: remove the DS at the registrar, wait out the parent's DS TTL (see safe_after), then move NS; or a "
    "multi-signer move (each operator publishes the other's keys, a DS for both at the parent, one algorithm, no "
    "key rollover during the move)."
)
_NO_MX_FIX = N_(
    "Publish an MX record for the new mail provider, or a null MX (0 .) if the domain takes no mail."
)

MESSAGES: dict[str, Message] = {
    # --- shapes shared by the fingerprint hits (the code gives the remediation) ---
    "*.mx": Message(N_("MX {value} is {service} ({cloud}).")),
    "*.mx_cname": Message(N_("MX host {host} is a CNAME to {target} ({service}).")),
    "*.ns": Message(
        N_(
            "NS {names}: {service} serves the zone {zone}. Until the NS delegation moves, an MX change made at "
            "another DNS host has no effect."
        )
    ),
    "*.spf": Message(N_("SPF record includes {service} ({cloud}).")),
    "*.text": Message(N_("Microsoft 365 domain-verification TXT record.")),
    "*.name": Message(N_("{name} {type} {value}: {service} ({cloud}).")),
    # --- mail ---
    "MX_M365": Message(N_("An MX record points at Exchange Online."), _MX_FIX),
    "MX_CNAME_M365": Message(
        N_("An MX host is a CNAME to Exchange Online."),
        N_("Point the MX at the new mail provider's host, or change the CNAME at the MX host's DNS."),
    ),
    "MX_INCONSISTENT": Message(
        N_(
            "Still returning the Microsoft 365 MX {value}: {stale}. Not returning it: {fresh}. "
            "Some senders will still deliver to Microsoft 365."
        ),
        N_(
            "Make every server serve the new zone (check zone transfers to secondaries), then wait for the MX TTL."
        ),
    ),
    "MX_GATEWAY": Message(
        N_("MX {value} is a {service} gateway; it may relay into Microsoft 365."),
        N_(
            "Check where the gateway delivers: if its outbound route is Exchange Online, change the route before "
            "removing the domain."
        ),
    ),
    "MX_TARGET_MISSING": Message(
        N_("MX {value}: {host} has no address ({why}); mail cannot be delivered there."),
        N_("Give {host} an A/AAAA record, or point the MX at a host that receives mail."),
    ),
    "MX_RELATIVE_TYPO": Message(
        N_(
            "MX {value} is {intended} with the domain appended: the record was written without its trailing dot, "
            "so mail goes to a name that does not exist."
        ),
        N_("Write the MX target with a trailing dot ({intended}.), or point it at the new mail provider."),
    ),
    "CNAME_RELATIVE_TYPO": Message(
        N_("{name} {type} {value} is {intended} with the domain appended (missing trailing dot)."),
        N_("Delete the record, or write its target with a trailing dot ({intended}.)."),
    ),
    "M365_PARTNER_MANAGED": Message(
        N_("{value} names the tenant {tenant}, which {partner} manages for the customer."),
        N_("Cancel the Microsoft 365 subscription with {partner}, not in the Microsoft 365 admin center."),
    ),
    "MX_NONE": Message(N_("{domain} has no MX record and no address: it cannot receive mail."), _NO_MX_FIX),
    "MX_NONE_IMPLICIT": Message(
        N_("{domain} has no MX record; senders fall back to its address {address}."), _NO_MX_FIX
    ),
    "MX_NULL": Message(N_("{domain} publishes a null MX (RFC 7505)."), ""),
    "MX_NULL.mixed": Message(
        N_(
            "{domain} publishes a null MX (RFC 7505). It is mixed with other MX records, which RFC 7505 forbids; "
            "senders use those."
        ),
        N_("Remove the other MX records or the null MX."),
    ),
    # --- DNS hosting and the delegation ---
    "NS_M365": Message(N_("Microsoft 365 hosts the zone's DNS (NS records at Microsoft)."), _NS_FIX),
    "NS_PARENT_M365": Message(
        N_(
            "The parent zone {parent} delegates {zone} to {names} (Microsoft 365), whatever the zone's own "
            "records say. Until the delegation moves, an MX change made at another DNS host has no effect."
        ),
        N_(
            "Change the NS delegation at the registrar to the new DNS host, after every record (MX first) "
            "exists there."
        ),
    ),
    "NS_CHILD_STALE": Message(
        N_("The zone's own NS RRset still names {names}, but the parent no longer delegates there."),
        N_("Update the NS records inside the zone at the new DNS host to match the delegation."),
    ),
    "NS_MISMATCH": Message(
        N_(
            "The parent's and the zone's NS sets differ "
            "(only at the parent: {at_parent}; only in the zone: {at_child})."
        ),
        N_("Make the NS records in the zone and at the registrar the same."),
    ),
    "NS_MISMATCH.no_delegation": Message(
        N_("The parent zone {parent} returned no delegation for {zone}."),
        N_("Check the delegation at the registrar."),
    ),
    "NS_LAME": Message(
        N_("{host} ({addresses}) is lame for {zone}: {reason}."),
        N_("Configure the zone on this server, or remove it from the delegation."),
    ),
    "NS_LAME.no_aa": Message(N_("{host} ({addresses}) is lame for {zone}: it answers without the AA flag.")),
    "NS_LAME.no_soa": Message(N_("{host} ({addresses}) is lame for {zone}: it has no SOA for the zone.")),
    "NS_UNREACHABLE": Message(
        N_("{host} ({addresses}) never answered: {reason}."),
        N_("Fix or remove this server from the delegation and the zone's NS records."),
    ),
    "SERIAL_MISMATCH": Message(
        N_("The servers serve different SOA serials: {serials}."),
        N_("A secondary may not have transferred the latest zone yet."),
    ),
    "AUTHORITATIVE_SKIPPED": Message(
        N_("Authoritative servers not asked: {reason}. The verdict rests on the resolver's view alone."),
        N_("Run from a network with outbound DNS to see the parent's delegation and every server."),
    ),
    # --- leftovers ---
    "SPF_M365": Message(
        N_("The SPF record still authorises Microsoft 365 to send."),
        N_("Remove the Microsoft 365 include from the SPF record (keep the new provider's)."),
    ),
    "MX_WILDCARD_M365": Message(
        N_(
            "The wildcard MX {name} {value} sends the mail of every subdomain without records of its own to "
            "Exchange Online."
        ),
        N_("Delete the wildcard MX, or point it at the new mail provider, before the domain leaves Microsoft 365."),
    ),
    "AUTODISCOVER_M365": Message(
        N_("Autodiscover still points at Exchange Online."),
        N_("Delete the autodiscover CNAME, or point it at the new mail provider."),
    ),
    "DKIM_M365": Message(
        N_("A DKIM selector is still a CNAME to Microsoft 365."),
        N_("Delete the selector1/selector2 CNAMEs after disabling DKIM signing in Microsoft 365."),
    ),
    "VERIFY_TXT_M365": Message(
        N_("A Microsoft 365 domain-verification TXT record remains."),
        N_("Delete the verification record once the domain has been removed from Microsoft 365."),
    ),
    "VERIFY_TXT_M365.undocumented": Message(
        N_(
            "The TXT record {value} looks like a Microsoft 365 domain verification, but it is not the form "
            "Microsoft documents (MS=ms followed by eight digits); it may come from a reseller's provisioning."
        ),
        N_("Delete it too if nothing else on the domain uses it."),
    ),
    "VERIFY_MX_M365": Message(
        N_("A Microsoft 365 domain-verification MX record remains."),
        N_("Delete the verification record once the domain has been removed from Microsoft 365."),
    ),
    "SIP_M365": Message(
        N_("A Skype for Business / Teams record still points at Microsoft."),
        N_("Delete the Skype for Business / Teams SRV and CNAME records."),
    ),
    "MDM_M365": Message(
        N_("An Intune / device-registration record still points at Microsoft."),
        N_(
            "Delete the enterpriseregistration / enterpriseenrollment CNAMEs once Intune no longer uses the domain."
        ),
    ),
    "MSOID_M365": Message(N_("The msoid CNAME still points at Microsoft."), N_("Delete the msoid CNAME.")),
    # --- timing ---
    "CACHE_PENDING": Message(
        N_("Caches may hold the old answers until {safe_after} ({seconds} s after the change)."),
        N_("Wait until safe_after before removing the domain or cancelling."),
    ),
    # --- the input ---
    "DOMAIN_NXDOMAIN": Message(
        N_("{domain} does not exist (NXDOMAIN)."),
        N_("Check the spelling, or whether the domain has expired."),
    ),
    "INPUT_INVALID": Message(
        N_("{reason}"), N_("Give a registered domain name, e.g. contoso.com, an e-mail address or a URL.")
    ),
    "SUBDOMAIN_INPUT": Message(
        N_("{domain} is a subdomain of {registered}; it is checked as given."),
        N_("Check {registered} too if it was also added to Microsoft 365."),
    ),
    "OUT_OF_ZONE": Message(
        N_(
            "MX host {name} lies outside the zone file and was not looked up: whether mail can be delivered "
            "there is unknown, so the check does not say safe."
        ),
        N_(
            "Give --resolver to follow it through that resolver, or check the domain live once the zone is published."
        ),
    ),
    # --- MTA-STS (RFC 8461) ---
    "MTA_STS_M365": Message(
        N_(
            "The MTA-STS policy (mode {mode}, id {id}) lists Microsoft 365 MX hosts: {patterns}. Senders that "
            "enforce MTA-STS keep it for up to {max_age} s and refuse an MX it does not list."
        ),
        N_(
            "Publish a policy that lists the new MX hosts beside the current ones, with a new id in the _mta-sts "
            "TXT record, at least max_age ({max_age} s) before changing the MX; drop Microsoft's hosts from it "
            "after the change."
        ),
    ),
    "MTA_STS_MX_MISMATCH": Message(
        N_(
            "The MTA-STS policy is in enforce mode and none of its mx patterns ({patterns}) matches the MX hosts "
            "published now ({hosts}): senders that enforce MTA-STS refuse the mail for up to {max_age} s."
        ),
        N_(
            "Publish now a policy whose mx lines match the MX hosts published (or with mode: testing), with a new "
            "id in the _mta-sts TXT record."
        ),
    ),
    "MTA_STS_NOT_FETCHED": Message(
        N_("The domain publishes MTA-STS (id {id}); the policy {url} was not fetched."),
        N_("Check it live (without --no-https or --zone-file) before changing the MX."),
    ),
    # --- the tenant check (--tenant-check) ---
    "TENANT_PRESENT": Message(
        N_(
            "{domain} is a verified domain of the Microsoft 365 tenant {tenant_id} ({cloud}, sign-in {namespace}). "
            "With the MX moved away, mail from other Microsoft 365 organisations still reaches that tenant's "
            "mailboxes until the domain is removed from it."
        ),
        N_(
            "Remove the domain from the tenant (Microsoft 365 admin center, Settings, Domains) once no user, group "
            "or alias uses it; then check again."
        ),
    ),
    "TENANT_PRESENT_EXPECTED": Message(
        N_(
            "{domain} is in the tenant {tenant_id} ({cloud}), one of those expected. If it is the tenant being "
            "left, the domain has not been removed yet; if it is the new one, the move is done."
        ),
        N_("If this is the tenant being left, remove the domain there once no user, group or alias uses it."),
    ),
    "TENANT_MOVED": Message(
        N_(
            "{domain} is in the tenant {tenant_id} ({cloud}), which is none of the tenants expected ({expected}): "
            "someone else holds the domain."
        ),
        N_(
            "Find out who administers tenant {tenant_id} before going further; a domain verified elsewhere cannot "
            "be added to the new tenant."
        ),
    ),
    "TENANT_FEDERATED": Message(
        N_("Sign-in for {domain} is federated to {federation_host}."),
        N_(
            "A federated domain must be converted to managed sign-in before it can be removed from the tenant."
        ),
    ),
    "TENANT_FEDERATED.partner": Message(
        N_(
            "Sign-in for {domain} is federated to {federation_host}: the tenant is managed by the partner "
            "{partner}."
        ),
        N_("Cancel and remove the domain through {partner}, which manages the subscription."),
    ),
    "TENANT_ABSENT": Message(N_("No Microsoft 365 tenant holds {domain} ({cloud})."), ""),
    # --- DNSSEC (dnscheck/dnssec.py) ---
    "DNSSEC_DS_UNSIGNED": Message(
        N_(
            "The parent publishes a DS for {zone}, but {servers} serve no DNSKEY: validating resolvers answer "
            "SERVFAIL for every name of the domain, and validating senders cannot deliver mail."
        ),
        _DS_FIX,
    ),
    "DNSSEC_DS_UNSIGNED.planned": Message(
        N_(
            "The parent publishes a DS for {zone}, but the planned zone has no DNSKEY: once it is published, "
            "validating resolvers will answer SERVFAIL for every name of the domain."
        ),
        _DS_FIX,
    ),
    "DNSSEC_DS_MISMATCH.no_match": Message(
        N_(
            "No DNSKEY served by {servers} matches a DS of {zone} at the parent (DS: {ds}; keys: {keys}): "
            "validating resolvers that ask these servers answer SERVFAIL."
        ),
        _DS_FIX,
    ),
    "DNSSEC_DS_MISMATCH.not_signing": Message(
        N_(
            "The keys of {zone} that match the parent's DS ({ds}) do not sign the DNSKEY set served by {servers}: "
            "validating resolvers that ask these servers answer SERVFAIL."
        ),
        _DS_FIX,
    ),
    "DNSSEC_DS_MISMATCH.missing_key": Message(
        N_(
            "{servers} do not publish the key(s) {tags} that {signers} sign {zone} with: a resolver that takes "
            "the keys from one and the answers from the other fails to validate."
        ),
        N_(
            "In a multi-signer setup every server must publish every operator's keys (DNSKEY), and the parent "
            "must hold a DS for each operator's key; keep one algorithm and do not roll keys during the move."
        ),
    ),
    "DNSSEC_DS_MISMATCH.planned": Message(
        N_(
            "The planned zone's keys match no DS of {zone} at the parent ({ds}), or do not sign its DNSKEY set: "
            "once it is published, validating resolvers will answer SERVFAIL."
        ),
        _DS_FIX,
    ),
    "DNSSEC_DS_MISMATCH": Message(N_("The keys of {zone} do not match the parent's DS."), _DS_FIX),
    "DNSSEC_BOGUS.resolver": Message(
        N_(
            "The validating resolver {resolver} rejects {name} (SERVFAIL, answered with checking disabled; "
            "detail: {ede}): validating senders, Exchange Online among them, cannot deliver mail now."
        ),
        N_(
            "Make the DS at the parent match the keys the servers serve, or remove the DS at the registrar; "
            "then wait for the DS TTL."
        ),
    ),
    "DNSSEC_BOGUS.server": Message(
        N_(
            "{type} {name} from {servers} does not validate against that server's keys of {zone}: {reason}. "
            "Validating senders that reach this server cannot deliver mail."
        ),
        N_("Re-sign the zone on that server (check its signer and zone transfers)."),
    ),
    "DNSSEC_BOGUS": Message(N_("Validating resolvers reject the domain's answers."), _DS_FIX),
    "DNSSEC_SIG_EXPIRING": Message(
        N_("The RRSIG of {type} {name} from {servers} expires at {expires} (in {hours} h)."),
        N_("Make sure the signer on that server re-signs the zone before then (is automatic signing on?)."),
    ),
    "DNSSEC_ALGORITHM.key": Message(
        N_(
            "{zone} is signed with algorithm {number} ({algorithm}), which current guidance deprecates "
            "(RFC 8624, RFC 9905); validating resolvers may treat the zone as unsigned."
        ),
        N_("Roll to a current algorithm (e.g. 13, ECDSAP256SHA256) with an algorithm rollover."),
    ),
    "DNSSEC_ALGORITHM.digest": Message(
        N_(
            "A DS of {zone} at the parent uses digest type {number} ({digest}), which must no longer be used."
        ),
        N_("Replace it at the registrar with a SHA-256 (type 2) DS of the same key."),
    ),
    "DNSSEC_ALGORITHM": Message(
        N_("{zone} uses a deprecated DNSSEC algorithm."),
        N_("Roll to a current algorithm (e.g. 13, ECDSAP256SHA256) with an algorithm rollover."),
    ),
    "DNSSEC_SIGNED": Message(
        N_("{zone} is signed and every server's keys match the parent's DS ({ds})."), ""
    ),
    "DNSSEC_SIGNED.resolver": Message(N_("The resolver {resolver} validated the answers (AD set).")),
    "DNSSEC_SIGNED.planned": Message(N_("The planned zone's keys match the parent's DS ({ds}) and sign it.")),
    "DNSSEC_INSECURE": Message(
        N_(
            "{zone} is signed, but the parent publishes no DS: resolvers do not validate it, and moving it cannot "
            "break validation (the DS must be added again, for the new host's keys, after the move)."
        ),
        "",
    ),
    "DNSSEC_INSECURE.planned": Message(
        N_("The parent publishes no DS for {zone}: the planned zone cannot fail validation.")
    ),
    "DNSSEC_UNCHECKED": Message(N_("DNSSEC of {zone} was not checked."), _RETRY),
    "DNSSEC_UNCHECKED.failed": Message(
        N_("DNSSEC of {zone} could not be checked: no parent server answered the DS question ({reason})."),
        _RETRY,
    ),
    "DNSSEC_UNCHECKED.planned": Message(
        N_("DNSSEC was not checked: the zone file alone cannot know the parent's DS."),
        N_("Add --parent-ds live (ask the parent's servers) or --parent-ds FILE (the DS records)."),
    ),
    "DNSSEC_MX_MICROSOFT": Message(
        N_(
            "The MX {hosts} is Exchange Online's DNSSEC form (inbound SMTP DANE). It requires the domain's MX at "
            "priority 0 or 10 and no fallback MX; leaving it means disabling DNSSEC/DANE for the domain in "
            "Exchange Online as well as changing the MX."
        ),
        N_(
            "Before moving mail away, disable inbound DANE/DNSSEC for the domain in Exchange Online "
            "(Disable-DnssecForVerifiedDomain); keep one MX of priority 0 or 10 while it is enabled."
        ),
    ),
    # --- lookups that could not tell ---
    "LOOKUP_FAILED": Message(N_("{type} lookup for {name} failed: {reason}."), _RETRY),
    "LOOKUP_FAILED.mx": Message(
        N_("{type} lookup for {name} failed: {reason}. Mail routing cannot be determined.")
    ),
    "LOOKUP_FAILED.ns": Message(
        N_("{type} lookup for {name} failed: {reason}. Who hosts the zone's DNS cannot be determined.")
    ),
    "LOOKUP_FAILED.txt": Message(
        N_("{type} lookup for {name} failed: {reason}. SPF and verification records could not be checked.")
    ),
    "LOOKUP_FAILED.address": Message(
        N_(
            "{type} lookup for {name} failed: {reason}. With no MX, mail would fall back to this address; "
            "it could not be checked."
        )
    ),
    "LOOKUP_FAILED.overloaded": Message(
        N_(
            "Lookups for this domain ran out of time while resolver {resolver} left {share} of this run's queries "
            "unanswered: it was overloaded or rate-limiting, so this result says nothing about the domain."
        ),
        N_(
            "Check it again with fewer queries per second (--rate, or a lower --concurrency), or share the load "
            "with another --resolver."
        ),
    ),
    "LOOKUP_FAILED.no_ns": Message(
        N_("No NS records found for the zone holding {domain}."), N_("Check the delegation at the registrar.")
    ),
    "LOOKUP_FAILED.mx_address": Message(
        N_(
            "Address lookup for MX host {host} failed: {reason}. Whether mail can be delivered there is unknown."
        )
    ),
    "LOOKUP_FAILED.mx_ip": Message(
        N_(
            "MX {value} names an IP address, not a host name (RFC 5321 section 5.1): most senders ignore it, "
            "some deliver to that address, and whose server it is cannot be checked."
        ),
        N_("Replace it with the mail server's host name."),
    ),
    "LOOKUP_FAILED.mx_cname": Message(
        N_("CNAME of MX host {host} could not be followed: {reason}."),
        N_("Re-run the check; if it persists, ask the MX host's DNS operator."),
    ),
    "LOOKUP_FAILED.name": Message(
        N_("{name} could not be checked: {reason}."),
        N_("Re-run the check; if it persists, look at this name at the DNS host."),
    ),
    "LOOKUP_FAILED.server": Message(
        N_(
            "Name server {host} ({address}) did not answer {types} for the zone: {reason}. It may still serve "
            "the old records, so the change cannot be confirmed on every server."
        ),
        N_("Re-run the check; if it persists, ask the DNS host to fix or remove this server."),
    ),
    "LOOKUP_FAILED.probe": Message(
        N_("Authoritative probing failed: {reason}."),
        N_("Allow outbound DNS (port 53) to the domain's servers, or use --mode resolver."),
    ),
    "LOOKUP_FAILED.no_authoritative": Message(
        N_("No server answered authoritatively for the zone."), N_("Check the delegation and the servers.")
    ),
    "LOOKUP_FAILED.txt_sts": Message(
        N_("{type} lookup for {name} failed: {reason}. Whether the domain publishes MTA-STS cannot be told.")
    ),
    "LOOKUP_FAILED.mta_sts": Message(
        N_(
            "The MTA-STS policy {name} could not be read: {reason}. Senders that cached an earlier policy keep "
            "using it."
        ),
        N_(
            "Serve the policy over HTTPS with a valid certificate, status 200, text/plain and no redirect, or "
            "remove the _mta-sts TXT record; then check again."
        ),
    ),
    "LOOKUP_FAILED.tenant": Message(
        N_(
            "The tenant check for {domain} failed at {name}: {reason}. Whether a tenant still holds the domain is "
            "unknown."
        ),
        N_("Re-run later (Microsoft may be limiting the rate), or with a longer --timeout."),
    ),
    "LOOKUP_FAILED.crashed": Message(
        N_("The check failed: {reason}"), N_("Re-run with -v and report the traceback if it persists.")
    ),
}

# Arguments shown in the user's language when rendered: a cloud's name, a reason, a time, a number.
_NAMED: dict[str, Any] = {
    "cloud": cloud_name,
    "service": service_name,
    "reason": translate,
    "safe_after": when,
    "seconds": lambda n: number(n) if isinstance(n, int | float) else n,
}


def _entry(key: str, code: str, variant: str | None) -> list[Message]:
    keys = [key] + ([f"*.{variant}"] if variant else []) + [code]
    return [MESSAGES[k] for k in dict.fromkeys(keys) if k in MESSAGES]


def _args(args: dict[str, Any]) -> dict[str, Any]:
    return {k: (_NAMED[k](v) if k in _NAMED else v) for k, v in args.items()}


def render(template: str, args: dict[str, Any]) -> str:
    """Translate `template` and fill it. A missing argument never crashes a report: it shows as {name}."""
    return string.Formatter().vformat(_(template), (), _Lenient(_args(args)))


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _arguments(f: Any) -> dict[str, Any]:
    return {"cloud": f.cloud, **f.arguments}


def message(f: Any) -> str:
    entries = _entry(f.key, f.code, f.variant)
    return render(entries[0].text, _arguments(f)) if entries else str(f.code)


def remediation(f: Any) -> str:
    for entry in _entry(f.key, f.code, f.variant):
        if entry.fix is not None:
            return render(entry.fix, _arguments(f)) if entry.fix else ""
    return ""


def fields(template: str) -> set[str]:
    """The argument names a template uses (for the test that renders every entry)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
