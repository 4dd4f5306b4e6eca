"""Classify: what the collected records say about Microsoft 365. Pure: no I/O, no clock.

The one rule for failures: a lookup that could not tell counts as the worst that record could have shown. MX and NS
decide where mail goes, so their failure is `unknown`; a leftover record's failure is a `warning`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dnscheck.codes import finding
from dnscheck.delegation import classify_delegation
from dnscheck.fingerprints import FINGERPRINTS, Fingerprint, match_gateway, match_host, match_spf, match_text
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

Hit = Callable[..., None]

_NS_NOTE = " Until the NS delegation moves, an MX change made at another DNS host has no effect."


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
        fp: Fingerprint, rec: Record, message: str, code: str | None = None, also: Iterable[Record] = ()
    ) -> None:
        if fp.code != "MX_GATEWAY":
            m365.add(rec)
            m365.update(also)
        findings.append(finding(code or fp.code, message, fp.remediation, rec, fp.cloud))

    if isinstance(obs.mx, Answered) and obs.mx.nxdomain:
        findings.append(
            finding(
                "DOMAIN_NXDOMAIN",
                f"{obs.domain} does not exist (NXDOMAIN).",
                "Check the spelling, or whether the domain has expired.",
            )
        )
    else:
        _mx(obs, findings, hit)
        _ns(obs, findings, hit)
        _txt(obs, findings, hit)
        for chain in obs.names:
            _leftover(chain, findings, hit)
        if obs.delegation is not None:
            d = classify_delegation(obs.delegation, obs.mx, obs.delegation.required, obs.ns)
            if d.parent_says_elsewhere:  # the parent's delegation outranks the resolver's NS answer
                findings[:] = [f for f in findings if f.code != "NS_M365"]
            findings += d.findings
            m365.update(d.m365_records)
    if obs.domain != registered_domain:
        findings.append(
            finding(
                "SUBDOMAIN_INPUT",
                f"{obs.domain} is a subdomain of {registered_domain}; it is checked as given.",
                f"Check {registered_domain} too if it was also added to Microsoft 365.",
            )
        )

    decisive = (
        isinstance(obs.mx, Answered)
        and obs.mx.rcode == "NOERROR"
        and isinstance(obs.ns, Answered)
        and obs.ns.rcode == "NOERROR"
        and any(r.type == "NS" for r in obs.ns.records)
    )
    seen = tuple(SeenRecord(r, r in m365) for r in _all_records(obs))
    return Classification(tuple(findings), seen, decisive, _cloud(findings))


def _mx(obs: Observations, findings: list[Finding], hit: Hit) -> None:
    if isinstance(obs.mx, Undetermined):
        findings.append(_failed(obs.mx, Severity.UNKNOWN, "Mail routing cannot be determined."))
        return
    mx = [r for r in obs.mx.records if r.type == "MX"]
    real = [r for r in mx if r.target != "."]
    if not mx:
        _no_mx(obs, findings)
    elif len(real) < len(mx):
        extra = (
            " It is mixed with other MX records, which RFC 7505 forbids; senders use those." if real else ""
        )
        findings.append(
            finding(
                "MX_NULL",
                f"{obs.domain} publishes a null MX (RFC 7505).{extra}",
                "Remove the other MX records or the null MX." if real else "",
                next(r for r in mx if r.target == "."),
            )
        )
    for rec in real:
        if _is_address(rec.target or ""):
            findings.append(
                finding(
                    "LOOKUP_FAILED",
                    f"MX {rec.value} names an IP address, not a host name (RFC 5321 section "
                    "5.1): most senders ignore it, some deliver to that address, and whose server it is cannot "
                    "be checked.",
                    "Replace it with the mail server's host name.",
                    rec,
                    severity=Severity.WARNING,
                )
            )
            continue
        fp = match_host("mx", rec.target or "")
        if fp:
            hit(fp, rec, f"MX {rec.value} is {fp.service} ({_cloud_name(fp.cloud)}).")
            continue
        gw = match_gateway(rec.target or "")
        if gw:
            hit(gw, rec, f"MX {rec.value} is a {gw.service} gateway; it may relay into Microsoft 365.")
    for chain in obs.mx_hosts:
        if chain.failure:
            findings.append(
                finding(
                    "LOOKUP_FAILED",
                    f"CNAME of MX host {chain.name} could not be followed: {chain.failure}.",
                    "Re-run the check; if it persists, ask the MX host's DNS operator.",
                    severity=Severity.UNKNOWN,
                    record=Record(chain.name, "CNAME", ""),
                )
            )
        for rec in chain.records:
            fp = match_host("mx", rec.target or "") if rec.type == "CNAME" else None
            if fp:
                code = "MX_CNAME_M365" if fp.code == "MX_M365" else fp.code
                hit(fp, rec, f"MX host {chain.name} is a CNAME to {rec.target} ({fp.service}).", code)
    for name in obs.skipped:
        findings.append(
            finding(
                "OUT_OF_ZONE",
                f"{name} lies outside the zone file and was not looked up.",
                "Check it live once the zone is published.",
            )
        )


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
            finding(
                "MX_NONE_IMPLICIT",
                f"{obs.domain} has no MX record; senders fall back to its address {addresses[0].value}.",
                "Publish an MX record for the new mail provider, or a null MX (0 .) if the domain takes no mail.",
                addresses[0],
            )
        )
    elif failed:
        findings.append(
            _failed(
                failed[0],
                Severity.WARNING,
                "With no MX, mail would fall back to this address; it could not be checked.",
            )
        )
    else:
        findings.append(
            finding(
                "MX_NONE",
                f"{obs.domain} has no MX record and no address: it cannot receive mail.",
                "Publish an MX record for the new mail provider, or a null MX (0 .) if the domain takes no mail.",
            )
        )


def _ns(obs: Observations, findings: list[Finding], hit: Hit) -> None:
    if isinstance(obs.ns, Undetermined):
        findings.append(_failed(obs.ns, Severity.UNKNOWN, "Who hosts the zone's DNS cannot be determined."))
        return
    ns = [r for r in obs.ns.records if r.type == "NS"]
    if not ns:
        findings.append(
            finding(
                "LOOKUP_FAILED",
                f"No NS records found for the zone holding {obs.domain}.",
                "Check the delegation at the registrar.",
                severity=Severity.UNKNOWN,
                record=Record(obs.zone or obs.domain, "NS", ""),
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
            f"NS {names}: {fp.service} serves the zone {obs.zone or obs.domain}." + _NS_NOTE,
            also=[r for r, _ in matched],
        )


def _txt(obs: Observations, findings: list[Finding], hit: Hit) -> None:
    if isinstance(obs.txt, Undetermined):
        findings.append(
            _failed(obs.txt, Severity.WARNING, "SPF and verification records could not be checked.")
        )
        return
    for rec in obs.txt.records:
        if rec.type != "TXT":
            continue
        fp = match_spf(rec.value)
        if fp:
            hit(fp, rec, f"SPF record includes {fp.service} ({_cloud_name(fp.cloud)}).")
        fp = match_text(rec.value)
        if fp:
            hit(fp, rec, "Microsoft 365 domain-verification TXT record.")


def _leftover(chain: Chain, findings: list[Finding], hit: Hit) -> None:
    if chain.failure:
        failed = next((lk for lk in chain.lookups if isinstance(lk, Undetermined)), None)
        findings.append(
            finding(
                "LOOKUP_FAILED",
                f"{chain.name} could not be checked: {chain.failure}.",
                "Re-run the check; if it persists, look at this name at the DNS host.",
                severity=Severity.WARNING,
                record=Record(chain.name, failed.rdtype if failed else "CNAME", ""),
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
            hit(fp, rec, f"{rec.name} {rec.type} {rec.value}: {fp.service} ({_cloud_name(fp.cloud)}).")


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
    for chain in (*obs.mx_hosts, *obs.names):
        lookups += chain.lookups
    for lk in lookups:
        if isinstance(lk, Answered):
            for r in lk.records:
                seen.setdefault(r, None)
    return seen


def _failed(lk: Undetermined, severity: Severity, consequence: str) -> Finding:
    return finding(
        "LOOKUP_FAILED",
        f"{lk.rdtype} lookup for {lk.name} failed: {lk.reason}. {consequence}",
        "Re-run the check, or use --resolver to ask another resolver.",
        Record(lk.name, lk.rdtype, ""),
        severity=severity,
    )


_CLOUD_NAMES = {
    "worldwide": "worldwide",
    "usgov": "US Government",
    "china": "21Vianet China",
    "germany": "legacy Germany",
}


def _cloud_name(cloud: str | None) -> str:
    return _CLOUD_NAMES.get(cloud or "", "Microsoft 365")


_ORDER = {Severity.BLOCKED: 0, Severity.UNKNOWN: 1, Severity.WARNING: 2, Severity.INFO: 3}


def _cloud(findings: list[Finding]) -> str | None:
    clouded = [f for f in findings if f.cloud]
    return min(clouded, key=lambda f: _ORDER[f.severity]).cloud if clouded else None
