"""Mail paths that lead nowhere, in zone-file mode through the installed `dnscheck` (fixtures/dangling/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DnscheckCommand

DANGLING = Path(__file__).resolve().parents[2] / "fixtures" / "dangling"


def _codes(result: dict) -> set[tuple[str, str]]:
    """The findings, less the note every zone-file check without --parent-ds carries (DNSSEC not checked)."""
    found = {(f["code"], f["severity"]) for f in result["findings"]}
    assert ("DNSSEC_UNCHECKED", "info") in found, found
    return found - {("DNSSEC_UNCHECKED", "info")}


@pytest.mark.parametrize(
    ("zone", "domain", "verdict", "codes"),
    [
        ("mx-no-host.zone", "dangling-mx.com", "blocked", {("MX_TARGET_MISSING", "blocked")}),
        ("mx-one-of-two.zone", "half-dangling.com", "warning", {("MX_TARGET_MISSING", "warning")}),
        ("trailing-dot.zone", "trailing-dot.com", "blocked",
         {("MX_RELATIVE_TYPO", "blocked"), ("CNAME_RELATIVE_TYPO", "warning")}),
    ],
)
def test_dangling_zone(zone: str, domain: str, verdict: str, codes: set[tuple[str, str]],
                       dnscheck_offline: DnscheckCommand) -> None:
    run = dnscheck_offline("check", domain, "--zone-file", str(DANGLING / zone), "-f", "json")
    (result,) = json.loads(run.stdout)["results"]
    assert result["verdict"] == verdict
    assert _codes(result) == codes


@pytest.mark.parametrize(
    ("mx_host", "verdict", "codes"),
    [
        # an alias leading out of the file cannot be followed offline: unknown, never missing, never safe
        ("mail CNAME ghs.google.com.", "unknown", {("LOOKUP_FAILED", "unknown")}),
        ("mail CNAME mx.mail.example.", "unknown", {("LOOKUP_FAILED", "unknown")}),
        ("mail CNAME mx\nmx A 192.0.2.25", "safe", set()),
        ("mail CNAME mx", "blocked", {("MX_TARGET_MISSING", "blocked")}),
    ],
)
def test_an_mx_host_that_is_an_alias(tmp_path: Path, mx_host: str, verdict: str, codes: set[tuple[str, str]],
                                     dnscheck_offline: DnscheckCommand) -> None:
    zone = tmp_path / "alias.zone"
    zone.write_text("$ORIGIN alias-mx.com.\n$TTL 300\n@ SOA ns1.x.invalid. h.x.invalid. 1 3600 600 86400 300\n"
                    f"@ NS ns1.x.invalid.\n@ MX 10 mail\n{mx_host}\n")
    run = dnscheck_offline("check", "alias-mx.com", "--zone-file", str(zone), "-f", "json")
    (result,) = json.loads(run.stdout)["results"]
    assert (result["verdict"], _codes(result)) == (verdict, codes)
