"""The planned zone's DNSSEC: a zone file's DNSKEY and RRSIGs against the parent's DS (`--parent-ds`).

The zone file alone cannot know the DS: `--parent-ds live` asks the live parent's servers (non-recursively, as the
delegation probe does), `--parent-ds FILE` reads DS records in zone-file syntax, one per line:

    contoso.com. 3600 IN DS 12345 13 2 0123abcd...

Without `--parent-ds` the check stays offline and says DNSSEC was not checked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

from dnscheck.collect.dnssec_query import DnssecObs, KeyServer, Signed, SignedLookup, ask_signed
from dnscheck.collect.run import Run
from dnscheck.errors import ConfigError
from dnscheck.models import Undetermined

MAX_DS_FILE_BYTES = 1 << 20
PLANNED = "zone file"


@dataclass(frozen=True)
class ParentDs:
    """Where the parent's DS comes from: "live" (with a resolver source to find the parent's servers), or a file."""

    mode: str  # "live" | "file"
    path: str | None = None
    records: dict[str, dns.rrset.RRset] = field(default_factory=dict)  # zone (no final dot) -> DS RRset
    resolver: Any = None  # a ResolverSource, for "live"


def parent_ds_option(value: str, resolver: Any) -> ParentDs:
    """`--parent-ds live|FILE`; a FILE that cannot be read or parsed is a usage error, said at once."""
    if value == "live":
        return ParentDs("live", resolver=resolver)
    return ParentDs("file", value, load_ds_file(value))


def load_ds_file(path: str) -> dict[str, dns.rrset.RRset]:
    try:
        with open(path, "rb") as f:  # bounded: a FIFO or /dev/zero must not hang the check
            raw = f.read(MAX_DS_FILE_BYTES + 1)
        text = raw[:MAX_DS_FILE_BYTES].decode("utf-8")
    except OSError as e:
        raise ConfigError(f"--parent-ds {path}: cannot read it: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"--parent-ds {path}: not UTF-8 text") from None
    try:
        # Absolute owners, no $INCLUDE: the same rules as the zone file itself.
        records = dns.zone.from_text(
            text,
            origin=dns.name.root,
            relativize=False,
            allow_include=False,
            check_origin=False,
            filename=Path(path).name,
        )
    except dns.exception.DNSException as e:
        raise ConfigError(f"--parent-ds {path}: {e}") from None
    out = {}
    for name, node in records.items():
        for rds in node.rdatasets:
            if rds.rdtype != dns.rdatatype.DS:
                raise ConfigError(
                    f"--parent-ds {path}: {name} {dns.rdatatype.to_text(rds.rdtype)}: only DS records"
                )
            out[name.to_text(omit_final_dot=True).lower()] = dns.rrset.from_rdata_list(
                name, rds.ttl, list(rds)
            )
    if not out:
        raise ConfigError(f"--parent-ds {path}: no DS record in it")
    return out


async def planned_dnssec(
    run: Run, zone: dns.zone.Zone, domain: str, parent: ParentDs | None, deadline: float
) -> DnssecObs:
    assert zone.origin is not None
    apex = zone.origin.to_text(omit_final_dot=True).lower()
    if parent is None:
        return DnssecObs(apex, probed=False, source="planned")
    ds = await _live_ds(run, parent, apex, deadline) if parent.mode == "live" else _file_ds(parent, apex)
    return DnssecObs(apex, ds, (planned_server(zone, domain),), source="planned")


def planned_server(zone: dns.zone.Zone, domain: str) -> KeyServer:
    assert zone.origin is not None
    origin = zone.origin
    data = (
        _signed(zone, origin, "SOA"),
        _signed(zone, origin, "NS"),
        _signed(zone, dns.name.from_text(domain), "MX"),
    )
    return KeyServer(PLANNED, "", _signed(zone, origin, "DNSKEY"), data)


def _signed(zone: dns.zone.Zone, name: dns.name.Name, rdtype: str) -> Signed:
    kind = dns.rdatatype.from_text(rdtype)
    text = name.to_text(omit_final_dot=True).lower()
    rds = zone.get_rdataset(name, kind)
    sigs = zone.get_rdataset(name, dns.rdatatype.RRSIG, covers=kind)
    return Signed(
        text,
        rdtype,
        PLANNED,
        dns.rrset.from_rdata_list(name, rds.ttl, list(rds)) if rds else None,
        dns.rrset.from_rdata_list(name, sigs.ttl, list(sigs)) if sigs else None,
    )


def _file_ds(parent: ParentDs, apex: str) -> tuple[SignedLookup, ...]:
    rrset = parent.records.get(apex)
    where = f"file {parent.path}"
    # A file that lists other zones' DS but none for this one says: no DS here (the user wrote the file for it).
    return (Signed(apex, "DS", where, rrset),)


async def _live_ds(run: Run, parent: ParentDs, apex: str, deadline: float) -> tuple[SignedLookup, ...]:
    """The DS from every server of the live parent zone, found through the resolver as the delegation probe does."""
    from dnscheck.collect.authoritative import _find_parent_servers

    parent_name = apex.partition(".")[2]
    if not parent_name or parent.resolver is None:
        return (Undetermined(apex, "DS", "the zone has no parent to ask"),)
    _, lookup, addrs = await run.parents.get(
        parent_name, lambda: _find_parent_servers(run, parent.resolver, parent_name, deadline)
    )
    if not addrs:
        why = lookup.reason if isinstance(lookup, Undetermined) else "no NS records"
        return (Undetermined(apex, "DS", f"parent zone servers not found: {why}"),)
    return tuple(await asyncio.gather(*(ask_signed(run, a, apex, "DS", deadline) for _, a in addrs)))
