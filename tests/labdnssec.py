"""Signed zones for the lab (tests/lab.py): keys made at lab start, zones signed with dnspython.

world.json's "dnssec" section says which zones are signed, by which server, with which keys, and which DS the
parent publishes (see its "about"). The registry (root and every TLD) is always signed when that section exists,
so that a validating resolver given the root's key as its trust anchor sees a whole chain down to each zone.

Signature windows are relative to now (now - 1 day to now + 30 days by default): the fixtures stay valid on any day.
Every key is a single key with the SEP flag (257), signing both the DNSKEY set and the zone's data (a "CSK"):
the checks under test look at keys and DS, not at the KSK/ZSK split.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

with warnings.catch_warnings():  # cryptography deprecates DSA; dnspython still names it at import
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", UserWarning)
    import dns.dnssec
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rrset
import dns.zone
from cryptography.hazmat.primitives.asymmetric import ec, rsa

DAY = 86400
DEFAULT_ALGORITHM = "ECDSAP256SHA256"
SEP = 257  # ZONE + SEP flags


def generate_key(algorithm: str) -> tuple[Any, dns.rdtypes.ANY.DNSKEY.DNSKEY]:
    """A private key and its DNSKEY. RSA keys are 1024 bits: fast to make, and the lab needs no strength."""
    alg = dns.dnssec.Algorithm.from_text(algorithm)
    private: Any
    if alg in (dns.dnssec.Algorithm.ECDSAP256SHA256,):
        private = ec.generate_private_key(ec.SECP256R1())
    elif alg in (dns.dnssec.Algorithm.RSASHA1, dns.dnssec.Algorithm.RSASHA256,
                 dns.dnssec.Algorithm.RSASHA1NSEC3SHA1):
        private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    else:
        raise ValueError(f"the lab cannot make {algorithm} keys")
    dnskey = dns.dnssec.make_dnskey(private.public_key(), alg, flags=SEP)
    return private, dnskey


def sign_text(origin: str, text: str, sign: list[tuple[Any, Any]], publish: list[Any],
              inception: float, expiration: float) -> str:
    """`text` signed with each of `sign` (private key, DNSKEY); the DNSKEY set holds those and `publish`."""
    zone = dns.zone.from_text(text, origin=dns.name.from_text(origin), relativize=False, check_origin=False)
    keys = [k for _, k in sign] + list(publish)
    with zone.writer() as txn:
        ttl = zone.get_soa(txn).minimum
        txn.add(dns.rrset.from_rdata_list(zone.origin, ttl, keys))
        dns.dnssec.sign_zone(zone, txn, keys=sign, add_dnskey=False, inception=inception,
                             expiration=expiration, policy=dns.dnssec.allow_all_policy)
    return zone.to_text(relativize=False)


@dataclass
class Signer:
    """The keys of one lab run and what to sign with them."""

    spec: dict[str, Any]
    now: float = field(default_factory=time.time)
    _keys: dict[tuple[str, str], tuple[Any, Any]] = field(default_factory=dict)

    @property
    def zones(self) -> dict[str, Any]:
        return dict(self.spec.get("zones", {}))

    def key(self, zone: str, name: str, algorithm: str = DEFAULT_ALGORITHM) -> tuple[Any, Any]:
        if (zone, name) not in self._keys:
            self._keys[(zone, name)] = generate_key(algorithm)
        return self._keys[(zone, name)]

    def zone_key(self, zone: str, name: str) -> tuple[Any, Any]:
        algorithm = self.zones.get(zone, {}).get("keys", {}).get(name, DEFAULT_ALGORITHM)
        return self.key(zone, name, algorithm)

    def sign_server_zone(self, server: str, zone: str, text: str) -> str:
        """The text `server` serves for `zone`: signed as world.json says, else unchanged."""
        how = self.zones.get(zone, {}).get("servers", {}).get(server)
        if not how or not (how.get("sign") or how.get("publish")):
            return text
        sign = [self.zone_key(zone, k) for k in how.get("sign", [])]
        publish = [self.zone_key(zone, k)[1] for k in how.get("publish", [])]
        expires = self.now + how.get("expires_in", 30 * DAY)
        return sign_text(zone, text, sign, publish, self.now - DAY, expires)

    def ds_lines(self, zone: str) -> list[str]:
        """The DS records the parent publishes for `zone`, in zone-file syntax."""
        how = self.zones.get(zone)
        if not how:
            return []
        digest = how.get("ds_digest", "SHA256")
        out = []
        for name in how.get("ds", []):
            # The lab must be able to publish what current policy forbids (a SHA-1 digest), to test that we see it.
            ds = dns.dnssec.make_ds(zone + ".", self.zone_key(zone, name)[1], digest,
                                    policy=dns.dnssec.allow_all_policy)
            out.append(f"{zone}. 3600 IN DS {ds.to_text()}")
        return out

    def sign_registry(self, zones: dict[str, str]) -> dict[str, str]:
        """Root and TLD zone texts with the DS of each signed child added, then signed."""
        out = {}
        for name, text in zones.items():
            if name == ".":
                children = [_tld_of_line(line) for line in text.splitlines() if " NS a.nic." in line]
                ds = [line for tld in children for line in self._registry_ds(tld)]
            else:
                ds = [line for zone in self.zones for line in self.ds_lines(zone) if zone.endswith("." + name)]
            origin = "." if name == "." else name + "."
            key = self.key(name, "registry")
            out[name] = sign_text(origin, text + "".join(f"{line}\n" for line in ds), [key], [],
                                  self.now - DAY, self.now + 30 * DAY)
        return out

    def _registry_ds(self, tld: str) -> list[str]:
        ds = dns.dnssec.make_ds(tld + ".", self.key(tld, "registry")[1], "SHA256")
        return [f"{tld}. 3600 IN DS {ds.to_text()}"]

    def trust_anchor(self) -> str:
        """The root's DNSKEY, for Unbound's trust-anchor-file."""
        return f". 3600 IN DNSKEY {self.key('.', 'registry')[1].to_text()}\n"

    def ds_file(self, zone: str) -> str:
        """What `--parent-ds FILE` takes: the zone's DS records, one per line."""
        return "".join(f"{line}\n" for line in self.ds_lines(zone))


def _tld_of_line(line: str) -> str:
    return line.split()[0].rstrip(".")
