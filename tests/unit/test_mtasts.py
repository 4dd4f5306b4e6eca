"""MTA-STS parsing and matching (RFC 8461 sections 3.1, 3.2, 4.1), and the max_age in safe_after."""

from __future__ import annotations

import pytest

from dnscheck.models import Answered, Observations, Record
from dnscheck.mtasts import MtaSts, StsPolicy, PolicyError, m365_patterns, matches, parse_policy, parse_txt
from dnscheck.ttl import ttls_of

GOOD = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n"


def test_a_policy_with_crlf_or_lf_and_unknown_fields() -> None:
    p = parse_policy(GOOD)
    assert p == StsPolicy("enforce", 604800, ("mail.example.com", "*.example.net"))
    assert parse_policy(GOOD.replace("\r\n", "\n") + "ext_field: whatever\n") == p  # unknown keys are ignored
    assert parse_policy("version: STSv1\nmode: none\nmax_age: 0") == StsPolicy("none", 0, ())
    assert parse_policy("version:STSv1\nmode:\ttesting\nmx: MAIL.Example.com.\nmax_age:86400\n").mx == (
        "mail.example.com",
    )


@pytest.mark.parametrize("text, why", [
    ("", "version"),
    (GOOD.replace("version: STSv1", "version: STSv2"), "version"),
    (GOOD.replace("mode: enforce", "mode: strict"), "mode"),
    (GOOD.replace("max_age: 604800", "max_age: 31557601"), "max_age"),
    (GOOD.replace("max_age: 604800", "max_age: -1"), "max_age"),
    (GOOD.replace("max_age: 604800\r\n", ""), "max_age"),
    ("version: STSv1\nmode: enforce\nmax_age: 1\n", "mx"),
    (GOOD + "mode: testing\n", "twice"),
    (GOOD.replace("mx: mail.example.com", "mx: mail.*.com"), "pattern"),
    (GOOD.replace("mx: mail.example.com", "mx: com"), "pattern"),
    (GOOD.replace("\r\nmode", "\r\n\r\nmode"), "empty"),
    ("<html><body>hello</body></html>", "key: value"),
])
def test_malformed_policies_are_refused(text: str, why: str) -> None:
    with pytest.raises(PolicyError, match=why):
        parse_policy(text)


def test_txt_record() -> None:
    assert parse_txt("v=STSv1; id=20160831085700Z;") == "20160831085700Z"
    assert parse_txt("v=STSv1;id=abc") == "abc"
    for bad in ("v=STSv1;", "v=STSv1; id=a-b;", "v=STSv1; id=1; id=2", "id=1; v=STSv1", "v=STSv1; id=" + "a" * 33):
        with pytest.raises(PolicyError):
            parse_txt(bad)


def test_mx_patterns_match_one_leftmost_label() -> None:
    assert matches("*.example.com", "mail.example.com")
    assert matches("*.example.com", "MAIL.Example.COM.")
    assert not matches("*.example.com", "example.com")
    assert not matches("*.example.com", "a.b.example.com")
    assert matches("mail.example.com", "mail.example.com") and not matches("mail.example.com", "mx.example.com")


def test_microsoft_patterns() -> None:
    p = StsPolicy("enforce", 1, ("*.mail.protection.outlook.com", "contoso-com.mail.protection.outlook.com",
                                  "mx1.newmail.example", "*.outlook.com.evil.example"))
    assert m365_patterns(p) == ["*.mail.protection.outlook.com", "contoso-com.mail.protection.outlook.com"]


def _obs(mode: str, max_age: int) -> Observations:
    d = "contoso.com"
    txt = Answered(f"_mta-sts.{d}", "TXT", (Record(f"_mta-sts.{d}", "TXT", "v=STSv1; id=1"),))
    sts = MtaSts(txt, txt.records[0], "1", "u", True, StsPolicy(mode, max_age, ("mx.example",)))
    mx = Answered(d, "MX", (Record(d, "MX", "10 mx.example", 300, "mx.example"),))
    return Observations(d, d, mx, Answered(d, "NS"), Answered(d, "TXT"), Answered(d, "A"), Answered(d, "AAAA"),
                        mta_sts=sts)


def test_an_enforced_max_age_joins_safe_after_and_testing_does_not() -> None:
    assert ttls_of(_obs("enforce", 86400 * 7)).longest == 86400 * 7
    assert ttls_of(_obs("enforce", 86400 * 7)).as_dict()["mta_sts_max_age"] == 86400 * 7
    assert ttls_of(_obs("testing", 86400 * 7)).longest == 3600
