"""The values that flow through a check: input -> lookups -> findings -> result.

Everything here is immutable and free of I/O, so the classifier and the formats can be tested without DNS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dnscheck.severity import (  # noqa: F401 - re-exported: the values of a result
    Severity,
    Verdict,
    by_severity,
    codes_worst_first,
    run_verdict,
    worst,
)

if TYPE_CHECKING:
    from dnscheck.collect.dnssec import DnssecObs
    from dnscheck.mtasts import MtaSts
    from dnscheck.tenant import TenantStatus


@dataclass(frozen=True)
class Record:
    """One resource record as seen, in presentation form (names without the trailing dot)."""

    name: str
    type: str
    value: str
    ttl: int | None = None
    # The host name this record points at (MX exchange, CNAME/NS/SRV target), for matching; not reported.
    target: str | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "value": self.value, "ttl": self.ttl}


@dataclass(frozen=True)
class Answered:
    """A lookup that got a definite answer. No records with rcode NOERROR is NODATA."""

    name: str
    rdtype: str
    records: tuple[Record, ...] = ()
    rcode: str = "NOERROR"
    # The owner of the SOA in the authority section of a negative answer: the zone that holds the name.
    zone: str | None = None
    server: str | None = None
    elapsed_ms: int | None = field(default=None, compare=False)
    aa: bool | None = field(default=None, compare=False)

    @property
    def nxdomain(self) -> bool:
        return self.rcode == "NXDOMAIN"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.rdtype,
            "rcode": self.rcode,
            "aa": self.aa,
            "server": self.server,
            "elapsed_ms": self.elapsed_ms,
            "records": [r.as_dict() for r in self.records],
        }


@dataclass(frozen=True)
class Undetermined:
    """A lookup that could not tell: timeout, SERVFAIL, REFUSED, malformed answer, CNAME loop..."""

    name: str
    rdtype: str
    reason: str
    server: str | None = None
    elapsed_ms: int | None = field(default=None, compare=False)
    # True when the server never answered at all (timeout, network error), as opposed to answering badly.
    silent: bool = field(default=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.rdtype,
            "error": self.reason,
            "server": self.server,
            "elapsed_ms": self.elapsed_ms,
        }


Lookup = Answered | Undetermined


@dataclass(frozen=True)
class Finding:
    """A stable code plus the arguments of its message. The words are rendered from the catalogue
    (`dnscheck.catalogue`) in the current language each time `message` or `remediation` is read."""

    code: str
    severity: Severity
    args: tuple[tuple[str, Any], ...] = ()
    record: Record | None = None
    cloud: str | None = None
    variant: str | None = None  # which message of the code's catalogue entries

    @property
    def key(self) -> str:
        """The catalogue key: the code, or CODE.variant."""
        return f"{self.code}.{self.variant}" if self.variant else self.code

    @property
    def arguments(self) -> dict[str, Any]:
        return dict(self.args)

    @property
    def message(self) -> str:
        from dnscheck.catalogue import message

        return message(self)

    @property
    def remediation(self) -> str:
        from dnscheck.catalogue import remediation

        return remediation(self)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "remediation": self.remediation,
            "args": {k: v for k, v in self.args},
            "record": self.record.as_dict() if self.record else None,
        }


@dataclass(frozen=True)
class SeenRecord:
    record: Record
    m365: bool

    def as_dict(self) -> dict[str, Any]:
        return {**self.record.as_dict(), "m365": self.m365}


# Microsoft's default TTL for the records it provisions: the least a cache may keep an old record we cannot see.
M365_DEFAULT_TTL = 3600


@dataclass(frozen=True)
class Ttls:
    """The TTLs that govern how long caches may keep the old answers (see dnscheck.ttl)."""

    mx: int | None
    parent_ns: int | None
    child_ns: int | None
    negative: int | None
    mta_sts: int | None = None  # max_age of an MTA-STS policy in enforce mode (senders cache it that long)
    ds: int | None = None  # the parent's DS TTL, when the parent publishes a DS

    @property
    def longest(self) -> int:
        ttls = (self.mx, self.parent_ns, self.child_ns, self.negative, self.mta_sts, self.ds)
        return max([t for t in ttls if t is not None] + [M365_DEFAULT_TTL])

    def as_dict(self) -> dict[str, Any]:
        return {
            "mx": self.mx,
            "parent_ns": self.parent_ns,
            "child_ns": self.child_ns,
            "negative": self.negative,
            "mta_sts_max_age": self.mta_sts,
            "ds": self.ds,
            "assumed_old_record": M365_DEFAULT_TTL,
            "longest": self.longest,
        }


@dataclass(frozen=True)
class Result:
    """The outcome for one input line. `domain` is None when the input could not be normalised.

    `complete` is False when the check itself could not run (it crashed): nothing in it may be compared with an
    earlier round. The optional parts are set only when the check produced them."""

    input: str
    domain: str | None
    registered_domain: str | None
    verdict: Verdict
    cloud: str | None
    findings: tuple[Finding, ...]
    records: tuple[SeenRecord, ...] = ()
    elapsed_ms: int = 0
    complete: bool = True
    zone: str | None = None
    ttl: Ttls | None = None
    changed_at: datetime | None = None
    safe_after: datetime | None = None
    delegation: Delegation | None = None
    explain: tuple[str, ...] | None = None
    mta_sts: MtaSts | None = None  # the domain's MTA-STS record and policy, when it publishes one
    tenant: TenantStatus | None = None  # --tenant-check: what Microsoft's sign-in service says
    dnssec: DnssecObs | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "input": self.input,
            "domain": self.domain,
            "registered_domain": self.registered_domain,
            "verdict": self.verdict.value,
            "cloud": self.cloud,
            "findings": [f.as_dict() for f in by_severity(self.findings)],
            "records": [r.as_dict() for r in self.records],
            "elapsed_ms": self.elapsed_ms,
        }
        if self.ttl is not None:  # a check that ran: its zone and TTLs are always reported
            out["zone"] = self.zone
            out["ttl"] = self.ttl.as_dict()
        if self.changed_at is not None and self.safe_after is not None:
            out["changed_at"] = iso(self.changed_at)
            out["safe_after"] = iso(self.safe_after)
        if self.delegation is not None:
            out["delegation"] = self.delegation.as_dict()
        if self.dnssec is not None:
            out["dnssec"] = self.dnssec.as_dict()
        if self.explain is not None:
            out["explain"] = list(self.explain)
        if self.mta_sts is not None:
            out["mta_sts"] = self.mta_sts.as_dict()
        if self.tenant is not None:
            out["tenant"] = self.tenant.as_dict()
        return out


def iso(t: datetime) -> str:
    """UTC, to the second, with a Z: the one form every output and state file uses."""
    return t.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Chain:
    """A name looked up and the CNAME chain followed from it, one lookup per hop.

    `failure` is set when the chain could not be followed to its end (a failed hop, a loop, too many hops).
    """

    kind: str
    name: str
    lookups: tuple[Lookup, ...]
    failure: str | None = None

    @property
    def records(self) -> tuple[Record, ...]:
        return tuple(r for lk in self.lookups if isinstance(lk, Answered) for r in lk.records)


@dataclass(frozen=True)
class Observations:
    """Everything one collection saw for one domain; the classifier's only input."""

    domain: str
    zone: str | None  # apex of the zone that holds the domain, when known
    mx: Lookup
    ns: Lookup  # NS RRset of that zone
    txt: Lookup
    a: Lookup
    aaaa: Lookup
    mx_hosts: tuple[Chain, ...] = ()
    names: tuple[Chain, ...] = ()  # the other names Microsoft 365 uses (autodiscover, DKIM, SIP, ...)
    skipped: tuple[str, ...] = ()  # names a zone file cannot answer for (outside its origin)
    # The A (then AAAA) lookups of each MX host that is neither Microsoft's nor outside a zone file.
    mx_addresses: tuple[tuple[str, tuple[Lookup, ...]], ...] = ()
    delegation: Delegation | None = None  # what the parent and each authoritative server said, when probed
    mta_sts: MtaSts | None = None  # the _mta-sts TXT lookup and the policy, when the domain publishes one
    dnssec: DnssecObs | None = None  # DS at the parent, keys and signatures per server (collect/dnssec.py)
    # The MX at *.<domain>, read from a zone file only (check.wildcard_mx says why live modes do not ask).
    wildcard_mx: Lookup | None = None


@dataclass(frozen=True)
class ServerView:
    """What one authoritative server, at one address, said when asked directly (RD=0)."""

    name: str  # the NS name (as delegated by the parent or named by the zone)
    address: str
    soa: Lookup
    ns: Lookup
    mx: Lookup
    others: tuple[Lookup, ...] = ()  # TXT and the other Microsoft 365 names

    @property
    def lookups(self) -> tuple[Lookup, ...]:
        return (self.soa, self.ns, self.mx, *self.others)

    @property
    def reachable(self) -> bool:
        return any(not (isinstance(lk, Undetermined) and lk.silent) for lk in self.lookups)

    @property
    def authoritative(self) -> bool:
        """Answered the SOA query with AA set and the zone's SOA."""
        return (
            isinstance(self.soa, Answered)
            and bool(self.soa.aa)
            and any(r.type == "SOA" for r in self.soa.records)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address,
            "reachable": self.reachable,
            "authoritative": self.authoritative,
            "serial": self.serial,
            "answers": [lk.as_dict() for lk in self.lookups],
        }

    @property
    def serial(self) -> int | None:
        for r in self.soa.records if isinstance(self.soa, Answered) else ():
            if r.type == "SOA":
                try:
                    return int(r.value.split()[2])
                except (IndexError, ValueError):
                    return None
        return None


@dataclass(frozen=True)
class Delegation:
    """The parent's view of the zone cut and every authoritative server's view of the zone."""

    zone: str
    parent: str | None
    referral: tuple[Lookup, ...]  # the NS query for `zone` sent to each parent server
    parent_ns: tuple[Record, ...]  # NS records of the referral (union over parent servers)
    glue: tuple[Record, ...]
    servers: tuple[ServerView, ...]
    failure: str | None = None  # why probing could not be done at all
    required: bool = False  # --mode authoritative: a failure here makes the verdict unknown

    def as_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "parent": self.parent,
            "failure": self.failure,
            "parent_ns": [r.as_dict() for r in self.parent_ns],
            "glue": [r.as_dict() for r in self.glue],
            "referral": [lk.as_dict() for lk in self.referral],
            "servers": [v.as_dict() for v in self.servers],
        }
