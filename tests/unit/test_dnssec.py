"""DNSSEC rules (dnscheck/dnssec.py), pure: observations built from zones signed here with dnspython."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import dns.name
import dns.rrset
import dns.zone
import pytest

from dnscheck.collect.dnssec import DnssecObs, KeyServer, ResolverView, Signed
from dnscheck.collect.dnssec_planned import ParentDs, load_ds_file, planned_dnssec, planned_server
from dnscheck.collect.run import Run
from dnscheck.dnssec import dnssec_findings
from dnscheck.dnssec_explain import explain_lines
from dnscheck.errors import ConfigError
from dnscheck.models import Answered, Finding, Observations, Record, Undetermined
from dnscheck.ttl import ttls_of
from tests.labdnssec import DAY, generate_key, sign_text

with warnings.catch_warnings():  # dnspython names DSA at import, which cryptography has deprecated
    warnings.simplefilter("ignore")
    import dns.dnssec

ZONE = "example.com"
NOW = time.time()
TEXT = """$TTL 300
@ SOA ns1.example.net. hostmaster.example.net. 1 3600 600 1209600 300
@ NS ns1.example.net.
@ MX 10 mx.example.net.
"""
KEYS = {name: generate_key("ECDSAP256SHA256") for name in ("k1", "k2")}
KEYS["old"] = generate_key("RSASHA1")


def zone(sign: list[str], publish: list[str] = (), expires: float = 30 * DAY) -> dns.zone.Zone:  # type: ignore[assignment]
    text = TEXT
    if sign or publish:
        text = sign_text(ZONE, TEXT, [KEYS[k] for k in sign], [KEYS[k][1] for k in publish], NOW - DAY, NOW + expires)
    return dns.zone.from_text(text, origin=ZONE + ".", relativize=False)


def server(host: str, sign: list[str], publish: list[str] = (), expires: float = 30 * DAY) -> KeyServer:  # type: ignore[assignment]
    return dataclasses.replace(planned_server(zone(sign, publish, expires), ZONE), host=host, address="192.0.2.1")


def ds(*keys: str, digest: str = "SHA256") -> Signed:
    rdatas = [dns.dnssec.make_ds(ZONE + ".", KEYS[k][1], digest, policy=dns.dnssec.allow_all_policy) for k in keys]
    rrset = dns.rrset.from_rdata_list(ZONE + ".", 3600, rdatas) if rdatas else None
    return Signed(ZONE, "DS", "192.0.2.53", rrset)


def obs(ds_lookups: list[Signed | Undetermined], servers: list[KeyServer], **kw: object) -> DnssecObs:
    return DnssecObs(ZONE, tuple(ds_lookups), tuple(servers), **kw)  # type: ignore[arg-type]


def run(o: DnssecObs | None, mx: Answered | None = None) -> list[Finding]:
    return dnssec_findings(o, mx or Answered(ZONE, "MX"), NOW)


def codes(findings: list[Finding]) -> list[str]:
    return [f.key for f in findings]


# --- scenarios (test_classify.py's coverage test refers to them) ----------------------------------------------

SCENARIOS: dict[str, Callable[[], list[Finding]]] = {
    "signed": lambda: run(obs([ds("k1")], [server("ns1", ["k1"]), server("ns2", ["k1"])])),
    "insecure": lambda: run(obs([ds()], [server("ns1", ["k1"])])),
    "unchecked": lambda: run(obs([Undetermined(ZONE, "DS", "no answer (timed out)", "192.0.2.53")], [])),
    "unsigned": lambda: run(obs([ds("k1")], [server("ns1", [])])),
    "other_keys": lambda: run(obs([ds("k1")], [server("ns1", ["k2"])])),
    "not_signing": lambda: run(obs([ds("k1")], [server("ns1", ["k2"], publish=["k1"])])),
    "multi_signer": lambda: run(obs([ds("k1", "k2")], [server("ns1", ["k1"], ["k2"]), server("ns2", ["k2"])])),
    "expiring": lambda: run(obs([ds("k1")], [server("ns1", ["k1"], expires=2 * DAY)])),
    "expired": lambda: run(obs([ds("k1")], [server("ns1", ["k1"], expires=-1)])),
    "algorithm": lambda: run(obs([ds("old", digest="SHA1")], [server("ns1", ["old"])])),
    "bogus": lambda: run(
        DnssecObs(ZONE, resolver=ResolverView("192.0.2.9", ZONE, "SERVFAIL", cd_rcode="NOERROR",
                                              ede=("EDE 9 (DNSKEY Missing)",)), probed=False)
    ),
    "mx_microsoft": lambda: run(
        None, Answered(ZONE, "MX", (Record(ZONE, "MX", "0 contoso-com.o-v1.mx.microsoft", 3600,
                                           target="contoso-com.o-v1.mx.microsoft"),))
    ),
}


def test_signed_and_whole() -> None:
    assert codes(SCENARIOS["signed"]()) == ["DNSSEC_SIGNED"]


def test_no_ds_is_insecure_and_a_failed_ds_question_is_not() -> None:
    assert codes(SCENARIOS["insecure"]()) == ["DNSSEC_INSECURE"]
    assert run(obs([ds()], [server("ns1", [])])) == []  # never signed: nothing to say
    (f,) = SCENARIOS["unchecked"]()
    assert f.key == "DNSSEC_UNCHECKED.failed" and f.severity.value == "warning"


def test_one_answering_parent_server_is_enough_and_failures_are_ignored_then() -> None:
    failed = Undetermined(ZONE, "DS", "no answer (timed out)", "192.0.2.54")
    assert codes(run(obs([failed, ds("k1")], [server("ns1", ["k1"])]))) == ["DNSSEC_SIGNED"]


def test_ds_without_keys_names_the_unsigned_servers() -> None:
    (f,) = SCENARIOS["unsigned"]()
    assert f.code == "DNSSEC_DS_UNSIGNED" and f.severity.value == "blocked"
    assert "ns1 (192.0.2.1)" in f.message


def test_other_keys_and_keys_that_do_not_sign_are_mismatches() -> None:
    assert codes(SCENARIOS["other_keys"]()) == ["DNSSEC_DS_MISMATCH.no_match"]
    assert "DNSSEC_DS_MISMATCH.not_signing" in codes(SCENARIOS["not_signing"]())


def test_multi_signer_server_missing_a_key_is_named() -> None:
    found = SCENARIOS["multi_signer"]()
    (f,) = [f for f in found if f.key == "DNSSEC_DS_MISMATCH.missing_key"]
    assert f.arguments["servers"] == "ns2 (192.0.2.1)"
    assert f.arguments["tags"] == str(dns.dnssec.key_id(KEYS["k1"][1]))


def test_both_operators_publishing_both_keys_is_whole() -> None:
    whole = obs([ds("k1", "k2")], [server("ns1", ["k1"], ["k2"]), server("ns2", ["k2"], ["k1"])])
    assert codes(run(whole)) == ["DNSSEC_SIGNED"]


def test_signatures_expiring_within_a_week_warn_and_expired_ones_are_bogus() -> None:
    (f, signed) = SCENARIOS["expiring"]()
    assert f.code == "DNSSEC_SIG_EXPIRING" and 47 <= f.arguments["hours"] <= 48 and signed.code == "DNSSEC_SIGNED"
    assert "DNSSEC_SIG_EXPIRING" not in codes(SCENARIOS["signed"]())
    assert "DNSSEC_SIGNED" not in codes(SCENARIOS["expired"]())
    assert any(c.startswith("DNSSEC_DS_MISMATCH") or c == "DNSSEC_BOGUS.server" for c in codes(SCENARIOS["expired"]()))


def test_rsasha1_and_sha1_digest_are_deprecated() -> None:
    found = [f for f in SCENARIOS["algorithm"]() if f.code == "DNSSEC_ALGORITHM"]
    assert {f.variant for f in found} == {"key", "digest"}
    assert {f.arguments.get("algorithm") or f.arguments.get("digest") for f in found} == {"RSASHA1", "SHA-1"}


def test_resolver_bogus_signed_and_silent() -> None:
    (f,) = SCENARIOS["bogus"]()
    assert f.key == "DNSSEC_BOGUS.resolver" and "cannot deliver mail" in f.message and "DNSKEY Missing" in f.message
    ad = DnssecObs(ZONE, resolver=ResolverView("192.0.2.9", ZONE, "NOERROR", ad=True), probed=False)
    assert codes(run(ad)) == ["DNSSEC_SIGNED.resolver"]
    plain = DnssecObs(ZONE, resolver=ResolverView("192.0.2.9", ZONE, "NOERROR"), probed=False)
    assert run(plain) == []
    broken = DnssecObs(ZONE, resolver=ResolverView("192.0.2.9", ZONE, "SERVFAIL", cd_rcode="SERVFAIL"), probed=False)
    assert run(broken) == []  # SERVFAIL that CD does not clear: broken, not bogus (LOOKUP_FAILED says it)


def test_mx_microsoft_note() -> None:
    (f,) = SCENARIOS["mx_microsoft"]()
    assert f.code == "DNSSEC_MX_MICROSOFT" and f.severity.value == "info"


def test_ds_ttl_joins_the_cache_arithmetic() -> None:
    o = Observations(ZONE, ZONE, Answered(ZONE, "MX"), Answered(ZONE, "NS"), Answered(ZONE, "TXT"),
                     Answered(ZONE, "A"), Answered(ZONE, "AAAA"))
    signed = dataclasses.replace(o, dnssec=obs([ds("k1")], []))
    assert ttls_of(o).ds is None
    ttls = ttls_of(signed)
    assert ttls.ds == 3600 and ttls.as_dict()["ds"] == 3600 and ttls.longest >= 3600
    longer = dataclasses.replace(ds("k1"), rrset=dns.rrset.from_rdata_list(ZONE + ".", 86400, list(ds("k1").rrset)))
    assert ttls_of(dataclasses.replace(o, dnssec=obs([longer], []))).longest == 86400


def test_explain_shows_each_ds_key_and_signature() -> None:
    lines = "\n".join(explain_lines(obs([ds("k1")], [server("ns1", ["k1"], ["k2"])]), NOW))
    assert f"tag {dns.dnssec.key_id(KEYS['k1'][1])} algorithm 13 flags 257 (matches a DS)" in lines
    assert "DNSKEY example.com: validates from the DS" in lines and "MX example.com: signed by key(s)" in lines


# --- the planned zone -----------------------------------------------------------------------------------------


def planned(z: dns.zone.Zone, parent: ParentDs | None) -> list[Finding]:
    return run(asyncio.run(planned_dnssec(Run(), z, ZONE, parent, time.monotonic() + 5)))


def test_planned_zone_against_a_ds_file(tmp_path: Path) -> None:
    path = tmp_path / "ds.txt"
    path.write_text(f"; the DS at the registrar\n{ZONE}. 3600 IN DS {ds('k1').rrset[0].to_text()}\n")
    parent = ParentDs("file", str(path), load_ds_file(str(path)))
    assert codes(planned(zone([]), parent)) == ["DNSSEC_DS_UNSIGNED.planned"]
    assert codes(planned(zone(["k2"]), parent)) == ["DNSSEC_DS_MISMATCH.planned"]
    assert codes(planned(zone(["k1"]), parent)) == ["DNSSEC_SIGNED.planned"]
    assert codes(planned(zone(["k1"]), None)) == ["DNSSEC_UNCHECKED.planned"]
    other = ParentDs("file", str(path), {"other.example": ds("k1").rrset})  # type: ignore[dict-item]
    assert codes(planned(zone(["k1"]), other)) == ["DNSSEC_INSECURE.planned"]


@pytest.mark.parametrize(
    "text, why",
    [
        ("example.com. 3600 IN MX 10 mx.example.net.\n", "only DS records"),
        ("example.com. 3600 IN DS 1 13 2 zz\n", "--parent-ds"),
        ("; nothing\n", "no DS record"),
        ("$INCLUDE /etc/passwd\n", "--parent-ds"),
    ],
)
def test_bad_ds_files_are_usage_errors(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "ds.txt"
    path.write_text(text)
    with pytest.raises(ConfigError, match=why):
        load_ds_file(str(path))
    with pytest.raises(ConfigError, match="cannot read"):
        load_ds_file(str(tmp_path / "missing"))
