"""The HTTPS client's small rules: which proxy, how long Retry-After asks to wait."""

from __future__ import annotations

import email.utils
import time

import pytest

from dnscheck.collect.web import Fetched, _proxy_for, _retry_after


def test_https_proxy_and_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    url = "https://mta-sts.contoso.com/.well-known/mta-sts.txt"
    assert _proxy_for(url, "mta-sts.contoso.com") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    assert _proxy_for(url, "mta-sts.contoso.com") == "http://proxy.corp.example:3128"
    monkeypatch.setenv("NO_PROXY", "localhost,.contoso.com")
    assert _proxy_for(url, "mta-sts.contoso.com") is None
    assert _proxy_for("https://login.microsoftonline.com/x", "login.microsoftonline.com") is not None
    monkeypatch.setenv("NO_PROXY", "*")
    assert _proxy_for(url, "mta-sts.contoso.com") is None


def _got(status: int, after: str | None) -> Fetched:
    return Fetched("u", status, {"retry-after": after} if after is not None else {}, b"")


def test_retry_after_seconds_or_http_date() -> None:
    assert _retry_after(_got(429, "3")) == 3.0
    assert _retry_after(_got(503, "0")) == 0.0
    assert _retry_after(_got(500, "3")) is None  # only 429 and 503 ask to wait
    assert _retry_after(_got(429, None)) is None
    assert _retry_after(_got(429, "soon")) is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    wait = _retry_after(_got(429, later))
    assert wait is not None and 25 < wait <= 31
