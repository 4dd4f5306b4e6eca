"""The values that flow through a check: input -> lookups -> findings -> result.

Everything here is immutable and free of I/O, so the classifier and the formats can be tested without DNS.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    BLOCKED = "blocked"
    UNKNOWN = "unknown"
    WARNING = "warning"
    INFO = "info"


class Verdict(str, enum.Enum):
    SAFE = "safe"
    WARNING = "warning"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"

    @property
    def exit_code(self) -> int:
        return _EXIT[self]

    @property
    def rank(self) -> int:
        """Higher is worse. Blocked outranks unknown: a known M365 pointer is the stronger statement."""
        return _RANK[self]


_EXIT = {Verdict.SAFE: 0, Verdict.WARNING: 1, Verdict.BLOCKED: 2, Verdict.UNKNOWN: 3}
_RANK = {Verdict.SAFE: 0, Verdict.WARNING: 1, Verdict.UNKNOWN: 2, Verdict.BLOCKED: 3}


def worst(verdicts: Any) -> Verdict:
    """The worst of several verdicts (SAFE when there are none)."""
    return max(verdicts, key=lambda v: v.rank, default=Verdict.SAFE)


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

    @property
    def nxdomain(self) -> bool:
        return self.rcode == "NXDOMAIN"


@dataclass(frozen=True)
class Undetermined:
    """A lookup that could not tell: timeout, SERVFAIL, REFUSED, malformed answer, CNAME loop..."""

    name: str
    rdtype: str
    reason: str
    server: str | None = None


Lookup = Answered | Undetermined


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    remediation: str = ""
    record: Record | None = None
    cloud: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "remediation": self.remediation,
            "record": self.record.as_dict() if self.record else None,
        }


@dataclass(frozen=True)
class SeenRecord:
    record: Record
    m365: bool

    def as_dict(self) -> dict[str, Any]:
        return {**self.record.as_dict(), "m365": self.m365}


@dataclass(frozen=True)
class Result:
    """The outcome for one input line. `domain` is None when the input could not be normalised."""

    input: str
    domain: str | None
    registered_domain: str | None
    verdict: Verdict
    cloud: str | None
    findings: tuple[Finding, ...]
    records: tuple[SeenRecord, ...] = ()
    elapsed_ms: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "input": self.input,
            "domain": self.domain,
            "registered_domain": self.registered_domain,
            "verdict": self.verdict.value,
            "cloud": self.cloud,
            "findings": [f.as_dict() for f in self.findings],
            "records": [r.as_dict() for r in self.records],
            "elapsed_ms": self.elapsed_ms,
        }
        out.update(self.extra)
        return out


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
