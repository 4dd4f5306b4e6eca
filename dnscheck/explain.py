"""`--explain`: a readable trace of who was asked what, what came back, and how the verdict followed. Pure.

Lines are plain text; the formats clean control characters before showing them.
"""

from __future__ import annotations

from dnscheck.models import Chain, Lookup, Observations, Result, Undetermined


def explain(obs: Observations, result: Result, source_label: str) -> list[str]:
    out = [f"{obs.domain}: asked {source_label}"]
    for lk in (obs.mx, obs.ns, obs.txt, obs.a, obs.aaaa):
        out.append("  " + _line(lk))
    for chain in (*obs.names, *obs.mx_hosts):
        out += _chain(chain)
    d = obs.delegation
    if d is not None:
        if d.failure:
            out.append(f"delegation of {d.zone}: not probed: {d.failure}")
        else:
            out.append(f"delegation of {d.zone}: referral from the parent zone {d.parent}")
            for lk in d.referral:
                out.append("  " + _line(lk))
            if d.glue:
                out.append("  glue: " + ", ".join(f"{r.name} {r.value}" for r in d.glue))
            for v in d.servers:
                state = ("authoritative" if v.authoritative else "LAME") if v.reachable else "UNREACHABLE"
                out.append(f"server {v.name} at {v.address or 'no address'}: {state}, serial {v.serial}")
                for lk in v.lookups:
                    out.append("  " + _line(lk))
    out.append("findings:")
    for f in result.findings:
        rec = (
            f" [from {f.record.type} {f.record.name} {f.record.value}]" if f.record and f.record.value else ""
        )
        out.append(f"  {f.severity.value:<8} {f.code}: {f.message}{rec}")
    if not result.findings:
        out.append("  none")
    out.append(f"verdict: {result.verdict.value} ({_why(result)})")
    return out


def _line(lk: Lookup) -> str:
    where = f" @{lk.server}" if lk.server else ""
    ms = f" {lk.elapsed_ms} ms" if lk.elapsed_ms is not None else ""
    if isinstance(lk, Undetermined):
        return f"{lk.rdtype} {lk.name}{where} -> FAILED: {lk.reason}{ms}"
    aa = " aa" if lk.aa else ""
    if not lk.records:
        what = "NXDOMAIN" if lk.nxdomain else "NODATA"
        zone = f" (zone {lk.zone})" if lk.zone else ""
        return f"{lk.rdtype} {lk.name}{where} -> {what}{zone}{aa}{ms}"
    recs = "; ".join(f"{r.name} {r.ttl} {r.type} {r.value}" for r in lk.records[:8])
    more = f" (+{len(lk.records) - 8} more)" if len(lk.records) > 8 else ""
    return f"{lk.rdtype} {lk.name}{where} -> {lk.rcode}{aa}{ms}: {recs}{more}"


def _chain(chain: Chain) -> list[str]:
    if len(chain.lookups) == 1 and not chain.failure:
        return ["  " + _line(chain.lookups[0])]
    lines = [f"  CNAME chain from {chain.name} ({chain.kind}):"]
    lines += ["    " + _line(lk) for lk in chain.lookups]
    if chain.failure:
        lines.append(f"    chain broken: {chain.failure}")
    return lines


def _why(result: Result) -> str:
    if not result.findings:
        return "MX and NS answered and nothing points at Microsoft 365"
    order = {"blocked": 0, "unknown": 1, "warning": 2, "info": 3}
    worst = min(result.findings, key=lambda f: order[f.severity.value])
    if result.verdict.value == "unknown" and worst.severity.value in ("warning", "info"):
        return "MX or NS did not answer, so it cannot be safe"
    if worst.severity.value == "info":
        return "nothing points at Microsoft 365; the findings are for information"
    return f"worst finding {worst.code} ({worst.severity.value})"
