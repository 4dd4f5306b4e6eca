"""--tenant-check end to end: the installed command, the lab's DNS (the login host names of world.json's "web") and
the lab's HTTPS server playing Microsoft's login hosts with the documented answers and every way of failing."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs

import pytest

from dnscheck import __version__
from tests.httpslab import Reply, Request
from tests.schema import validate_report

TID = "6babcaad-604b-40ac-a9d7-9fd97c0b779f"
GOV_TID = "0f4f8e11-3a8c-4a39-9d2c-0c2b1e8f2d10"
OTHER = "99999999-8888-7777-6666-555555555555"
WORLD, GOV = "login.microsoftonline.com", "login.microsoftonline.us"
JSON = "application/json; charset=utf-8"
CLEAN = """$ORIGIN {d}.
$TTL 300
@   SOA ns1.newdns.net. hostmaster.newdns.net. 2026010101 3600 600 1209600 300
@   NS  ns1.newdns.net.
@   NS  ns2.newdns.net.
@   MX  10 mx1.newmail.net.
@   TXT "v=spf1 include:_spf.newmail.net -all"
"""
DOMAINS = ["t-found.com", "t-absent.com", "t-federated.com", "t-gov.com", "t-slow.com", "t-429.com",
           "t-429long.com", "t-500.com", "t-html.com", "t-cut.com", "t-closed.com", "t-twice.com"]


def openid(tid: str, cloud: str = "microsoftonline.com") -> Reply:
    doc = {"token_endpoint": f"https://login.{cloud}/{tid}/oauth2/token", "issuer": f"https://sts.windows.net/{tid}/",
           "cloud_instance_name": cloud, "tenant_region_scope": "NA"}
    return Reply(200, json.dumps(doc), JSON)


NOT_FOUND = Reply(400, json.dumps({"error": "invalid_tenant", "error_codes": [90002],
                                   "error_description": "AADSTS90002: Tenant not found."}), JSON)


def realm(namespace: str, **extra: str) -> Reply:
    return Reply(200, json.dumps({"NameSpaceType": namespace, "CloudInstanceName": "microsoftonline.com", **extra}),
                 JSON)


class Login:
    """What the fake login hosts answer, per domain, and how many requests were in flight at most."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inflight = 0
        self.most = 0
        self.count429 = 0

    def counted(self, reply: Reply) -> Reply:
        with self.lock:
            self.inflight += 1
            self.most = max(self.most, self.inflight)
        time.sleep(reply.delay or 0.05)
        with self.lock:
            self.inflight -= 1
        return Reply(reply.status, reply.body, reply.content_type, reply.headers, 0, reply.cut)

    def realm(self, req: Request) -> Reply:
        domain = parse_qs(req.query)["login"][0].partition("@")[2]
        if domain in ("t-absent.com",) or domain.startswith("t-many"):
            return self.counted(realm("Unknown"))
        if domain == "t-federated.com":
            return realm("Federated", AuthURL="https://sso.godaddy.com/?realm=pass&app=o365", DomainName=domain)
        return realm("Managed", DomainName=domain)

    def openid(self, domain: str) -> Reply | None:
        return {
            "t-found.com": openid(TID), "t-absent.com": NOT_FOUND, "t-federated.com": openid(TID),
            "t-gov.com": openid(GOV_TID, "microsoftonline.us"), "t-slow.com": Reply(200, "{}", JSON, delay=6),
            "t-429long.com": Reply(429, "{}", JSON, headers={"Retry-After": "120"}),
            "t-500.com": Reply(500, "{}", JSON), "t-html.com": Reply(200, "<html>Sign in</html>", "text/html"),
            "t-cut.com": Reply(200, openid(TID).data[:50], JSON),
            "t-closed.com": Reply(200, openid(TID).data, JSON, cut=30), "t-twice.com": openid(TID),
        }.get(domain)

    def first_429(self, req: Request) -> Reply:
        with self.lock:
            self.count429 += 1
            first = self.count429 == 1
        return Reply(429, "{}", JSON, headers={"Retry-After": "1"}) if first else openid(TID)


@pytest.fixture(scope="module")
def login(lab, https):
    lab.set_zones("newdns", {d: CLEAN.format(d=d) for d in DOMAINS})
    state = Login()
    for d in DOMAINS:
        reply = state.first_429 if d == "t-429.com" else state.openid(d)
        if reply is not None:
            https.route(WORLD, f"/{d}/.well-known/openid-configuration", reply)
    for i in range(10):
        https.route(WORLD, f"/t-many{i}.com/.well-known/openid-configuration", lambda r: state.counted(NOT_FOUND))
    https.route(WORLD, "/getuserrealm.srf", state.realm)
    https.route(GOV, f"/t-gov.com/.well-known/openid-configuration", openid(GOV_TID, "microsoftonline.us"))
    https.route(GOV, "/getuserrealm.srf", lambda r: realm("Managed"))
    return state


def run(dnscheck, https, *args: str):
    r = dnscheck("check", *args, "--tenant-check", "-f", "json", env=https.env)
    out = json.loads(r.stdout)
    validate_report(out)
    return r, out["results"]


def codes(result) -> set[str]:
    return {f["code"] for f in result["findings"]}


def test_found_present_expected_and_moved(dnscheck, https, login) -> None:
    r, [res] = run(dnscheck, https, "t-found.com")
    assert (res["verdict"], r.rc, codes(res)) == ("warning", 1, {"TENANT_PRESENT"}), r
    assert res["tenant"] == {"state": "present", "tenant_id": TID, "cloud": "worldwide", "namespace": "Managed",
                             "federation_host": None, "failure": None, "failed_at": None}
    r, [res] = run(dnscheck, https, "t-found.com", "--expect-tenant", TID)
    assert codes(res) == {"TENANT_PRESENT_EXPECTED"}, r
    r, [res] = run(dnscheck, https, "t-found.com", "--expect-tenant", OTHER)
    assert (res["verdict"], r.rc, codes(res)) == ("blocked", 2, {"TENANT_MOVED"}), r


def test_absent_is_info_and_safe(dnscheck, https, login) -> None:
    r, [res] = run(dnscheck, https, "t-absent.com")
    assert (res["verdict"], r.rc, codes(res)) == ("safe", 0, {"TENANT_ABSENT"}), r


def test_federated_through_a_partner(dnscheck, https, login) -> None:
    r, [res] = run(dnscheck, https, "t-federated.com")
    assert codes(res) == {"TENANT_PRESENT", "TENANT_FEDERATED"}, r
    fed = next(f for f in res["findings"] if f["code"] == "TENANT_FEDERATED")
    assert "sso.godaddy.com" in fed["message"] and "GoDaddy" in fed["message"]


def test_the_cloud_the_answer_names_is_asked(dnscheck, https, login) -> None:
    r, [res] = run(dnscheck, https, "t-gov.com")
    assert res["tenant"]["cloud"] == "usgov" and res["tenant"]["tenant_id"] == GOV_TID, r
    assert https.requests_for(GOV), "login.microsoftonline.us was never asked"


def test_retry_after_within_the_timeout_is_honoured(dnscheck, https, login) -> None:
    r, [res] = run(dnscheck, https, "t-429.com", "--timeout", "5")
    assert codes(res) == {"TENANT_PRESENT"} and r.elapsed >= 1, r


@pytest.mark.parametrize("domain, why", [
    ("t-slow.com", "deadline"),
    ("t-429long.com", "HTTP 429, Retry-After 120"),
    ("t-500.com", "HTTP 500"),
    ("t-html.com", "text/html"),
    ("t-cut.com", "not valid"),
    ("t-closed.com", ""),
])
def test_every_failure_is_unknown_never_absent(dnscheck, https, login, domain, why) -> None:
    r, [res] = run(dnscheck, https, domain, "--timeout", "2")
    assert (res["verdict"], r.rc) == ("unknown", 3), r
    assert "TENANT_ABSENT" not in codes(res) and res["tenant"]["state"] == "unknown"
    failed = next(f for f in res["findings"] if f["code"] == "LOOKUP_FAILED")
    assert failed["severity"] == "unknown" and why in failed["message"], failed
    assert r.elapsed < 4.5, r


def test_politeness(dnscheck, https, login) -> None:
    before = len(https.requests_for(WORLD))
    r, results = run(dnscheck, https, "t-twice.com", "t-twice.com", *[f"t-many{i}.com" for i in range(10)])
    assert len(results) == 12, r
    asked = https.requests_for(WORLD)[before:]
    twice = [q for q in asked if "t-twice.com" in q.path or "t-twice.com" in q.query]
    assert len(twice) == 2, "a domain given twice is asked once per endpoint (per-run cache)"
    assert all(q.headers["user-agent"].startswith(f"dnscheck/{__version__}") for q in asked)
    logins = {parse_qs(q.query)["login"][0].partition("@")[0] for q in asked if q.path == "/getuserrealm.srf"}
    assert logins == {"dnscheck-tenant-probe"}
    assert 1 < login.most <= 4, login.most


def test_usage_errors(dnscheck_offline, tmp_path) -> None:
    zone = tmp_path / "z.zone"
    zone.write_text(CLEAN.format(d="t-found.com"))
    assert dnscheck_offline("check", "t-found.com", "--zone-file", str(zone), "--tenant-check").rc == 64
    assert dnscheck_offline("check", "t-found.com", "--expect-tenant", TID).rc == 64
    assert dnscheck_offline("check", "t-found.com", "--tenant-check", "--expect-tenant", "nope").rc == 64


def test_explain_shows_the_tenant_answer(dnscheck, https, login) -> None:
    _, [res] = run(dnscheck, https, "t-found.com", "--explain")
    assert f"tenant check (Microsoft sign-in service): present {TID} worldwide Managed" in res["explain"]
    _, [res] = run(dnscheck, https, "t-500.com", "--explain")
    assert any("failed at https://login.microsoftonline.com/t-500.com" in x for x in res["explain"]), res["explain"]


def test_the_runbook_passes_the_tenant_check_through(dnscheck, https, login) -> None:
    """The step-4 rules are the runbook's (dnscheck/runbook/steps.py); here only that the evidence arrives."""
    facts = ("--purchased", "2025-01-01", "--licenses", "1")
    r = dnscheck("runbook", "t-found.com", "--tenant-check", *facts, env=https.env)
    assert "TENANT_PRESENT" in r.stdout, r
    r = dnscheck("runbook", "t-500.com", "--tenant-check", *facts, env=https.env)
    assert r.rc == 3 and "LOOKUP_FAILED" in r.stdout and "TENANT_ABSENT" not in r.stdout, r
    r = dnscheck("runbook", "t-found.com", *facts, env=https.env)
    assert "TENANT_" not in r.stdout, "the tenant check ran without --tenant-check"
