"""A wildcard MX (`* MX`) to Exchange Online: MX_WILDCARD_M365, read from a zone file (issue 9).

The apex MX can move while `*.<domain> MX` still sends the mail of every subdomain without records of its own to
Microsoft 365. Only zone-file mode reads it; live modes do not ask for `*.<domain>` (see check.wildcard_mx).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dnscheck.check import Options, check, wildcard_mx
from dnscheck.collect.zonefile import ZoneFileSource, load_zone
from dnscheck.models import Answered, Result, Severity, Verdict
from dnscheck.normalise import Target, normalise

HEAD = """$ORIGIN contoso.com.
$TTL 3600
@       SOA   ns1.newdns.example. hostmaster.contoso.com. 1 3600 600 1209600 300
@       NS    ns1.newdns.example.
@       NS    ns2.newdns.example.
mail    A     192.0.2.25
"""


def checked(tmp_path: Path, body: str, domain: str = "contoso.com") -> Result:
    path = tmp_path / "z.zone"
    path.write_text(HEAD + body)
    t = normalise(domain)
    assert isinstance(t, Target)
    src = ZoneFileSource(load_zone(str(path), t.domain), str(path))
    return asyncio.run(check(t, src, Options(timeout=5)))


def codes(r: Result) -> set[str]:
    return {f.code for f in r.findings}


def test_a_wildcard_mx_left_at_exchange_online_after_the_apex_moved(tmp_path: Path) -> None:
    r = checked(tmp_path, "@ MX 10 mail.contoso.com.\n* MX 0 contoso-com.mail.protection.outlook.com.\n")
    assert r.verdict is Verdict.WARNING
    (f,) = [f for f in r.findings if f.code == "MX_WILDCARD_M365"]
    assert f.severity is Severity.WARNING and f.record is not None and f.record.name == "*.contoso.com"
    assert dict(f.args)["value"] == "0 contoso-com.mail.protection.outlook.com"
    # the wildcard's record is listed, marked as Microsoft 365's
    assert any(s.record == f.record and s.m365 for s in r.records)


def test_the_dnssec_form_and_mixed_case_are_wildcards_too(tmp_path: Path) -> None:
    r = checked(tmp_path, "@ MX 10 mail.contoso.com.\n* MX 0 Contoso-com.o-v1.MX.Microsoft.\n")
    assert "MX_WILDCARD_M365" in codes(r)


def test_next_to_the_apex_mx_the_verdict_stays_blocked(tmp_path: Path) -> None:
    r = checked(
        tmp_path,
        "@ MX 0 contoso-com.mail.protection.outlook.com.\n* MX 0 contoso-com.mail.protection.outlook.com.\n",
    )
    assert r.verdict is Verdict.BLOCKED and {"MX_M365", "MX_WILDCARD_M365"} <= codes(r)


def test_a_wildcard_mx_elsewhere_or_none_says_nothing(tmp_path: Path) -> None:
    assert "MX_WILDCARD_M365" not in codes(
        checked(tmp_path, "@ MX 10 mail.contoso.com.\n* MX 10 mail.contoso.com.\n")
    )
    r = checked(tmp_path, "@ MX 10 mail.contoso.com.\n")
    assert r.verdict is Verdict.SAFE and "MX_WILDCARD_M365" not in codes(r)


def test_a_wildcard_at_a_gateway_is_not_this_finding(tmp_path: Path) -> None:
    r = checked(tmp_path, "@ MX 10 mail.contoso.com.\n* MX 10 eu-smtp-inbound-1.mimecast.com.\n")
    assert "MX_WILDCARD_M365" not in codes(r)


def test_a_subdomain_checked_reads_its_own_wildcard(tmp_path: Path) -> None:
    body = "eu MX 10 mail.contoso.com.\n*.eu MX 0 eu-contoso-com.mail.protection.outlook.com.\n"
    assert "MX_WILDCARD_M365" in codes(checked(tmp_path, body, "eu.contoso.com"))
    # the apex's check does not report a wildcard that only covers eu's subdomains
    assert "MX_WILDCARD_M365" not in codes(checked(tmp_path, "@ MX 10 mail.contoso.com.\n" + body))


def test_live_sources_are_not_asked() -> None:
    class Live:
        label = "resolver"
        recursive = True

        async def lookup(self, name: str, rdtype: str) -> Answered:
            raise AssertionError("live modes must not query the wildcard")

        def covers(self, name: str) -> bool:
            return True

    assert asyncio.run(wildcard_mx(Live(), "contoso.com")) is None
