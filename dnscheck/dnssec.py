"""DNSSEC rules: the DS at the parent against each server's keys and signatures. Pure: `DnssecObs` -> findings.

What breaks a move: a DS left at the parent while the new servers serve no keys (DNSSEC_DS_UNSIGNED), or other
keys (DNSSEC_DS_MISMATCH); validating resolvers then answer SERVFAIL for every name of the domain (DNSSEC_BOGUS).
Each server is judged on its own: a resolver that retries another server hides the one that lacks the keys.

Signatures are checked with dnspython (dns.dnssec) under a policy that allows every algorithm, so that an old
algorithm is reported as such (DNSSEC_ALGORITHM) rather than as a broken chain. What current guidance deprecates:
- RFC 8624 §3.1/§3.3 (https://www.rfc-editor.org/rfc/rfc8624): RSAMD5, DSA, DSA-NSEC3-SHA1 MUST NOT be used to
  sign, RSASHA1 and RSASHA1-NSEC3-SHA1 NOT RECOMMENDED; SHA-1 (and GOST) DS digests MUST NOT be created.
- RFC 9904 (https://www.rfc-editor.org/rfc/rfc9904) obsoletes RFC 8624 without changing those levels and moves them
  to the IANA DNSSEC algorithm registries.
- RFC 9905 (https://www.rfc-editor.org/rfc/rfc9905) deprecates RSASHA1 and RSASHA1-NSEC3-SHA1: they MUST NOT be
  used to create DNSKEY or RRSIG records, and validating resolvers MUST treat them as unsupported, so a zone signed
  only with them reads as insecure.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import dns.name
import dns.rdataset
import dns.rrset

from dnscheck.codes import finding
from dnscheck.collect.dnssec import DnssecObs, KeyServer, Signed
from dnscheck.models import Answered, Finding, Lookup, Severity

Rdata = Any  # dnspython's DS and DNSKEY rdata (its stubs type an RRset's items as the base Rdata)
WEEK = 7 * 86400
# Algorithm numbers (IANA "DNS Security Algorithm Numbers") and DS digest types that current guidance deprecates.
DEPRECATED_ALGORITHMS = {
    1: "RSAMD5",
    3: "DSA",
    5: "RSASHA1",
    6: "DSA-NSEC3-SHA1",
    7: "RSASHA1-NSEC3-SHA1",
    12: "ECC-GOST",
}
DEPRECATED_DIGESTS = {1: "SHA-1", 3: "GOST R 34.11-94"}
MX_DNSSEC_SUFFIX = ".mx.microsoft"


def dnssec_findings(obs: DnssecObs | None, mx: Lookup, now: float | None = None) -> list[Finding]:
    """Every DNSSEC finding for one domain. `now` is a Unix time (tests pin it)."""
    now = time.time() if now is None else now
    out = mx_microsoft(mx)
    if obs is None:
        return out
    if obs.source == "planned":
        return out + planned_findings(obs, now)
    chain = chain_findings(obs, now) if obs.probed else []
    out += chain
    out += resolver_findings(obs, has_chain_finding=bool(chain))
    return out


# --- the chain, server by server -------------------------------------------------------------------------------


def chain_findings(obs: DnssecObs, now: float) -> list[Finding]:
    ds = ds_records(obs)
    if ds is None:
        return [unchecked(obs)]
    if not ds:
        # Said only of a zone still signed (the DS removed: the safe state before moving NS), or of a planned
        # zone: a note on every unsigned domain of a batch would be noise.
        signed = any(s.keys is not None for s in obs.servers)
        return [finding("DNSSEC_INSECURE", zone=obs.zone)] if signed or obs.source == "planned" else []
    broken = [*unsigned(obs), *mismatched(obs, ds, now), *missing_keys(obs)]
    out = [*broken, *bad_data(obs, ds, now), *expiring(obs, now), *algorithms(obs, ds)]
    if not broken and not any(f.code == "DNSSEC_BOGUS" for f in out):
        out.append(finding("DNSSEC_SIGNED", zone=obs.zone, ds=describe_ds(ds)))
    return out


def ds_records(obs: DnssecObs) -> list[Rdata] | None:
    """The DS records the parent servers publish (union); None when no parent server answered the question."""
    answered = [lk for lk in obs.ds if isinstance(lk, Signed)]
    if not answered:
        return None
    return list(dict.fromkeys(rd for lk in answered if lk.rrset is not None for rd in lk.rrset))


def unchecked(obs: DnssecObs) -> Finding:
    reasons = sorted({getattr(lk, "reason", "") for lk in obs.ds} - {""}) or ["no parent server to ask"]
    # A warning, not info: the check was asked for and could not be done (it is never "insecure").
    return finding(
        "DNSSEC_UNCHECKED",
        variant="failed",
        severity=Severity.WARNING,
        zone=obs.zone,
        reason="; ".join(reasons),
    )


def unsigned(obs: DnssecObs) -> list[Finding]:
    """DS at the parent, no DNSKEY from these servers."""
    bare = [s for s in obs.servers if isinstance(s.dnskey, Signed) and s.dnskey.rrset is None]
    if not bare:
        return []
    return [finding("DNSSEC_DS_UNSIGNED", zone=obs.zone, servers=_labels(bare))]


def mismatched(obs: DnssecObs, ds: list[Rdata], now: float) -> list[Finding]:
    """Servers whose keys match no DS, or whose matching keys do not sign their DNSKEY set."""
    no_match, not_signing = [], []
    for s, keys in _keyed(obs.servers):
        matching = matching_keys(obs.zone, keys, ds)
        if not matching:
            no_match.append(s)
        elif _why_invalid(s.dnskey, _rrset(obs.zone, keys.ttl, matching), now) is not None:  # type: ignore[arg-type]
            not_signing.append(s)
    out = []
    if no_match:
        served = "; ".join(f"{s.label}: {describe_keys(s.keys or ())}" for s in no_match)
        out.append(
            finding(
                "DNSSEC_DS_MISMATCH",
                variant="no_match",
                zone=obs.zone,
                servers=_labels(no_match),
                ds=describe_ds(ds),
                keys=served,
            )
        )
    if not_signing:
        out.append(
            finding(
                "DNSSEC_DS_MISMATCH",
                variant="not_signing",
                zone=obs.zone,
                servers=_labels(not_signing),
                ds=describe_ds(ds),
            )
        )
    return out


def missing_keys(obs: DnssecObs) -> list[Finding]:
    """Multi-signer: a key that signs some server's data must be in every server's DNSKEY set, or a resolver that
    took the keys from one server and the data from another fails. Servers lacking the same keys share a finding."""
    used: dict[int, set[str]] = {}
    for s in obs.servers:
        for lk in s.data:
            if isinstance(lk, Signed) and lk.sigs is not None:
                for sig in lk.sigs:
                    used.setdefault(sig.key_tag, set()).add(s.label)
    lacking: dict[tuple[int, ...], list[KeyServer]] = {}
    for s, keys in _keyed(obs.servers):
        tags = {_dnssec().key_id(k) for k in keys}
        missing = tuple(sorted(t for t in used if t not in tags))
        if missing:
            lacking.setdefault(missing, []).append(s)
    return [
        finding(
            "DNSSEC_DS_MISMATCH",
            variant="missing_key",
            zone=obs.zone,
            servers=_labels(servers),
            tags=", ".join(map(str, missing)),
            signers=", ".join(sorted({label for t in missing for label in used[t]})),
        )
        for missing, servers in lacking.items()
    ]


def bad_data(obs: DnssecObs, ds: list[Rdata], now: float) -> list[Finding]:
    """SOA, NS and MX that do not validate against the server's own DNSKEY set (whose chain is whole)."""
    out = []
    for s, keys in _keyed(obs.servers):
        if not matching_keys(obs.zone, keys, ds):
            continue  # already DNSSEC_DS_MISMATCH
        for lk in s.data:
            if isinstance(lk, Signed) and lk.rrset is not None:
                why = _why_invalid(lk, keys, now)
                if why is not None:
                    out.append(
                        finding(
                            "DNSSEC_BOGUS",
                            variant="server",
                            zone=obs.zone,
                            servers=s.label,
                            name=lk.name,
                            type=lk.rdtype,
                            reason=why,
                        )
                    )
    return out


def expiring(obs: DnssecObs, now: float) -> list[Finding]:
    """The earliest signature the domain depends on that expires within a week, or before its TTL runs out."""
    soonest: tuple[int, str, str, str] | None = None
    for s in obs.servers:
        for lk in (s.dnskey, *s.data):
            if not isinstance(lk, Signed) or lk.sigs is None:
                continue
            for sig in lk.sigs:
                left = sig.expiration - now
                if 0 < left < max(WEEK, sig.original_ttl) and (
                    soonest is None or sig.expiration < soonest[0]
                ):
                    soonest = (sig.expiration, s.label, lk.name, lk.rdtype)
    if soonest is None:
        return []
    expires, server, name, rdtype = soonest
    return [
        finding(
            "DNSSEC_SIG_EXPIRING",
            zone=obs.zone,
            servers=server,
            name=name,
            type=rdtype,
            expires=_iso(expires),
            hours=int((expires - now) // 3600),
        )
    ]


def algorithms(obs: DnssecObs, ds: list[Rdata]) -> list[Finding]:
    out = []
    used = {int(k.algorithm) for _, keys in _keyed(obs.servers) for k in keys}
    for alg in sorted(used & set(DEPRECATED_ALGORITHMS)):
        out.append(
            finding(
                "DNSSEC_ALGORITHM",
                variant="key",
                zone=obs.zone,
                algorithm=DEPRECATED_ALGORITHMS[alg],
                number=alg,
            )
        )
    digests = {int(d.digest_type) for d in ds}
    for digest in sorted(digests & set(DEPRECATED_DIGESTS)):
        out.append(
            finding(
                "DNSSEC_ALGORITHM",
                variant="digest",
                zone=obs.zone,
                digest=DEPRECATED_DIGESTS[digest],
                number=digest,
            )
        )
    return out


# Findings about a zone file say "the planned zone" (their catalogue variant), not "these servers".
PLANNED_VARIANT = {"DNSSEC_DS_UNSIGNED", "DNSSEC_DS_MISMATCH", "DNSSEC_SIGNED", "DNSSEC_INSECURE"}


def planned_findings(obs: DnssecObs, now: float) -> list[Finding]:
    if not obs.probed:
        return [finding("DNSSEC_UNCHECKED", variant="planned", zone=obs.zone)]
    out = []
    for f in chain_findings(obs, now):
        if f.code in PLANNED_VARIANT and f.variant != "planned":
            f = finding(f.code, variant="planned", record=f.record, severity=f.severity, **f.arguments)
        out.append(f)
    return out


# --- the resolver's view ---------------------------------------------------------------------------------------


def resolver_findings(obs: DnssecObs, has_chain_finding: bool) -> list[Finding]:
    view = obs.resolver
    if view is None:
        return []
    if view.bogus:
        return [
            finding(
                "DNSSEC_BOGUS",
                variant="resolver",
                name=view.name,
                resolver=view.server,
                ede="; ".join(view.ede) or "-",
            )
        ]
    if view.ad and not has_chain_finding:
        return [finding("DNSSEC_SIGNED", variant="resolver", zone=obs.zone, resolver=view.server)]
    return []


# --- mx.microsoft --------------------------------------------------------------------------------------------


def mx_microsoft(mx: Lookup) -> list[Finding]:
    """Exchange Online's DNSSEC MX form (inbound SMTP DANE): its own rules when leaving or joining it."""
    if not isinstance(mx, Answered):
        return []
    hosts = [
        r.target for r in mx.records if r.type == "MX" and r.target and r.target.endswith(MX_DNSSEC_SUFFIX)
    ]
    if not hosts:
        return []
    return [finding("DNSSEC_MX_MICROSOFT", hosts=", ".join(hosts))]


# --- helpers ---


def _dnssec() -> Any:
    """dns.dnssec, imported on first use: it loads `cryptography` (~10 MB, tens of ms), which a batch of unsigned
    domains never needs. dnspython names DSA at import, which cryptography has deprecated: that warning is noise."""
    import sys

    if "dns.dnssec" not in sys.modules:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import dns.dnssec  # noqa: F401
    return sys.modules["dns.dnssec"]


def matching_keys(zone: str, keys: dns.rdataset.Rdataset, ds: Iterable[Rdata]) -> list[Rdata]:
    """The DNSKEYs some DS points at: same key tag and algorithm, and the digest of the key matches."""
    out = []
    for key in keys:
        for d in ds:
            if (
                d.key_tag == _dnssec().key_id(key)
                and d.algorithm == key.algorithm
                and _digest_ok(zone, key, d)
            ):
                out.append(key)
                break
    return out


def _digest_ok(zone: str, key: Rdata, ds: Rdata) -> bool:
    try:
        made = _dnssec().make_ds(zone + ".", key, ds.digest_type, policy=_dnssec().allow_all_policy)
    except (_dnssec().UnsupportedAlgorithm, ValueError):
        return False
    return bool(made.digest == ds.digest)


def _why_invalid(lk: Signed, keys: dns.rdataset.Rdataset, now: float) -> str | None:
    """None when some signature of the RRset validates with `keys`, else dnspython's reason."""
    if lk.rrset is None:
        return None
    if lk.sigs is None:
        return "no RRSIG"
    signer = next(iter(lk.sigs)).signer  # the zone apex: validate() looks the keys up by the signer's name
    try:
        _dnssec().validate(lk.rrset, lk.sigs, {signer: keys}, now=now, policy=_dnssec().allow_all_policy)
    except _dnssec().ValidationFailure as e:
        return str(e) or "no signature validates"
    return None


def _rrset(zone: str, ttl: int, rdatas: list[Rdata]) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(dns.name.from_text(zone), ttl, rdatas)


def _keyed(servers: Iterable[KeyServer]) -> Iterator[tuple[KeyServer, dns.rrset.RRset]]:
    """Servers that answered DNSKEY with keys, and their keys."""
    return ((s, s.keys) for s in servers if s.keys is not None)


def _labels(servers: list[KeyServer]) -> str:
    return ", ".join(s.label for s in servers)


def describe_ds(ds: Iterable[Rdata]) -> str:
    return "; ".join(
        f"tag {d.key_tag} algorithm {int(d.algorithm)} digest type {int(d.digest_type)}" for d in ds
    )


def describe_keys(keys: Iterable[Rdata]) -> str:
    return "; ".join(f"tag {_dnssec().key_id(k)} algorithm {int(k.algorithm)} flags {k.flags}" for k in keys)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
