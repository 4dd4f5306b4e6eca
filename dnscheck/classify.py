"""Classify: what the collected records say about Microsoft 365. Pure: no I/O, no clock.

The one rule for failures: a lookup that could not tell counts as the worst that record could have shown. MX and NS
decide where mail goes, so their failure is `unknown`; a leftover record's failure is a `warning`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dnscheck.codes import finding
from dnscheck.delegation import classify_delegation
from dnscheck.fingerprints import (
    FINGERPRINTS,
    Fingerprint,
    match_gateway,
    match_host,
    match_spf,
    match_text,
)
from dnscheck.mailpath import mail_path_findings, relative_typo
from dnscheck.models import (
    Answered,
    Chain,
    Finding,
    Lookup,
    Observations,
    Record,
    SeenRecord,
    Severity,
    Undetermined,
)
from dnscheck.mtasts import classify_mta_sts
from dnscheck.partners import match_partner

Hit = Callable[..., None]


@dataclass(frozen=True)
class Classification:
    findings: tuple[Finding, ...]
    records: tuple[SeenRecord, ...]
    decisive: bool  # MX and NS both answered: without that the verdict can never be safe
    cloud: str | None


def classify(obs: Observations, registered_domain: str) -> Classification:
    findings: list[Finding] = []
    m365: set[Record] = set()

    def hit(
        fp: Fingerprint,
        rec: Record,
        shape: str | None,
        code: str | None = None,
        also: Iterable[Record] = (),
        **args: Any,
    ) -> None:
        if fp.code != "MX_GATEWAY":
            m365.add(rec)
            m365.update(also)
        args.setdefault("service", fp.service)
        findings.append(finding(code or fp.code, variant=shape, record=rec, cloud=fp.cloud, **args))

    if isinstance(obs.mx, Answered) and obs.mx.nxdomain:
        findings.append(finding("DOMAIN_NXDOMAIN", domain=obs.domain))
    else:
        _mx(obs, findings, hit)
        findings += mail_path_findings(obs)
        _ns(obs, findings, hit)
        _txt(obs, findings, hit)
        _leftovers(obs, findings, hit)
        _wildcard_mx(obs, findings, hit)
        findings += _partner(obs)
        _mta_sts(obs, findings, m365)
        if obs.delegation is not None:
            d = classify_delegation(obs.delegation, obs.mx, obs.delegation.required, obs.ns)
            if d.parent_says_elsewhere:  # the parent's delegation outranks the resolver's NS answer
                findings[:] = [f for f in findings if f.code != "NS_M365"]
            findings += d.findings
            m365.update(d.m365_records)
    if obs.domain != registered_domain:
        findings.append(finding("SUBDOMAIN_INPUT", domain=obs.domain, registered=registered_domain))

    decisive = (
        isinstance(obs.mx, Answered)
        and obs.mx.rcode == "NOERROR"
        and isinstance(obs.ns, Answered)
        and obs.ns.rcode == "NOERROR"
        and any(r.type == "NS" for r in obs.ns.records)
    )
    seen = tuple(SeenRecord(r, r in m365) for r in _all_records(obs))
    return Classification(tuple(findings), seen, decisive, _cloud(findings))


def _mta_sts(obs: Observations, findings: list[Finding], m365: set[Record]) -> None:
    sts = classify_mta_sts(obs)
    findings += sts
    m365.update(f.record for f in sts if f.code == "MTA_STS_M365" and f.record is not None)


def _mx(obs: Observations, findings: list[Finding], hit: Hit) -> None:
    if isinstance(obs.mx, Undetermined):
        findings.append(_failed(obs.mx, Severity.UNKNOWN, "mx"))
        return
    mx = [r for r in obs.mx.records if r.type == "MX"]
    real = [r for r in mx if r.target != "."]
    if not mx:
        _no_mx(obs, findings)
    elif len(real) < len(mx):
        null = next(r for r in mx if r.target == ".")
        findings.append(finding("MX_NULL", variant="mixed" if real else None, record=null, domain=obs.domain))
    for rec in real:
        _mx_record(rec, findings, hit)
    for chain in obs.mx_hosts:
        _mx_host_chain(chain, findings, hit)
    findings += [finding("OUT_OF_ZONE", name=name) for name in obs.skipped]


def _mx_record(rec: Record, findings: list[Finding], hit: Hit) -> None:
    """One MX record: an IP address (not checkable), a Microsoft host, or a gateway in front of one."""
    target = rec.target or ""
    if _is_address(target):
        findings.append(
            finding("LOOKUP_FAILED", variant="mx_ip", record=rec, severity=Severity.WARNING, value=rec.value)
        )
    elif fp := match_host("mx", target):
        hit(fp, rec, "mx", value=rec.value)
    elif gw := match_gateway(target):
        hit(gw, rec, None, value=rec.value)


def _mx_host_chain(chain: Chain, findings: list[Finding], hit: Hit) -> None:
    """An MX host's CNAME chain: broken (unknown), or leading to a Microsoft host."""
    if chain.failure:
        record = Record(chain.name, "CNAME", "")
        f = finding(
            "LOOKUP_FAILED",
            variant="mx_cname",
            severity=Severity.UNKNOWN,
            record=record,
            host=chain.name,
            reason=chain.failure,
        )
        findings.append(f)
    for rec in chain.records:
        fp = match_host("mx", rec.target or "") if rec.type == "CNAME" else None
        if fp:
            code = "MX_CNAME_M365" if fp.code == "MX_M365" else fp.code
            hit(fp, rec, "mx_cname", code, host=chain.name, target=rec.target)


def _no_mx(obs: Observations, findings: list[Finding]) -> None:
    addresses = [
        r
        for lk in (obs.a, obs.aaaa)
        if isinstance(lk, Answered)
        for r in lk.records
        if r.type in ("A", "AAAA")
    ]
    failed = [lk for lk in (obs.a, obs.aaaa) if isinstance(lk, Undetermined)]
    if addresses:
        findings.append(
            finding("MX_NONE_IMPLICIT", record=addresses[0], domain=obs.domain, address=addresses[0].value)
        )
    elif failed:
        findings.append(_failed(failed[0], Severity.WARNING, "address"))
    else:
        findings.append(finding("MX_NONE", domain=obs.domain))


def _ns(obs: Observations, findings: list[Finding], hit: Hit) -> None:
    if isinstance(obs.ns, Undetermined):
        findings.append(_failed(obs.ns, Severity.UNKNOWN, "ns"))
        return
    ns = [r for r in obs.ns.records if r.type == "NS"]
    if not ns:
        findings.append(
            finding(
                "LOOKUP_FAILED",
                variant="no_ns",
                severity=Severity.UNKNOWN,
                record=Record(obs.zone or obs.domain, "NS", ""),
                domain=obs.domain,
            )
        )
        return
    matched = [(r, fp) for r in ns if (fp := match_host("ns", r.target or ""))]
    if matched:
        rec, fp = matched[0]
        names = ", ".join(r.value for r, _ in matched)
        hit(
            fp,
            rec,
            "ns",
            also=[r for r, _ in matched],
            names=names,
            zone=obs.zone or obs.domain,
        )


def _txt(obs: Observations, findings: list[Finding], hit: Hit) -> None:
    if isinstance(obs.txt, Undetermined):
        findings.append(_failed(obs.txt, Severity.WARNING, "txt"))
        return
    for rec in obs.txt.records:
        if rec.type != "TXT":
            continue
        fp = match_spf(rec.value)
        if fp:
            hit(fp, rec, "spf")
        fp = match_text(rec.value)
        if fp and fp.id == "txt-verify-undocumented":  # not Microsoft's form: info, not a leftover of the tenant
            findings.append(
                finding(fp.code, variant="undocumented", severity=Severity.INFO, record=rec, value=rec.value)
            )
        elif fp:
            hit(fp, rec, "text")


def _leftovers(obs: Observations, findings: list[Finding], hit: Hit) -> None:
    for chain in obs.names:
        _leftover(chain, findings, hit, obs.zone or obs.domain)


def _leftover(chain: Chain, findings: list[Finding], hit: Hit, origin: str) -> None:
    if chain.failure:
        failed = next((lk for lk in chain.lookups if isinstance(lk, Undetermined)), None)
        findings.append(
            finding(
                "LOOKUP_FAILED",
                variant="name",
                severity=Severity.WARNING,
                record=Record(chain.name, failed.rdtype if failed else "CNAME", ""),
                name=chain.name,
                reason=chain.failure,
            )
        )
    for rec in chain.records:
        if rec.type not in ("CNAME", "SRV") or not rec.target:
            continue
        fp = (
            match_host(chain.kind, rec.target)  # type: ignore[arg-type]
            or _other_kind(chain.kind, rec.target)
        )
        if fp:
            hit(fp, rec, "name", name=rec.name, type=rec.type, value=rec.value)
        elif intended := relative_typo(rec.target, origin, chain.kind):
            findings.append(
                finding(
                    "CNAME_RELATIVE_TYPO",
                    record=rec,
                    name=rec.name,
                    type=rec.type,
                    value=rec.value,
                    intended=intended,
                )
            )


def _wildcard_mx(obs: Observations, findings: list[Finding], hit: Hit) -> None:
    """`* MX` to Exchange Online (zone files only, see check.wildcard_mx): the subdomains' mail still goes there."""
    lk = obs.wildcard_mx
    if isinstance(lk, Undetermined):
        findings.append(_failed(lk, Severity.WARNING, "name"))
        return
    for rec in lk.records if isinstance(lk, Answered) else ():
        fp = match_host("mx", rec.target or "") if rec.type == "MX" else None
        if fp and fp.code == "MX_M365":
            hit(fp, rec, None, "MX_WILDCARD_M365", name=rec.name, value=rec.value)


def _partner(obs: Observations) -> list[Finding]:
    """One info finding when a TXT value or a leftover CNAME names a partner-managed tenant (GoDaddy)."""
    txt = obs.txt.records if isinstance(obs.txt, Answered) else ()
    candidates = [(r, r.value) for r in txt if r.type == "TXT"]
    candidates += [(r, r.target) for c in obs.names for r in c.records if r.type == "CNAME" and r.target]
    for rec, value in candidates:
        hit = match_partner(value or "")
        if hit:
            return [
                finding("M365_PARTNER_MANAGED", record=rec, value=rec.value, partner=hit[0], tenant=hit[1])
            ]
    return []


def _other_kind(kind: str, target: str) -> Fingerprint | None:
    """A name Microsoft 365 asked for, pointing at a Microsoft 365 host of another kind (autodiscover -> an
    Exchange Online MX host, say): still a leftover of that name. Reported under the name's own code."""
    own = next((fp for fp in FINGERPRINTS if fp.kind == kind), None)
    if own is None:
        return None
    for fp in FINGERPRINTS:
        if fp.kind != kind and fp.match == "host" and match_host(fp.kind, target, (fp,)):
            return dataclasses.replace(own, service=fp.service, cloud=fp.cloud)
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _all_records(obs: Observations) -> Iterable[Record]:
    seen: dict[Record, None] = {}
    lookups: list[Lookup] = [obs.mx, obs.ns, obs.txt, obs.a, obs.aaaa]
    if obs.wildcard_mx is not None:
        lookups.append(obs.wildcard_mx)
    for chain in obs.names:
        lookups += chain.lookups
    for lk in lookups:
        if isinstance(lk, Answered):
            for r in lk.records:
                seen.setdefault(r, None)
    # of an MX host, its CNAME chain: its addresses only say that mail can go there (--explain shows them)
    for r in (r for chain in obs.mx_hosts for r in chain.records if r.type == "CNAME"):
        seen.setdefault(r, None)
    return seen


def _failed(lk: Undetermined, severity: Severity, consequence: str) -> Finding:
    """LOOKUP_FAILED for a lookup; `consequence` names what it leaves undecided (a catalogue variant)."""
    return finding(
        "LOOKUP_FAILED",
        variant=consequence,
        record=Record(lk.name, lk.rdtype, ""),
        severity=severity,
        type=lk.rdtype,
        name=lk.name,
        reason=lk.reason,
    )


def _cloud(findings: list[Finding]) -> str | None:
    clouded = [f for f in findings if f.cloud]
    return max(clouded, key=lambda f: f.severity.rank).cloud if clouded else None
