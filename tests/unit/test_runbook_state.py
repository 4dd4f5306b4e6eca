"""The --state file: round trip, owner-only and atomic writes, corrupt and foreign files left untouched."""

from __future__ import annotations

import json
import os
import stat
from datetime import date
from pathlib import Path

import pytest

from dnscheck.errors import EXIT_USAGE
from dnscheck.models import Result, Verdict
from dnscheck.runbook import state as st
from dnscheck.runbook.model import Ack


def sample() -> st.State:
    return st.State(
        domains=["contoso.com"],
        facts={"purchased": date(2025, 1, 1), "licenses": 10, "product_key": False, "policy": "article"},
        acks={"save-data": Ack("2026-02-01", ("contoso.com",)),
              "cancel-subscription": Ack("2026-02-02", ("contoso.com",), ("remove-domains (waiting)",))},
        settings={"resolvers": ["127.0.0.1:5300"], "mode": "authoritative", "timeout": 3.0},
        history={"contoso.com": [{"key": "blocked|MX_M365|", "verdict": "blocked",
                                  "first_seen": "2026-02-01T10:00:00Z", "last_seen": "2026-02-01T10:00:00Z"}]},
        last_check={"contoso.com": {"checked_at": "2026-02-01T10:00:00Z", "verdict": "blocked", "live": True}},
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    st.save(str(path), sample())
    doc = json.loads(path.read_text())
    assert doc["schema"] == "dnscheck-runbook/2"
    assert doc["facts"]["purchased"] == "2025-01-01"
    assert doc["acks"]["cancel-subscription"]["forced_over"] == ["remove-domains (waiting)"]
    loaded = st.load(str(path))
    assert loaded == sample()


def test_owner_only_even_over_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    st.save(str(path), sample())
    assert mode(path) == 0o600
    path.chmod(0o644)
    st.save(str(path), sample())
    assert mode(path) == 0o600


def test_no_temporary_file_left(tmp_path: Path) -> None:
    st.save(str(tmp_path / "state.json"), sample())
    assert os.listdir(tmp_path) == ["state.json"]


def test_missing_or_empty_file_is_a_new_state(tmp_path: Path) -> None:
    assert st.load(str(tmp_path / "none.json")) is None
    (tmp_path / "empty.json").write_text("")
    assert st.load(str(tmp_path / "empty.json")) is None


FOREIGN = {
    "not json": "{not json",
    "truncated": '{"schema": "dnscheck-runbook/1", "domains": [',
    "binary": b"\xff\xfe\x00garbage",
    "a list": "[1, 2, 3]",
    "no schema": '{"domains": ["contoso.com"]}',
    "check report": '{"schema": "dnscheck/1", "results": [], "summary": {}}',
    "runbook report": '{"schema": "dnscheck-runbook-report/1", "steps": []}',
    "newer version": '{"schema": "dnscheck-runbook/3"}',
    "bad mode": '{"schema": "dnscheck-runbook/2", "settings": {"mode": "fast"}}',
    "bad timeout": '{"schema": "dnscheck-runbook/2", "settings": {"timeout": "soon"}}',
    "bad history": '{"schema": "dnscheck-runbook/2", "history": {"contoso.com": [{"verdict": 1}]}}',
    "bad ack step": '{"schema": "dnscheck-runbook/1", "acks": {"update-mx": {"on": "2026-01-01"}}}',
    "bad ack date": '{"schema": "dnscheck-runbook/1", "acks": {"save-data": {"on": "yesterday"}}}',
    "bad fact": '{"schema": "dnscheck-runbook/1", "facts": {"licenses": "ten"}}',
    "bool as int": '{"schema": "dnscheck-runbook/1", "facts": {"licenses": true}}',
    "unknown fact": '{"schema": "dnscheck-runbook/1", "facts": {"colour": "blue"}}',
    "domains not a list": '{"schema": "dnscheck-runbook/1", "domains": "contoso.com"}',
}


@pytest.mark.parametrize("content", list(FOREIGN.values()), ids=list(FOREIGN))
def test_corrupt_or_foreign_file_is_a_usage_error(tmp_path: Path, content: str | bytes) -> None:
    path = tmp_path / "state.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(st.StateError) as e:
        st.load(str(path))
    assert e.value.exit_code == EXIT_USAGE
    assert str(path) in e.value.message
    assert "left untouched" in e.value.hint


def test_foreign_message_names_the_marker(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text('{"results": []}')
    with pytest.raises(st.StateError, match='"schema": "dnscheck-runbook/2"'):
        st.load(str(path))


def test_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(st.StateError, match="a directory, not a regular file"):
        st.load(str(tmp_path))  # a directory


def test_changes_since() -> None:
    results = [Result("contoso.com", "contoso.com", "contoso.com", Verdict.SAFE, None, ()),
               Result("fabrikam.com", "fabrikam.com", "fabrikam.com", Verdict.BLOCKED, None, ())]
    last = {"contoso.com": {"verdict": "blocked", "checked_at": "2026-02-01T10:00:00Z", "live": True},
            "fabrikam.com": {"verdict": "blocked"}}
    assert st.changes_since(last, results) == [
        {"domain": "contoso.com", "was": "blocked", "now": "safe", "checked_at": "2026-02-01T10:00:00Z"}]
    assert st.changes_since({}, results) == []
    last["contoso.com"]["live"] = False  # a planned zone's verdict is no "before"
    assert st.changes_since(last, results) == []


def test_version_1_loads() -> None:
    doc = {"schema": "dnscheck-runbook/1", "domains": ["contoso.com"], "facts": {"licenses": 3},
           "acks": {"save-data": {"on": "2026-02-01", "domains": ["contoso.com"]}},
           "last_check": {"contoso.com": {"checked_at": "2026-02-01T10:00:00Z", "source": "live DNS, mode auto",
                                          "verdict": "safe", "result": {"findings": []}},
                          "fabrikam.com": {"checked_at": "2026-02-01T10:00:00Z", "verdict": "safe",
                                           "source": "zone file planned.zone (not live DNS)"}}}
    state = st._parse(doc)
    assert state.domains == ["contoso.com"] and state.acks["save-data"].on == "2026-02-01"
    assert state.history["contoso.com"][0]["first_seen"] == "2026-02-01T10:00:00Z"
    assert "fabrikam.com" not in state.history  # a zone file's verdict is no evidence
    assert state.settings == {} and state.last_check == {}


def test_version_1_file_is_rewritten_as_version_2(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"schema": "dnscheck-runbook/1", "domains": ["contoso.com"]}))
    loaded = st.load(str(path))
    assert loaded is not None
    st.save(str(path), loaded)
    assert json.loads(path.read_text())["schema"] == "dnscheck-runbook/2"


def test_lock_makes_a_second_run_wait_then_fail(tmp_path: Path) -> None:
    import time

    path = str(tmp_path / "s.json")
    with st.locked(path):
        start = time.monotonic()
        with pytest.raises(st.StateError, match="in use by another dnscheck runbook"), st.locked(path, wait=0.3):
            pass
        assert time.monotonic() - start >= 0.3
    with st.locked(path, wait=0.3):  # released
        pass


def test_last_check_keeps_codes_and_arguments_not_words() -> None:
    from dnscheck.models import Finding, Record, Severity
    from dnscheck.runbook.model import Evidence

    f = Finding("MX_M365", Severity.BLOCKED, (("value", "0 x.mail.protection.outlook.com"),),
                Record("contoso.com", "MX", "0 x"), None, "mx")
    r = Result("contoso.com", "contoso.com", "contoso.com", Verdict.BLOCKED, None, (f,))
    e = Evidence("contoso.com", True, "resolver 127.0.0.1:5300", "auto", "2026-03-01T12:00:00Z", "blocked")
    doc = st.last_check_of(r, e)
    assert doc["findings"][0] == {"code": "MX_M365", "severity": "blocked", "variant": "mx",
                                  "args": {"value": "0 x.mail.protection.outlook.com"},
                                  "record": {"name": "contoso.com", "type": "MX", "value": "0 x", "ttl": None}}
    assert "message" not in json.dumps(doc)
