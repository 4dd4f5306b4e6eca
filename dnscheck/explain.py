"""`--explain`: a readable trace of who was asked what, what came back, and how the verdict followed. Pure.

Lines are plain text; the formats clean control characters before showing them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dnscheck.i18n import _, word
from dnscheck.models import Chain, Delegation, Lookup, Observations, Result, Undetermined, by_severity
from dnscheck.reasons import translate

if TYPE_CHECKING:
    from dnscheck.mtasts import MtaSts
    from dnscheck.tenant import TenantStatus


def explain(obs: Observations, result: Result, source_label: str) -> list[str]:
    out = [_("{domain}: asked {source}").format(domain=obs.domain, source=translate(source_label))]
    for lk in (obs.mx, obs.ns, obs.txt, obs.a, obs.aaaa):
        out.append("  " + _line(lk))
    for chain in (*obs.names, *obs.mx_hosts):
        out += _chain(chain)
    if obs.delegation is not None:
        out += _delegation(obs.delegation)
    out += _https(obs, result)
    if obs.dnssec is not None:
        from dnscheck.dnssec_explain import explain_lines

        out += explain_lines(obs.dnssec)
    out += _findings(result)
    out.append(_("verdict: {verdict} ({why})").format(verdict=word(result.verdict.value), why=_why(result)))
    return out


def _delegation(d: Delegation) -> list[str]:
    if d.failure:
        return [
            _("delegation of {zone}: not probed: {reason}").format(zone=d.zone, reason=translate(d.failure))
        ]
    out = [
        _("delegation of {zone}: referral from the parent zone {parent}").format(zone=d.zone, parent=d.parent)
    ]
    out += ["  " + _line(lk) for lk in d.referral]
    if d.glue:
        out.append(
            "  " + _("glue: {records}").format(records=", ".join(f"{r.name} {r.value}" for r in d.glue))
        )
    for v in d.servers:
        state = (_("authoritative") if v.authoritative else _("LAME")) if v.reachable else _("UNREACHABLE")
        line = _("server {name} at {address}: {state}, serial {serial}")
        out.append(
            line.format(name=v.name, address=v.address or _("no address"), state=state, serial=v.serial)
        )
        out += ["  " + _line(lk) for lk in v.lookups]
    return out


def _https(obs: Observations, result: Result) -> list[str]:
    """What was asked over HTTPS: the MTA-STS policy, and Microsoft's sign-in service (--tenant-check)."""
    return _mta_sts(obs.mta_sts) + _tenant(result.tenant)


def _mta_sts(sts: MtaSts | None) -> list[str]:
    if sts is None:
        return []
    out = ["MTA-STS: " + _line(sts.txt)]
    if sts.url and not sts.fetched:
        failure = f" ({translate(sts.failure)})" if sts.failure else ""
        out.append("  " + _("{url}: not fetched").format(url=sts.url) + failure)
    elif sts.url:
        p = sts.policy
        got = (
            f"mode {p.mode}, max_age {p.max_age}, mx {', '.join(p.mx) or '-'}"
            if p
            else translate(sts.failure)
        )
        out.append(f"  GET {sts.url} -> {got}")
    return out


def _tenant(t: TenantStatus | None) -> list[str]:
    if t is None:
        return []
    facts = [t.state, t.tenant_id, t.cloud, t.namespace, t.federation_host]
    what = " ".join(x for x in facts if x)
    failed = (
        "; " + _("failed at {step}: {reason}").format(step=t.failed_at, reason=translate(t.failure))
        if t.failure
        else ""
    )
    return [_("tenant check (Microsoft sign-in service): {answer}").format(answer=what) + failed]


def _findings(result: Result) -> list[str]:
    out = [_("findings:")]
    for f in by_severity(result.findings):
        rec = (
            " ["
            + _("from {type} {name} {value}").format(
                type=f.record.type, name=f.record.name, value=f.record.value
            )
            + "]"
            if f.record and f.record.value
            else ""
        )
        out.append(f"  {word(f.severity.value):<8} {f.code}: {f.message}{rec}")
    if not result.findings:
        out.append("  " + _("none"))
    return out


def _line(lk: Lookup) -> str:
    where = f" @{lk.server}" if lk.server else ""
    ms = f" {lk.elapsed_ms} ms" if lk.elapsed_ms is not None else ""
    if isinstance(lk, Undetermined):
        return (
            f"{lk.rdtype} {lk.name}{where} -> "
            + _("FAILED: {reason}").format(reason=translate(lk.reason))
            + ms
        )
    aa = " aa" if lk.aa else ""
    if not lk.records:
        what = "NXDOMAIN" if lk.nxdomain else "NODATA"
        zone = f" (zone {lk.zone})" if lk.zone else ""
        return f"{lk.rdtype} {lk.name}{where} -> {what}{zone}{aa}{ms}"
    recs = "; ".join(f"{r.name} {r.ttl} {r.type} {r.value}" for r in lk.records[:8])
    more = " " + _("(+{n} more)").format(n=len(lk.records) - 8) if len(lk.records) > 8 else ""
    return f"{lk.rdtype} {lk.name}{where} -> {lk.rcode}{aa}{ms}: {recs}{more}"


def _chain(chain: Chain) -> list[str]:
    if len(chain.lookups) == 1 and not chain.failure:
        return ["  " + _line(chain.lookups[0])]
    lines = ["  " + _("CNAME chain from {name} ({kind}):").format(name=chain.name, kind=chain.kind)]
    lines += ["    " + _line(lk) for lk in chain.lookups]
    if chain.failure:
        lines.append("    " + _("chain broken: {reason}").format(reason=translate(chain.failure)))
    return lines


def _why(result: Result) -> str:
    if not result.findings:
        return _("MX and NS answered and nothing points at Microsoft 365")
    worst = by_severity(result.findings)[0]
    if result.verdict.value == "unknown" and worst.severity.value in ("warning", "info"):
        return _("MX or NS did not answer, so it cannot be safe")
    if worst.severity.value == "info":
        return _("nothing points at Microsoft 365; the findings are for information")
    return _("worst finding {code} ({severity})").format(code=worst.code, severity=word(worst.severity.value))
