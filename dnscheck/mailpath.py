"""Mail paths that lead nowhere: MX hosts with no address, and Microsoft names broken by a missing trailing dot.

Pure, like the classifier. An MX host is only judged from lookups that answered: a failed address lookup is
`unknown` (LOOKUP_FAILED), never "has an address", and a host that was not looked up at all (outside a zone file,
or a Microsoft host assumed to work) never counts as missing. So `blocked` needs every MX host answered and empty.
"""

from __future__ import annotations

import ipaddress

from dnscheck.codes import finding
from dnscheck.fingerprints import clean_host, match_gateway, match_host
from dnscheck.models import Answered, Finding, Lookup, Observations, Record, Severity, Undetermined


def relative_typo(target: str | None, origin: str, kind: str = "mx") -> str | None:
    """The Microsoft 365 (or, for MX, gateway) name that `target` would be without the appended origin."""
    base = strip_relative(target or "", origin)
    if base is None:
        return None
    if match_host(kind, base) or match_host("mx", base) or (kind == "mx" and match_gateway(base)):  # type: ignore[arg-type]
        return base
    return None


def mail_path_findings(obs: Observations) -> list[Finding]:
    if not isinstance(obs.mx, Answered):
        return []
    mx = [r for r in obs.mx.records if r.type == "MX" and r.target and r.target != "."]
    out = _typos(mx, obs.zone or obs.domain)
    dead = {_host(f.record) for f in out if f.record is not None}
    failed, missing = _addresses(obs, mx, dead | _not_judged(obs))
    out += failed
    dead |= {_host(r) for r, _ in missing}
    # blocked only when every MX host is known to lead nowhere; one that works (or was not judged) keeps the mail
    severity = Severity.BLOCKED if mx and all(_host(r) in dead for r in mx) else Severity.WARNING
    out += [
        finding("MX_TARGET_MISSING", severity=severity, record=r, value=r.value, host=r.target, why=why)
        for r, why in missing
    ]
    return out


def _addresses(
    obs: Observations, mx: list[Record], skip: set[str]
) -> tuple[list[Finding], list[tuple[Record, str]]]:
    """From the address lookups of the MX hosts: the failed ones (unknown), and the hosts with no address and why."""
    failed: list[Finding] = []
    missing: list[tuple[Record, str]] = []
    by_host = {_host(r): r for r in mx}
    for host, lookups in obs.mx_addresses:
        mx_rec = by_host.get(host.rstrip(".").lower())
        if mx_rec is None or _host(mx_rec) in skip or _is_address(host):
            continue  # an IP literal as MX is LOOKUP_FAILED.mx_ip already
        state = _state(lookups)
        if isinstance(state, Undetermined):
            failed.append(_failed(host, state))
        elif state is not None:
            missing.append((mx_rec, state))
    return failed, missing


def _typos(mx: list[Record], origin: str) -> list[Finding]:
    out = []
    for rec in mx:
        intended = relative_typo(rec.target, origin)
        if intended:
            out.append(finding("MX_RELATIVE_TYPO", record=rec, value=rec.value, intended=intended))
    return out


def _failed(host: str, state: Undetermined) -> Finding:
    return finding(
        "LOOKUP_FAILED",
        variant="mx_address",
        severity=Severity.UNKNOWN,
        record=Record(host, state.rdtype, ""),
        host=host,
        reason=state.reason,
    )


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.rstrip("."))
    except ValueError:
        return False
    return True


def _not_judged(obs: Observations) -> set[str]:
    """MX hosts whose address is not judged here: a CNAME to Microsoft 365 (MX_CNAME_M365, Microsoft's end is
    assumed to work), or a CNAME chain that could not be followed (already LOOKUP_FAILED: unknown, never missing)."""
    return {
        c.name.rstrip(".").lower()
        for c in obs.mx_hosts
        if c.failure or any(r.type == "CNAME" and match_host("mx", r.target or "") for r in c.records)
    }


def _host(rec: Record) -> str:
    return (rec.target or "").rstrip(".").lower()


def _state(lookups: tuple[Lookup, ...]) -> Undetermined | str | None:
    """A failed lookup, why the host has no address ("NXDOMAIN", "NODATA"), or None when it has one."""
    for lk in lookups:
        if isinstance(lk, Undetermined):
            return lk
    if any(r.type in ("A", "AAAA") for lk in lookups if isinstance(lk, Answered) for r in lk.records):
        return None
    if any(isinstance(lk, Answered) and lk.nxdomain for lk in lookups):
        return "NXDOMAIN"
    return "NODATA"  # RFC 2308: the name exists, with no A or AAAA


def strip_relative(host: str, origin: str) -> str | None:
    """`host` without a trailing `.origin` that a zone file appended to a name written without its final dot
    (contoso-com.mail.protection.outlook.com.contoso.com), or None when it does not end that way."""
    host, origin = clean_host(host), clean_host(origin)
    if origin and host.endswith("." + origin) and "." in host[: -len(origin) - 1]:
        return host[: -len(origin) - 1]
    return None
