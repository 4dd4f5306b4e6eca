"""DNSSEC across the move end to end (issue 13): the installed `dnscheck` against the lab's signed zones
(fixtures/world/README.md, "DNSSEC cases"; keys made and zones signed at lab start by tests/labdnssec.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Run
from tests.lab import Lab
from tests.schema import validate_output

MODES = ("auto", "authoritative")


def check(dnscheck: Any, domain: str, *args: str, resolver: str | None = None) -> tuple[Run, dict[str, Any]]:
    extra = ("--resolver", resolver) if resolver else ()
    run = dnscheck("check", domain, "-f", "json", "--timeout", "8", *extra, *args, resolver=resolver is None)
    results = validate_output(run.stdout, "json")
    assert len(results) == 1, run
    return run, results[0]


def codes(result: dict[str, Any]) -> dict[str, str]:
    return {f["code"]: f["severity"] for f in result["findings"]}


def messages(result: dict[str, Any], code: str) -> list[str]:
    return [f["message"] for f in result["findings"] if f["code"] == code]


@pytest.mark.parametrize("mode", MODES)
def test_signed_and_whole(dnscheck, mode):
    run, r = check(dnscheck, "signed.com", "--mode", mode)
    assert codes(r) == {"DNSSEC_SIGNED": "info"}, run
    assert r["verdict"] == "safe" and run.rc == 0, run
    assert r["ttl"]["ds"] == 3600 and r["ttl"]["longest"] >= 3600
    assert r["dnssec"]["ds"][0]["records"], r["dnssec"]


@pytest.mark.parametrize("mode", MODES)
def test_ds_with_an_unsigned_new_host_is_blocked(dnscheck, mode):
    run, r = check(dnscheck, "ds-unsigned.com", "--mode", mode)
    assert codes(r).get("DNSSEC_DS_UNSIGNED") == "blocked", run
    assert r["verdict"] == "blocked" and run.rc == 2, run
    (msg,) = messages(r, "DNSSEC_DS_UNSIGNED")
    assert "ns1.newdns.net" in msg and "ns2.newdns.net" in msg, msg


@pytest.mark.parametrize("mode", MODES)
def test_ds_with_other_keys_is_a_mismatch(dnscheck, mode):
    run, r = check(dnscheck, "ds-other-keys.com", "--mode", mode)
    assert codes(r).get("DNSSEC_DS_MISMATCH") == "blocked", run
    assert "DNSSEC_SIGNED" not in codes(r), run
    assert r["verdict"] == "blocked", run


@pytest.mark.parametrize("mode", MODES)
def test_multi_signer_move_names_the_server_that_lacks_the_key(dnscheck, lab: Lab, mode):
    # The validating resolver may well answer with AD: it retries the servers that have the keys.
    run, r = check(dnscheck, "multi-signer.com", "--mode", mode)
    assert codes(r).get("DNSSEC_DS_MISMATCH") == "blocked", run
    text = " ".join(messages(r, "DNSSEC_DS_MISMATCH"))
    assert "ns1-01.azure-dns.com" in text and "ns2-01.azure-dns.net" in text, text
    assert "ns1.newdns.net (127.0.1.1) do" not in text and not text.startswith("ns1.newdns.net"), text


@pytest.mark.parametrize("mode", MODES)
def test_expiring_signatures_warn(dnscheck, mode):
    run, r = check(dnscheck, "expiring.com", "--mode", mode)
    assert codes(r).get("DNSSEC_SIG_EXPIRING") == "warning", run
    assert r["verdict"] == "warning" and run.rc == 1, run
    (f,) = [f for f in r["findings"] if f["code"] == "DNSSEC_SIG_EXPIRING"]
    assert 24 <= f["args"]["hours"] <= 48, f


@pytest.mark.parametrize("mode", MODES)
def test_deprecated_algorithm_and_sha1_digest_warn(dnscheck, mode):
    run, r = check(dnscheck, "old-algorithm.com", "--mode", mode)
    found = [f for f in r["findings"] if f["code"] == "DNSSEC_ALGORITHM"]
    assert {f["args"].get("algorithm") or f["args"].get("digest") for f in found} == {"RSASHA1", "SHA-1"}, run
    assert r["verdict"] == "warning", run


@pytest.mark.parametrize("mode", MODES)
def test_ds_removed_is_insecure_and_safe(dnscheck, mode):
    run, r = check(dnscheck, "ds-removed.com", "--mode", mode)
    assert codes(r) == {"DNSSEC_INSECURE": "info"}, run
    assert r["verdict"] == "safe" and r["ttl"]["ds"] is None, run


@pytest.mark.parametrize("mode", MODES)
def test_an_unsigned_domain_gets_no_dnssec_finding(dnscheck, mode):
    run, r = check(dnscheck, "clean.org", "--mode", mode)
    assert not [c for c in codes(r) if c.startswith("DNSSEC_")] and r["verdict"] == "safe", run
    assert r["dnssec"]["ds"][0]["records"] == [] and r["ttl"]["ds"] is None, r["dnssec"]


def test_bogus_in_resolver_mode_against_the_validating_resolver(dnscheck, lab: Lab):
    for domain in ("ds-unsigned.com", "ds-other-keys.com"):
        run, r = check(dnscheck, domain, "--mode", "resolver", resolver=lab.validating_resolver)
        assert codes(r).get("DNSSEC_BOGUS") == "blocked", run
        assert r["verdict"] == "blocked" and run.rc == 2, run
        (msg,) = messages(r, "DNSSEC_BOGUS")
        assert "cannot deliver mail" in msg, msg
        assert r["dnssec"]["resolver"]["cd_rcode"] == "NOERROR", r["dnssec"]
    run, r = check(dnscheck, "signed.com", "--mode", "resolver", resolver=lab.validating_resolver)
    assert codes(r) == {"DNSSEC_SIGNED": "info"} and r["verdict"] == "safe", run


def test_non_validating_resolver_says_nothing_about_dnssec_in_resolver_mode(dnscheck):
    run, r = check(dnscheck, "ds-unsigned.com", "--mode", "resolver")
    assert not [c for c in codes(r) if c.startswith("DNSSEC_")], run
    assert r["verdict"] == "safe", run  # the lab's plain resolver does not validate: it resolves the domain


def test_mx_microsoft_note(dnscheck):
    run, r = check(dnscheck, "contoso.com")
    assert codes(r).get("DNSSEC_MX_MICROSOFT") == "info", run
    assert "priority 0 or 10" in messages(r, "DNSSEC_MX_MICROSOFT")[0]


def test_explain_shows_the_chain(dnscheck, lab: Lab):
    run = dnscheck("check", "multi-signer.com", "--explain", "--timeout", "8")
    out = run.stdout
    assert "DNSSEC of multi-signer.com" in out, run
    assert "DS @127.0.0.3: TTL 3600: tag" in out, out
    assert "(matches a DS)" in out and "DNSKEY multi-signer.com: validates from the DS" in out, out
    assert "no key matches a DS" in out, out


# --- the planned zone ------------------------------------------------------------------------------------------

PLANNED = """$ORIGIN {zone}.
$TTL 300
@ SOA ns1.newdns.net. hostmaster.newdns.net. 2026020101 3600 600 1209600 300
@ NS ns1.newdns.net.
@ NS ns2.newdns.net.
@ MX 10 mx1.newmail.net.
"""


def planned_codes(result: dict[str, Any]) -> dict[str, str]:
    """The MX host mx1.newmail.net lies outside the planned zone: OUT_OF_ZONE, beside the point here."""
    return {c: s for c, s in codes(result).items() if c != "OUT_OF_ZONE"}


def _planned(tmp_path: Path, lab: Lab, zone: str, key: str | None) -> Path:
    text = PLANNED.format(zone=zone)
    if key is not None:
        from tests.labdnssec import DAY, sign_text

        signer = lab.world.signer
        text = sign_text(zone, text, [signer.zone_key(zone, key)], [], signer.now - DAY, signer.now + 30 * DAY)
    path = tmp_path / f"{zone}.zone"
    path.write_text(text)
    return path


@pytest.mark.parametrize("parent", ["live", "file"])
def test_planned_zone_against_the_parent_ds(dnscheck, lab: Lab, tmp_path: Path, parent: str):
    def planned(zone: str, key: str | None) -> tuple[Run, dict[str, Any]]:
        ds = "live"
        if parent == "file":
            ds_file = tmp_path / f"{zone}.ds"
            ds_file.write_text(lab.world.signer.ds_file(zone))
            ds = str(ds_file)
        return check(dnscheck, zone, "--zone-file", str(_planned(tmp_path, lab, zone, key)), "--parent-ds", ds)

    run, r = planned("signed.com", None)  # unsigned while the parent has a DS
    assert codes(r).get("DNSSEC_DS_UNSIGNED") == "blocked" and run.rc == 2, run
    assert "planned zone" in messages(r, "DNSSEC_DS_UNSIGNED")[0]
    run, r = planned("signed.com", "k2")  # signed with a key no DS matches
    assert codes(r).get("DNSSEC_DS_MISMATCH") == "blocked", run
    run, r = planned("signed.com", "k1")  # signed with the key the DS is for
    assert planned_codes(r) == {"DNSSEC_SIGNED": "info"} and r["verdict"] == "safe", run


def test_planned_zone_without_parent_ds_says_dnssec_was_not_checked(dnscheck_offline, tmp_path: Path):
    path = tmp_path / "p.zone"
    path.write_text(PLANNED.format(zone="signed.com"))
    run = dnscheck_offline("check", "signed.com", "--zone-file", str(path), "-f", "json")
    (r,) = validate_output(run.stdout, "json")
    # Offline, the planned zone's MX host (outside the file) is not followed either: never safe, so unknown.
    assert planned_codes(r) == {"DNSSEC_UNCHECKED": "info"} and r["verdict"] == "unknown", run


def test_parent_ds_without_zone_file_is_a_usage_error(dnscheck_offline):
    run = dnscheck_offline("check", "signed.com", "--parent-ds", "live")
    assert run.rc == 64 and "--zone-file" in run.stderr, run


def test_unreadable_ds_file_is_a_usage_error(dnscheck_offline, tmp_path: Path):
    path = tmp_path / "p.zone"
    path.write_text(PLANNED.format(zone="signed.com"))
    bad = tmp_path / "bad.ds"
    bad.write_text("signed.com. 3600 IN MX 10 mx.example.\n")
    run = dnscheck_offline("check", "signed.com", "--zone-file", str(path), "--parent-ds", str(bad))
    assert run.rc == 64 and "only DS records" in run.stderr, run
