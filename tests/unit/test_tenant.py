"""The tenant check's reading of Microsoft's answers: the documented shapes, and everything else is a failure."""

from __future__ import annotations

import json

import pytest

from dnscheck.models import Severity
from dnscheck.tenant import TenantStatus, TenantError, classify_tenant, partner_of, read_openid, read_realm

TID = "6babcaad-604b-40ac-a9d7-9fd97c0b779f"
JSON = "application/json; charset=utf-8"


def openid(tid: str = TID, cloud: str = "microsoftonline.com") -> bytes:
    host = "login." + cloud
    return json.dumps({
        "token_endpoint": f"https://{host}/{tid}/oauth2/token",
        "issuer": f"https://sts.windows.net/{tid}/",
        "cloud_instance_name": cloud,
        "tenant_region_scope": "EU",
    }).encode()


NOT_FOUND = json.dumps({"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant 'x' not found.",
                        "error_codes": [90002]}).encode()


def test_the_documented_shapes() -> None:
    assert read_openid(200, JSON, openid()) == (TID, "microsoftonline.com")
    assert read_openid(200, JSON, openid(cloud="microsoftonline.us")) == (TID, "microsoftonline.us")
    assert read_openid(400, JSON, NOT_FOUND) is None
    realm = {"NameSpaceType": "Federated", "AuthURL": "https://sso.godaddy.com/?realm=pass&app=o365",
             "CloudInstanceName": "microsoftonline.com"}
    assert read_realm(200, JSON, json.dumps(realm).encode()) == ("Federated", "sso.godaddy.com", "microsoftonline.com")
    assert read_realm(200, JSON, b'{"NameSpaceType": "Unknown", "Login": "x@y"}') == ("Unknown", None, None)
    assert partner_of("sso.godaddy.com") == "GoDaddy" and partner_of("adfs.contoso.com") is None


@pytest.mark.parametrize("status, ctype, body", [
    (500, JSON, b"{}"),
    (429, JSON, b"{}"),
    (200, "text/html", b"<html>sign in</html>"),
    (200, JSON, openid()[:40]),  # cut short
    (200, JSON, b"[]"),
    (200, JSON, b'{"issuer": "https://sts.windows.net/not-a-guid/"}'),
    (400, JSON, b'{"error": "invalid_request", "error_codes": [900144]}'),
    (400, JSON, b'{"error": "invalid_tenant"}'),  # no AADSTS90002: not proof of absence
])
def test_anything_else_is_a_failure_never_absent(status: int, ctype: str, body: bytes) -> None:
    with pytest.raises(TenantError):
        read_openid(status, ctype, body)


@pytest.mark.parametrize("body", [b'{"NameSpaceType": "Cloud"}', b"{}", b"<html>", b'{"NameSpace'])
def test_realm_failures(body: bytes) -> None:
    with pytest.raises(TenantError):
        read_realm(200, JSON, body)


def test_a_failure_is_unknown() -> None:
    [f] = classify_tenant(TenantStatus("contoso.com", "unknown", failure="HTTP 500", failed_at="u"), ())
    assert (f.code, f.severity) == ("LOOKUP_FAILED", Severity.UNKNOWN)
    assert "HTTP 500" in f.message and "unknown" in f.message
