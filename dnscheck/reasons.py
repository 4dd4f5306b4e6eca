"""Why a lookup or an input failed, in the user's language.

The collectors and the normaliser describe a failure with a short English reason, which findings carry as an
argument (`reason`) and JSON keeps as it is. A human report shows it translated: each shape below is a message id
whose `{fields}` match the data inside a reason, so the reason is matched to its shape, the shape translated, and
the data put back (itself translated when it is a reason too, e.g. "parent zone servers not found: no answer").
A reason of no known shape is shown as it is: a new reason needs its shape here (the test of the French
catalogue renders every one).
"""

from __future__ import annotations

import re
from functools import lru_cache

from dnscheck.i18n import N_, _, language

SHAPES: tuple[str, ...] = (
    # the resolver and the planner (dnscheck/collect/resolver.py, plan.py)
    N_("timed out: the resolver did not answer in time"),
    N_("no server could answer: {detail}"),
    N_("the name is too long after DNAME substitution (YXDOMAIN)"),
    N_("network error: {detail}"),
    N_("the answer does not answer the question (only other names or types)"),
    N_("no time left before the deadline (--timeout)"),
    N_("no answer before the deadline (--timeout)"),
    N_("could not find the zone that holds this name"),
    N_("CNAME loop at {name}"),
    N_("CNAME chain longer than {n} hops"),
    N_("{host} is an alias of {target}, outside the zone file (give --resolver to follow it)"),
    # the authoritative servers (dnscheck/collect/authoritative.py, delegation.py)
    N_("no answer (timed out)"),
    N_("no answer"),
    N_("unreachable: {detail}"),
    N_("bad answer: {detail}"),
    N_("answered {rcode}"),
    N_("inconsistent answer: the SOA of {zone}, which does not hold {name}"),
    N_("inconsistent answer: {answer} with the SOA of {zone}, which does not hold {name}"),
    N_("{host} has no address"),
    N_("the zone has no parent to ask"),
    N_("parent zone servers not found: {detail}"),
    N_("with CD set: {detail}"),
    N_("no NS records"),
    # HTTPS: the MTA-STS policy and the tenant check (dnscheck/collect/web.py, mtasts.py, tenant.py)
    N_("HTTP {status} (senders need 200 and follow no redirect)"),
    N_("served as {type}, not text/plain"),
    N_("{detail}; senders ignore it (RFC 8461 section 3.1)"),
    N_("the policy is not UTF-8 text"),
    N_("rate limited (HTTP {status}) beyond --timeout"),
    N_("HTTP {status} with {type}, not JSON"),
    N_("HTTP {status}: the JSON is not an object"),
    N_("HTTP {status}: the JSON is not valid (cut short?)"),
    N_("NameSpaceType is {value}, not Managed, Federated or Unknown"),
    N_("HTTP 400 with error {error}, not invalid_tenant (AADSTS90002)"),
    N_("the discovery document has no single tenant id and cloud_instance_name"),
    N_("{host} has no address (no A or AAAA record)"),
    N_("the address of {host} could not be looked up: {detail}"),
    N_("{host} does not exist (NXDOMAIN)"),
    N_("the answer is larger than {n} bytes"),
    # a zone file (dnscheck/collect/zonefile.py)
    N_("outside the zone file"),
    N_("CNAME chain too long inside the zone file"),
    N_(
        "{name} is delegated to other name servers (NS records below the apex); the zone file cannot answer for it"
    ),
    # the input (dnscheck/normalise.py)
    N_("empty input"),
    N_("input is {n} characters long; a domain name has at most 253"),
    N_("input is not valid UTF-8"),
    N_("input contains control or invisible formatting characters"),
    N_("input contains white space"),
    N_("no domain name in the input"),
    N_("{host} is an IP address, not a domain name"),
    N_("{name} ends in a numeric label: it is not a domain name (an IP address?)"),
    N_("{name} is a public suffix or is not under one: there is no domain to check"),
    N_("not a valid URL: {detail}"),
    N_("nothing before '@'"),
    N_("empty label (two dots in a row, a dot at the start, or an extra dot at the end)"),
    N_("not a valid internationalised domain name: {detail}"),
    N_("name is {n} octets long; the limit is 253"),
    N_("label '{label}...' is {n} octets long; the limit is 63"),
    N_("label '{label}' is {n} octets long; the limit is 63"),
    N_("label '{label}' may hold only letters, digits and inner hyphens"),
    N_("label '{label}' is not valid punycode"),
    N_("could not read this line ({detail})"),
    # where the answers came from (a source's label, in --explain)
    N_("resolver {servers}"),
    N_("zone file {path}"),
)

# The errors of dnscheck's own (exit 64), shown by the CLI: a message, and a hint on what to do.
ERRORS: tuple[str, ...] = (
    N_("cannot write {path}: {detail}"),
    N_("cannot read --input {path}: {detail}"),
    N_("--watch-state {path}: no such file (write one with dnscheck watch --state)"),
    N_("cannot write --state {path}: {detail}"),
    N_("cannot use --state {path}: {detail}"),
    N_("cannot use {option} {path}: {detail}"),
    N_("schema is {found}, not {expected}: not a dnscheck watch state file"),
    N_("cannot read --state {path}: {detail}"),
    N_("cannot lock --state {path} ({lock}): {detail}"),
    N_("--state {path} is in use by another dnscheck runbook (waited {n} s)."),
    N_("Let the other run finish, then run again. The file was left untouched."),
    N_("--state {path}: {detail}."),
    N_("The file was left untouched. Move it away, or give another --state path."),
    N_("it is not valid JSON ({detail})"),
    N_('it is not a dnscheck runbook state file (no "schema": "{schema}")'),
    N_('its schema is {schema}; this dnscheck reads "{expected}" and older'),
    N_("it is damaged: {detail}"),
    N_("Remove the file, or give another path, to start afresh."),
    N_("--resolver {spec}: write IPv6 with a port as [addr]:port"),
    N_("--resolver {spec}: {host} is not an IP address"),
    N_("--resolver {spec}: port must be a number from 1 to 65535"),
    N_("no resolver configured: /etc/resolv.conf is missing or lists no nameserver"),
    N_("Name one with --resolver, e.g. --resolver 9.9.9.9 or --resolver [2620:fe::fe]:53"),
    N_("--format prometheus needs the prometheus_client package, which is not installed"),
    N_("Install it with: pip install 'dnscheck[prometheus]'"),
    # --parent-ds FILE (dnscheck/collect/dnssec_planned.py)
    N_("--parent-ds {path}: cannot read it: {detail}"),
    N_("--parent-ds {path}: not UTF-8 text"),
    N_("--parent-ds {path}: {name} {type}: only DS records"),
    N_("--parent-ds {path}: no DS record in it"),
    N_("--parent-ds {path}: {detail}"),
    N_("cannot read zone file {path}: {detail}"),
    N_("{path}: larger than {n} MiB; check this zone at its DNS host"),
    N_("{path}:{line}: not UTF-8 text (byte {n})"),
    N_("{path}: the zone file is empty"),
    N_("{path}: the zone file has no $ORIGIN, and no valid domain was given to take it from"),
    N_("{domain} is not inside the zone in {path} (its origin is {origin})"),
    N_(
        "{path}:{line}: $GENERATE would create more than {n} records; expand the range into the file, or check "
        "the zone at its DNS host"
    ),
    N_("{path}: the zone has no SOA record at its origin"),
    N_("{path}: the zone has no NS records at its origin"),
    N_("{path}: a name has a CNAME and other records too; a CNAME must stand alone"),
    # the operating system's words (strerror) inside those
    N_("No such file or directory"),
    N_("Permission denied"),
    N_("Is a directory"),
    N_("Not a directory"),
    N_("Read-only file system"),
    N_("No space left on device"),
)

_FIELD = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for shape in (*SHAPES, *ERRORS):
        parts = _FIELD.split(shape)  # text, name, text, name, ..., text
        rx = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
        out.append((re.compile(rx + r"\Z", re.S), shape))
    return out


def translate(reason: object) -> object:
    """`reason` in the user's language, if it has a known shape; anything else unchanged."""
    if not isinstance(reason, str) or language() == "en":
        return reason
    for rx, shape in _patterns():
        m = rx.match(reason)
        if m:
            values = {k: (translate(v) if k == "detail" else v) for k, v in m.groupdict().items()}
            return _(shape).format(**values)
    return reason
