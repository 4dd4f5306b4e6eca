"""MTA-STS end to end: the installed command, the lab's DNS (fixtures/world/newdns/sts-*.com) and the lab's HTTPS
server (tests/httpslab.py) serving each domain's policy, trusted through SSL_CERT_FILE only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.httpslab import Reply
from tests.schema import validate_report

PATH = "/.well-known/mta-sts.txt"


def policy(mode: str, *mx: str, max_age: int = 604800) -> str:
    return "version: STSv1\r\n" + f"mode: {mode}\r\n" + "".join(f"mx: {m}\r\n" for m in mx) + f"max_age: {max_age}\r\n"


@pytest.fixture(scope="module")
def policies(https):
    https.route("mta-sts.sts-m365.com", PATH,
                Reply(200, policy("enforce", "*.mail.protection.outlook.com", "mx1.newmail.net")))
    https.route("mta-sts.sts-mismatch.com", PATH,
                Reply(200, policy("enforce", "sts-mismatch-com.mail.protection.outlook.com", max_age=86400)))
    https.route("mta-sts.sts-ok.com", PATH,
                Reply(200, policy("enforce", "mx1.newmail.net", "*.newmail.net", max_age=1209600)))
    https.route("mta-sts.sts-slow.com", PATH, Reply(200, policy("enforce", "mx1.newmail.net"), delay=6))
    https.host("mta-sts.sts-badcert.com", issuer="rogue")
    https.route("mta-sts.sts-badcert.com", PATH, Reply(200, policy("enforce", "mx1.newmail.net")))
    https.route("mta-sts.sts-big.com", PATH, Reply(200, policy("enforce", "mx1.newmail.net") + "x" * 70000))
    https.route("mta-sts.sts-redirect.com", PATH,
                Reply(301, "", headers={"Location": "https://mta-sts.sts-ok.com/.well-known/mta-sts.txt"}))
    https.route("mta-sts.sts-broken.com", PATH, Reply(200, "version: STSv1\nmode: enforce\nmx: mx1.newmail.net\n"))
    return https


def run(dnscheck, https, *args: str):
    r = dnscheck("check", *args, "-f", "json", env=https.env)
    out = json.loads(r.stdout)
    validate_report(out)
    return r, out["results"][0]


def codes(result) -> set[str]:
    return {f["code"] for f in result["findings"]}


def failure(result) -> str:
    return next(f["message"] for f in result["findings"] if f["code"] == "LOOKUP_FAILED")


def test_a_policy_that_still_lists_exchange_online_is_a_warning(dnscheck, policies) -> None:
    r, res = run(dnscheck, policies, "sts-m365.com")
    assert (res["verdict"], r.rc) == ("warning", 1), r
    assert "MTA_STS_M365" in codes(res) and "MTA_STS_MX_MISMATCH" not in codes(res)
    f = next(f for f in res["findings"] if f["code"] == "MTA_STS_M365")
    assert "*.mail.protection.outlook.com" in f["message"] and "max_age" in f["remediation"]
    assert res["mta_sts"]["policy"]["mode"] == "enforce" and res["mta_sts"]["id"] == "20260101T000000"
    asked = policies.requests_for("mta-sts.sts-m365.com")[-1]
    assert asked.sni == "mta-sts.sts-m365.com" and asked.headers["user-agent"].startswith("dnscheck/")


def test_an_enforced_policy_without_the_new_mx_blocks(dnscheck, policies) -> None:
    r, res = run(dnscheck, policies, "sts-mismatch.com")
    assert (res["verdict"], r.rc) == ("blocked", 2), r
    assert {"MTA_STS_MX_MISMATCH", "MTA_STS_M365"} <= codes(res)


def test_a_matching_policy_is_safe_and_its_max_age_counts_in_safe_after(dnscheck, policies) -> None:
    changed = datetime.now(UTC).replace(microsecond=0).isoformat()
    r, res = run(dnscheck, policies, "sts-ok.com", "--changed-at", changed)
    assert "MTA_STS_M365" not in codes(res) and "MTA_STS_MX_MISMATCH" not in codes(res), r
    assert res["ttl"]["mta_sts_max_age"] == 1209600 and res["ttl"]["longest"] == 1209600
    assert "CACHE_PENDING" in codes(res)  # two weeks from now
    _, plain = run(dnscheck, policies, "sts-ok.com")
    assert (plain["verdict"], codes(plain) & {"LOOKUP_FAILED"}) == ("safe", set())


def test_a_policy_that_times_out_is_a_warning_within_the_timeout(dnscheck, policies) -> None:
    r, res = run(dnscheck, policies, "sts-slow.com", "--timeout", "2")
    assert (res["verdict"], r.rc) == ("warning", 1), r
    assert "deadline" in failure(res)
    assert r.elapsed < 4.5, r


@pytest.mark.parametrize("domain, why", [
    ("sts-badcert.com", "certificate"),
    ("sts-big.com", "larger than 65536 bytes"),
    ("sts-redirect.com", "HTTP 301"),
    ("sts-broken.com", "max_age"),
])
def test_a_policy_that_cannot_be_read_is_a_warning_with_why(dnscheck, policies, domain, why) -> None:
    r, res = run(dnscheck, policies, domain)
    assert (res["verdict"], r.rc) == ("warning", 1), r
    assert why in failure(res), failure(res)
    assert res["mta_sts"]["policy"] is None


def test_no_https_and_zone_file_never_fetch(dnscheck, dnscheck_offline, policies, tmp_path) -> None:
    before = len(policies.requests_for("mta-sts.sts-mismatch.com"))
    r, res = run(dnscheck, policies, "sts-mismatch.com", "--no-https")
    assert "MTA_STS_NOT_FETCHED" in codes(res) and "MTA_STS_MX_MISMATCH" not in codes(res), r
    zone = tmp_path / "z.zone"
    zone.write_text(open("fixtures/world/newdns/sts-mismatch.com.zone").read())
    r = dnscheck_offline("check", "sts-mismatch.com", "--zone-file", str(zone), "-f", "json", env=policies.env)
    assert "MTA_STS_NOT_FETCHED" in codes(json.loads(r.stdout)["results"][0]), r
    assert len(policies.requests_for("mta-sts.sts-mismatch.com")) == before


def test_the_ca_is_trusted_only_through_ssl_cert_file(dnscheck, policies) -> None:
    r = dnscheck("check", "sts-m365.com", "-f", "json", env={"SSL_CERT_FILE": "/dev/null"})
    res = json.loads(r.stdout)["results"][0]
    assert "certificate" in failure(res) and "MTA_STS_M365" not in codes(res), r


def test_https_proxy_and_no_proxy_are_honoured(dnscheck, policies) -> None:
    from tests.httpslab import ConnectProxy

    proxy = ConnectProxy("127.0.6.2", 3128, (policies.address, 443))
    try:
        env = {**policies.env, "HTTPS_PROXY": proxy.url, "NO_PROXY": "example.invalid"}
        r = dnscheck("check", "sts-m365.com", "-f", "json", env=env)
        assert "MTA_STS_M365" in codes(json.loads(r.stdout)["results"][0]), r
        assert proxy.asked == ["mta-sts.sts-m365.com:443"]
        env["NO_PROXY"] = "sts-m365.com"
        r = dnscheck("check", "sts-m365.com", "-f", "json", env=env)
        assert "MTA_STS_M365" in codes(json.loads(r.stdout)["results"][0]), r
        assert proxy.asked == ["mta-sts.sts-m365.com:443"], "NO_PROXY was not honoured"
    finally:
        proxy.stop()


def test_explain_shows_the_policy_fetch(dnscheck, policies) -> None:
    _, res = run(dnscheck, policies, "sts-m365.com", "--explain")
    assert any(line.startswith("MTA-STS: TXT _mta-sts.sts-m365.com") for line in res["explain"]), res["explain"]
    assert "  GET https://mta-sts.sts-m365.com/.well-known/mta-sts.txt -> mode enforce, max_age 604800, mx " \
           "*.mail.protection.outlook.com, mx1.newmail.net" in res["explain"]
