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
from dnscheck.fingerprints import match_host
from dnscheck.models import Answered, Delegation, Finding, Lookup, Record, ServerView, Severity, Undetermined

_NS_FIX = "Change the NS delegation at the registrar to the new DNS host, after every record (MX first) exists there."


@dataclass(frozen=True)
class DelegationFindings:
    findings: tuple[Finding, ...]
    parent_says_elsewhere: bool  # the parent's NS set is known and names no Microsoft server
    m365_records: tuple[Record, ...]


def classify_delegation(
    d: Delegation, resolver_mx: Lookup, required: bool, resolver_ns: Lookup | None = None
) -> DelegationFindings:
    out: list[Finding] = []
    m365: list[Record] = []
    if d.failure:
        if required:
            out.append(
                finding(
                    "LOOKUP_FAILED",
                    f"Authoritative probing failed: {d.failure}.",
                    "Allow outbound DNS (port 53) to the domain's servers, or use --mode resolver.",
                    severity=Severity.UNKNOWN,
                )
            )
        else:
            out.append(
                finding(
                    "AUTHORITATIVE_SKIPPED",
                    f"Authoritative servers not asked: {d.failure}. "
                    "The verdict rests on the resolver's view alone.",
                    "Run from a network with outbound DNS to see the parent's delegation and every server.",
                )
            )
        return DelegationFindings(tuple(out), False, ())

    parent_hosts = {r.target for r in d.parent_ns if r.target}
    authoritative = [v for v in d.servers if v.reachable and v.authoritative]
    child_ns = _dedupe(
        r for v in authoritative if isinstance(v.ns, Answered) for r in v.ns.records if r.type == "NS"
    )
    if not child_ns and isinstance(resolver_ns, Answered):
        # No server answered for the zone itself: its NS RRset is known only from the resolver. Never let the
        # parent's view drop what the resolver saw (that would withdraw NS_M365 without NS_CHILD_STALE).
        child_ns = [r for r in resolver_ns.records if r.type == "NS"]
    child_hosts = {r.target for r in child_ns if r.target}

    if not parent_hosts:
        sev = Severity.UNKNOWN if required else Severity.WARNING
        out.append(
            finding(
                "NS_MISMATCH",
                f"The parent zone {d.parent} returned no delegation for {d.zone}.",
                "Check the delegation at the registrar.",
                severity=sev,
            )
        )
    parent_m365 = [r for r in d.parent_ns if match_host("ns", r.target or "")]
    child_m365 = [r for r in child_ns if match_host("ns", r.target or "")]
    if parent_m365:
        m365 += parent_m365
        names = ", ".join(r.target or "" for r in parent_m365)
        out.append(
            finding(
                "NS_PARENT_M365",
                f"The parent zone {d.parent} delegates {d.zone} to {names} (Microsoft 365), whatever the "
                "zone's own records say. Until the delegation moves, an MX change made at another DNS host "
                "has no effect.",
                _NS_FIX,
                parent_m365[0],
                _ns_cloud(parent_m365[0]),
            )
        )
    elif child_m365 and parent_hosts:
        m365 += child_m365
        names = ", ".join(r.target or "" for r in child_m365)
        out.append(
            finding(
                "NS_CHILD_STALE",
                f"The zone's own NS RRset still names {names}, but the parent no longer delegates there.",
                "Update the NS records inside the zone at the new DNS host to match the delegation.",
                child_m365[0],
            )
        )

    # Differences among the other servers. A side made only of Microsoft servers is already reported above.
    parent_other = {h for h in parent_hosts if not match_host("ns", h)}
    child_other = {h for h in child_hosts if not match_host("ns", h)}
    if parent_other and child_other:
        at_parent = sorted(parent_other - child_other)
        at_child = sorted(child_other - parent_other)
        if at_parent or at_child:
            parts = ([f"only at the parent: {', '.join(at_parent)}"] if at_parent else []) + (
                [f"only in the zone: {', '.join(at_child)}"] if at_child else []
            )
            out.append(
                finding(
                    "NS_MISMATCH",
                    f"The parent's and the zone's NS sets differ ({'; '.join(parts)}).",
                    "Make the NS records in the zone and at the registrar the same.",
                )
            )

    out += _servers(d, required)
    found, records = _mx_consistency(d, resolver_mx)
    out += found
    m365 += records
    serials = sorted({s for v in authoritative if (s := v.serial) is not None})
    if len(serials) > 1:
        per = ", ".join(f"{v.name} ({v.address}) {v.serial}" for v in authoritative)
        out.append(
            finding(
                "SERIAL_MISMATCH",
                f"The servers serve different SOA serials: {per}.",
                "A secondary may not have transferred the latest zone yet.",
            )
        )
    if required and not authoritative:
        out.append(
            finding(
                "LOOKUP_FAILED",
                "No server answered authoritatively for the zone.",
                "Check the delegation and the servers.",
                severity=Severity.UNKNOWN,
            )
        )
    return DelegationFindings(tuple(out), bool(parent_hosts) and not parent_m365, tuple(m365))


def _servers(d: Delegation, required: bool) -> list[Finding]:
    out = []
    by_host: dict[str, list[ServerView]] = {}
    for v in d.servers:
        by_host.setdefault(v.name, []).append(v)
    for host, views in by_host.items():
        reachable = [v for v in views if v.reachable]
        if not reachable:
            why = next((lk.reason for lk in views[0].lookups if isinstance(lk, Undetermined)), "no answer")
            out.append(
                finding(
                    "NS_UNREACHABLE",
                    f"{host} ({_addrs(views)}) never answered: {why}.",
                    "Fix or remove this server from the delegation and the zone's NS records.",
                    Record(d.zone, "NS", host),
                    severity=Severity.UNKNOWN if required else None,
                )
            )
            continue
        lame = [v for v in reachable if not v.authoritative]
        if lame:
            why = _lame_reason(lame[0])
            out.append(
                finding(
                    "NS_LAME",
                    f"{host} ({_addrs(lame)}) is lame for {d.zone}: {why}.",
                    "Configure the zone on this server, or remove it from the delegation.",
                    Record(d.zone, "NS", host),
                )
            )
    return out


def _lame_reason(v: ServerView) -> str:
    if isinstance(v.soa, Undetermined):
        return v.soa.reason
    if not v.soa.aa:
        return "answers without the AA flag"
    return "no SOA for the zone"


def _mx_consistency(d: Delegation, resolver_mx: Lookup) -> tuple[list[Finding], list[Record]]:
    """MX_INCONSISTENT when some views (servers, resolver) return a Microsoft 365 MX and others do not."""
    views: list[tuple[str, bool, list[Record]]] = []
    for v in d.servers:
        if v.authoritative and isinstance(v.mx, Answered):
            hits = [r for r in v.mx.records if r.type == "MX" and match_host("mx", r.target or "")]
            views.append((f"{v.name} ({v.address})", bool(hits), hits))
    if isinstance(resolver_mx, Answered) and not resolver_mx.nxdomain:
        hits = [r for r in resolver_mx.records if r.type == "MX" and match_host("mx", r.target or "")]
        views.append(("the resolver", bool(hits), hits))
    stale = [v for v in views if v[1]]
    fresh = [v for v in views if not v[1]]
    if not stale or not fresh:
        return [], []
    records = [r for v in stale for r in v[2]]
    msg = (
        f"{', '.join(v[0] for v in stale)} still return{'s' if len(stale) == 1 else ''} the Microsoft 365 MX "
        f"{records[0].value}; {', '.join(v[0] for v in fresh)} do not. Some senders will still deliver to "
        "Microsoft 365."
    )
    fp = match_host("mx", records[0].target or "")
    return [
        finding(
            "MX_INCONSISTENT",
            msg,
            "Make every server serve the new zone (check zone transfers to "
            "secondaries), then wait for the MX TTL.",
            records[0],
            fp.cloud if fp else None,
        )
    ], records


def _ns_cloud(rec: Record) -> str | None:
    fp = match_host("ns", rec.target or "")
    return fp.cloud if fp else None


def _addrs(views: Iterable[ServerView]) -> str:
    return ", ".join(v.address or "no address" for v in views)


def _dedupe(records: Iterable[Record]) -> list[Record]:
    return list(dict.fromkeys(records))
