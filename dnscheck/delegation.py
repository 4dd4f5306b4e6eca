"""Classify the delegation: the parent's NS set, the zone's own NS set and each server's answers. Pure.

Semantics follow Zonemaster's DELEGATION04/07 and CONSISTENCY04, narrowed to the cutover question: does anything
still lead to Microsoft 365? The parent's delegation is what the world follows, so it outranks the resolver view:
a zone whose own NS RRset still names Microsoft while the parent does not is NS_CHILD_STALE (a warning), not
NS_M365.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dnscheck.codes import finding
from dnscheck.collect.failures import is_refusal
from dnscheck.fingerprints import match_host
from dnscheck.models import Answered, Delegation, Finding, Lookup, Record, ServerView, Severity, Undetermined


@dataclass(frozen=True)
class DelegationFindings:
    findings: tuple[Finding, ...]
    parent_says_elsewhere: bool  # the parent's NS set is known and names no Microsoft server
    m365_records: tuple[Record, ...]


@dataclass(frozen=True)
class _View:
    """What the rules share: the delegation, the NS sets on each side, and the servers that answered for the zone."""

    d: Delegation
    required: bool
    parent_hosts: set[str]
    child_ns: list[Record]
    authoritative: list[ServerView]

    @property
    def child_hosts(self) -> set[str]:
        return {r.target for r in self.child_ns if r.target}


def classify_delegation(
    d: Delegation, resolver_mx: Lookup, required: bool, resolver_ns: Lookup | None = None
) -> DelegationFindings:
    if d.failure:
        return DelegationFindings((_probe_failed(d, required),), False, ())
    view = _view(d, required, resolver_ns)
    out: list[Finding] = []
    m365: list[Record] = []
    out += _no_delegation(view)
    found, records = _m365_servers(view)
    out += found
    m365 += records
    out += _ns_sets_differ(view)
    out += _servers(d, required)
    found, records = _mx_consistency(d, resolver_mx)
    out += found
    m365 += records
    out += _serials(view)
    if required and not view.authoritative:
        out.append(finding("LOOKUP_FAILED", variant="no_authoritative", severity=Severity.UNKNOWN))
    parent_m365 = any(match_host("ns", h) for h in view.parent_hosts)
    return DelegationFindings(tuple(out), bool(view.parent_hosts) and not parent_m365, tuple(m365))


def _probe_failed(d: Delegation, required: bool) -> Finding:
    if required:
        return finding("LOOKUP_FAILED", variant="probe", severity=Severity.UNKNOWN, reason=d.failure)
    return finding("AUTHORITATIVE_SKIPPED", reason=d.failure)


def _view(d: Delegation, required: bool, resolver_ns: Lookup | None) -> _View:
    authoritative = [v for v in d.servers if v.reachable and v.authoritative]
    child_ns = _dedupe(
        r for v in authoritative if isinstance(v.ns, Answered) for r in v.ns.records if r.type == "NS"
    )
    if not child_ns and isinstance(resolver_ns, Answered):
        # No server answered for the zone itself: its NS RRset is known only from the resolver. Never let the
        # parent's view drop what the resolver saw (that would withdraw NS_M365 without NS_CHILD_STALE).
        child_ns = [r for r in resolver_ns.records if r.type == "NS"]
    parent_hosts = {r.target for r in d.parent_ns if r.target}
    return _View(d, required, parent_hosts, child_ns, authoritative)


def _no_delegation(view: _View) -> list[Finding]:
    if view.parent_hosts:
        return []
    sev = Severity.UNKNOWN if view.required else Severity.WARNING
    return [
        finding("NS_MISMATCH", variant="no_delegation", severity=sev, parent=view.d.parent, zone=view.d.zone)
    ]


def _m365_servers(view: _View) -> tuple[list[Finding], list[Record]]:
    """The parent still delegating to Microsoft 365 (blocked), or only the zone's own NS RRset naming it."""
    d = view.d
    parent_m365 = [r for r in d.parent_ns if match_host("ns", r.target or "")]
    if parent_m365:
        names = ", ".join(r.target or "" for r in parent_m365)
        f = finding(
            "NS_PARENT_M365",
            record=parent_m365[0],
            cloud=_ns_cloud(parent_m365[0]),
            parent=d.parent,
            zone=d.zone,
            names=names,
        )
        return [f], parent_m365
    child_m365 = [r for r in view.child_ns if match_host("ns", r.target or "")]
    if child_m365 and view.parent_hosts:
        names = ", ".join(r.target or "" for r in child_m365)
        return [finding("NS_CHILD_STALE", record=child_m365[0], names=names)], child_m365
    return [], []


def _ns_sets_differ(view: _View) -> list[Finding]:
    """Differences among the other servers. A side made only of Microsoft servers is already reported."""
    parent_other = {h for h in view.parent_hosts if not match_host("ns", h)}
    child_other = {h for h in view.child_hosts if not match_host("ns", h)}
    if not (parent_other and child_other):
        return []
    at_parent = sorted(parent_other - child_other)
    at_child = sorted(child_other - parent_other)
    if not (at_parent or at_child):
        return []
    return [
        finding("NS_MISMATCH", at_parent=", ".join(at_parent) or "-", at_child=", ".join(at_child) or "-")
    ]


def _serials(view: _View) -> list[Finding]:
    serials = {s for v in view.authoritative if (s := v.serial) is not None}
    if len(serials) < 2:
        return []
    per = ", ".join(f"{v.name} ({v.address}) {v.serial}" for v in view.authoritative)
    return [finding("SERIAL_MISMATCH", serials=per)]


def _servers(d: Delegation, required: bool) -> list[Finding]:
    """Per name server: never answers (NS_UNREACHABLE), answers without authority (NS_LAME), or left some of the
    questions that decide the verdict unanswered (LOOKUP_FAILED)."""
    out: list[Finding] = []
    for host, views in _by_host(d.servers).items():
        reachable = [v for v in views if v.reachable]
        if not reachable:
            out.append(_unreachable(d, host, views, required))
            continue
        lame = [
            v for v in reachable if not v.authoritative and (isinstance(v.soa, Answered) or is_refusal(v.soa))
        ]
        if lame:
            out.append(_lame(d, host, lame))
        out += _failed_probes(host, [v for v in reachable if v not in lame], required)
    return out


def _by_host(servers: Iterable[ServerView]) -> dict[str, list[ServerView]]:
    by_host: dict[str, list[ServerView]] = {}
    for v in servers:
        by_host.setdefault(v.name, []).append(v)
    return by_host


def _unreachable(d: Delegation, host: str, views: list[ServerView], required: bool) -> Finding:
    why = next((lk.reason for lk in views[0].lookups if isinstance(lk, Undetermined)), "no answer")
    return finding(
        "NS_UNREACHABLE",
        record=Record(d.zone, "NS", host),
        severity=Severity.UNKNOWN if required else None,
        host=host,
        addresses=_addrs(views),
        reason=why,
    )


def _lame(d: Delegation, host: str, lame: list[ServerView]) -> Finding:
    variant, why = _lame_reason(lame[0])
    return finding(
        "NS_LAME",
        variant=variant,
        record=Record(d.zone, "NS", host),
        host=host,
        addresses=_addrs(lame),
        zone=d.zone,
        reason=why,
    )


DECIDING = (
    "MX",
    "NS",
    "SOA",
)  # the per-server answers a verdict rests on; MX first: it decides where mail goes


def _failed_probes(host: str, reachable: list[ServerView], required: bool) -> list[Finding]:
    """A server that answers but left MX, NS or SOA undetermined may be the one still serving Microsoft 365: the
    verdict can never be safe on its silence. Another address of the same server answering that question in the
    same run settles it."""
    answered = {lk.rdtype for v in reachable for lk in v.lookups[:3] if isinstance(lk, Answered)}
    out = []
    for v in reachable:
        failed = [
            lk for lk in (v.mx, v.ns, v.soa) if isinstance(lk, Undetermined) and lk.rdtype not in answered
        ]
        if failed:
            out.append(
                finding(
                    "LOOKUP_FAILED",
                    variant="server",
                    severity=Severity.UNKNOWN if required else Severity.WARNING,
                    record=Record(failed[0].name, failed[0].rdtype, ""),
                    host=host,
                    address=v.address,
                    types=", ".join(lk.rdtype for lk in failed),
                    reason=failed[0].reason,
                )
            )
    return out


def _lame_reason(v: ServerView) -> tuple[str | None, str]:
    """The catalogue variant and the reason (data) for a lame server (one that answered the SOA query)."""
    if isinstance(v.soa, Undetermined):  # it refused the zone
        return None, v.soa.reason
    if not v.soa.aa:
        return "no_aa", ""
    return "no_soa", ""


def _mx_consistency(d: Delegation, resolver_mx: Lookup) -> tuple[list[Finding], list[Record]]:
    """MX_INCONSISTENT when some views (servers, resolver) return a Microsoft 365 MX and others do not."""
    views = _mx_views(d, resolver_mx)
    stale = [(who, hits) for who, hits in views if hits]
    fresh = [who for who, hits in views if hits is not None and not hits]
    if not stale or not fresh:
        return [], []
    records = [r for _, hits in stale for r in hits or ()]
    return [_inconsistent(records, [who for who, _ in stale], fresh)], records


def _mx_views(d: Delegation, resolver_mx: Lookup) -> list[tuple[str, list[Record] | None]]:
    """Who said what about the MX: each authoritative server, and the resolver unless it said NXDOMAIN."""
    views = [(f"{v.name} ({v.address})", _m365_mx(v.mx)) for v in d.servers if v.authoritative]
    if not (isinstance(resolver_mx, Answered) and resolver_mx.nxdomain):
        views.append(("the resolver", _m365_mx(resolver_mx)))
    return views


def _inconsistent(records: list[Record], stale: list[str], fresh: list[str]) -> Finding:
    fp = match_host("mx", records[0].target or "")
    return finding(
        "MX_INCONSISTENT",
        record=records[0],
        cloud=fp.cloud if fp else None,
        value=records[0].value,
        stale=", ".join(stale),
        fresh=", ".join(fresh),
    )


def _m365_mx(lookup: Lookup) -> list[Record] | None:
    """The Microsoft 365 MX records of an answer; None when it did not answer."""
    if not isinstance(lookup, Answered):
        return None
    return [r for r in lookup.records if r.type == "MX" and match_host("mx", r.target or "")]


def _ns_cloud(rec: Record) -> str | None:
    fp = match_host("ns", rec.target or "")
    return fp.cloud if fp else None


def _addrs(views: Iterable[ServerView]) -> str:
    return ", ".join(v.address or "no address" for v in views)


def _dedupe(records: Iterable[Record]) -> list[Record]:
    return list(dict.fromkeys(records))
