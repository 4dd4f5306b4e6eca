"""`--explain` for DNSSEC: the chain as checked, each DS, each server's keys, which signatures validated. Pure."""

from __future__ import annotations

import time

from dnscheck.collect.dnssec import DnssecObs, KeyServer, Signed
from dnscheck.dnssec import (
    Rdata,
    _dnssec,
    _rrset,
    _why_invalid,
    describe_ds,
    describe_keys,
    ds_records,
    matching_keys,
)


def explain_lines(obs: DnssecObs, now: float | None = None) -> list[str]:
    """The chain as `--explain` shows it: each DS, each server's keys, which signatures validated."""
    now = time.time() if now is None else now
    out = [f"DNSSEC of {obs.zone} ({obs.source}):"]
    for lk in obs.ds:
        if isinstance(lk, Signed):
            ds = list(lk.rrset) if lk.rrset is not None else []
            what = f"TTL {lk.ttl}: {describe_ds(ds)}" if ds else "no DS (insecure delegation)"
            out.append(f"  DS @{lk.server}: {what}")
        else:
            out.append(f"  DS @{lk.server}: FAILED: {lk.reason}")
    ds_all = ds_records(obs) or []
    for s in obs.servers:
        out += _explain_server(obs.zone, s, ds_all, now)
    if obs.resolver is not None:
        v = obs.resolver
        cd = f", with CD: {v.cd_rcode}" if v.cd_rcode else ""
        ede = f", EDE: {'; '.join(v.ede)}" if v.ede else ""
        state = v.failure or f"{v.rcode}{' AD' if v.ad else ''}{cd}{ede}"
        out.append(f"  resolver {v.server}: MX {v.name} -> {state}")
    return out


def _explain_server(zone: str, s: KeyServer, ds: list[Rdata], now: float) -> list[str]:
    if not isinstance(s.dnskey, Signed):
        return [f"  server {s.label}: DNSKEY FAILED: {s.dnskey.reason}"]
    if s.keys is None:
        return [f"  server {s.label}: no DNSKEY (unsigned)"]
    matching = matching_keys(zone, s.keys, ds)
    tags = {_dnssec().key_id(k) for k in matching}
    keys = "; ".join(
        f"{describe_keys([k])}{' (matches a DS)' if _dnssec().key_id(k) in tags else ''}" for k in s.keys
    )
    lines = [f"  server {s.label}: keys: {keys}"]
    chain = (
        _why_invalid(s.dnskey, _rrset(zone, s.keys.ttl, matching), now) if matching else "no key matches a DS"
    )
    lines.append(
        f"    DNSKEY {zone}: {'validates from the DS' if chain is None else 'does not validate: ' + chain}"
    )
    for lk in s.data:
        if not isinstance(lk, Signed):
            lines.append(f"    {lk.rdtype} {lk.name}: FAILED: {lk.reason}")
        elif lk.rrset is None:
            lines.append(f"    {lk.rdtype} {lk.name}: no data")
        else:
            why = _why_invalid(lk, s.keys, now)
            signers = ", ".join(str(sig.key_tag) for sig in lk.sigs or ())
            state = "validates" if why is None else f"does not validate: {why}"
            lines.append(f"    {lk.rdtype} {lk.name}: signed by key(s) {signers or 'none'}: {state}")
    return lines
