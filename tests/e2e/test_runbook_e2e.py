"""`dnscheck runbook` end to end: the installed command, against zone files (offline) and the lab's servers.

The lab tests run inside tests/run.sh's network namespace (see tests/conftest.py); the zone-file tests run
anywhere.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FACTS = ("--purchased", "2025-01-01", "--licenses", "10", "--cancel-date", "2026-03-01")
ALL_ACKS = ("--ack", "save-data", "--ack", "remove-domains", "--ack", "cancel-subscription",
            "--ack", "uninstall-office")


def steps(run: Any) -> dict[str, str]:
    doc = json.loads(run.stdout)
    return {s["id"]: s["status"] for s in doc["steps"]}


# --- offline: zone files ----------------------------------------------------------------------------------

def test_zone_file_still_at_m365(dnscheck_offline) -> None:
    run = dnscheck_offline("runbook", "contoso.com", "--zone-file", str(FIXTURES / "m365.zone"), *FACTS,
                           "-f", "json")
    assert run.rc == 2, run
    assert steps(run)["update-mx"] == "action-required" and steps(run)["change-ns"] == "action-required"


def test_zone_file_planned_with_every_ack_is_exit_0(dnscheck_offline) -> None:
    run = dnscheck_offline("runbook", "contoso.com", "--zone-file", str(FIXTURES / "planned.zone"), *FACTS,
                           *ALL_ACKS, "-f", "json")
    assert run.rc == 0, run
    assert set(steps(run).values()) == {"done"}


def test_corrupt_state_is_exit_64_and_untouched(dnscheck_offline, tmp_path: Path) -> None:
    state = tmp_path / "cancel.json"
    state.write_text('{"schema": "something-else"}')
    run = dnscheck_offline("runbook", "contoso.com", "--zone-file", str(FIXTURES / "planned.zone"), *FACTS,
                           "--state", str(state))
    assert run.rc == 64, run
    assert "cancel.json" in run.stderr and "Traceback" not in run.stderr
    assert state.read_text() == '{"schema": "something-else"}'


def test_interactive_refuses_without_a_terminal(dnscheck_offline) -> None:
    run = dnscheck_offline("runbook", "contoso.com", "--zone-file", str(FIXTURES / "planned.zone"), *FACTS,
                           "--interactive", stdin="y\n")
    assert run.rc == 64 and "terminal" in run.stderr, run


# --- the lab: real servers ------------------------------------------------------------------------------

# domain -> (update-mx, change-ns, remove-domains, exit code)
LAB_CASES = {
    "m365-legacy.com": ("action-required", "done", "action-required", 2),
    "mx-cname.net": ("action-required", "done", "action-required", 2),  # MX_CNAME_M365
    "stale-secondary.com": ("action-required", "done", "action-required", 2),  # MX_INCONSISTENT
    "m365-dns-hosted.com": ("done", "action-required", "action-required", 2),  # NS_M365
    "parent-m365.com": ("done", "action-required", "action-required", 2),  # NS_PARENT_M365
    "child-stale.com": ("done", "action-required", "manual", 2),  # NS_CHILD_STALE: a warning verdict
    "leftovers.org": ("done", "done", "manual", 1),
    "clean.org": ("done", "done", "manual", 1),
    "blackhole.net": ("unknown", "unknown", "action-required", 3),
}


@pytest.mark.lab
@pytest.mark.parametrize("domain", list(LAB_CASES))
def test_step_statuses_against_real_dns(dnscheck, domain: str) -> None:
    run = dnscheck("runbook", domain, *FACTS, "--timeout", "3", "-f", "json")
    mx, ns, remove, rc = LAB_CASES[domain]
    got = steps(run)
    assert (got["update-mx"], got["change-ns"], got["remove-domains"], run.rc) == (mx, ns, remove, rc), run
    assert got["cancel-subscription"] == "waiting"


@pytest.mark.lab
def test_parent_delegation_names_the_registrar(dnscheck) -> None:
    run = dnscheck("runbook", "parent-m365.com", *FACTS, "-f", "json")
    step = json.loads(run.stdout)["steps"][1]
    assert "registrar" in step["detail"]
    assert "NS_PARENT_M365" in {r["code"] for r in step["records"]}


@pytest.mark.lab
def test_leftovers_listed_and_all_done(dnscheck) -> None:
    run = dnscheck("runbook", "clean.org", "leftovers.org", *FACTS, *ALL_ACKS, "-f", "json")
    assert run.rc == 0, run
    doc = json.loads(run.stdout)
    remove = doc["steps"][3]
    assert {(r["domain"], r["code"]) for r in remove["records"]} == {
        ("leftovers.org", "SPF_M365"), ("leftovers.org", "AUTODISCOVER_M365")}
    assert [d["verdict"] for d in doc["domains"]] == ["safe", "warning"]


WALK = "runbook-walk.com"
M365_HOSTS = [f"ns{i}.bdm.microsoftonline.com" for i in range(1, 5)]
NEW_HOSTS = ["ns1.newdns.net", "ns2.newdns.net"]


def _zone(serial: int, ns: list[str], mx: str) -> str:
    return "\n".join([f"$ORIGIN {WALK}.", "$TTL 300",
                      f"@ SOA {ns[0]}. hostmaster.{WALK}. {serial} 3600 600 86400 300",
                      *(f"@ NS {h}." for h in ns), f"@ MX {mx}", ""])


@pytest.mark.lab
def test_walkthrough_across_a_real_migration(lab, dnscheck, tmp_path: Path) -> None:
    """The article in order, resumed from --state: the MX trap, the NS move, then the manual steps."""
    state = str(tmp_path / "cancel.json")
    old_mx, new_mx = "0 runbook-walk-com.mail.protection.outlook.com.", "10 mx1.newmail.net."
    try:
        # Microsoft 365 hosts the DNS: MX and NS both at Microsoft.
        lab.set_zone("m365", WALK, _zone(1, M365_HOSTS, old_mx))
        run = dnscheck("runbook", WALK, *FACTS, "--state", state, "--ack", "save-data", "-f", "json")
        assert run.rc == 2, run
        assert steps(run)["update-mx"] == "action-required" and steps(run)["change-ns"] == "action-required"
        assert stat.S_IMODE(Path(state).stat().st_mode) == 0o600

        # The new DNS host is ready with the new MX, but the registry still delegates to Microsoft 365:
        # the MX change has no effect yet.
        lab.set_zone("newdns", WALK, _zone(2, NEW_HOSTS, new_mx), delegate_to=M365_HOSTS)
        run = dnscheck("runbook", "--state", state, "-f", "json")
        assert run.rc == 2, run
        assert steps(run)["update-mx"] == "action-required"

        # NS moves at the registrar: resume with no domain and no facts on the command line.
        lab.set_zone("newdns", WALK, _zone(3, NEW_HOSTS, new_mx), delegate_to=NEW_HOSTS)
        lab.remove_zone("m365", WALK)
        run = dnscheck("runbook", "--state", state, "-f", "json")
        doc = json.loads(run.stdout)
        assert run.rc == 1, run
        assert steps(run) == {"update-mx": "done", "change-ns": "done", "save-data": "done",
                              "remove-domains": "manual", "cancel-subscription": "waiting",
                              "uninstall-office": "manual"}
        assert doc["changes"][0]["was"] == "blocked" and doc["changes"][0]["now"] == "safe"

        run = dnscheck("runbook", "--state", state, "--ack", "remove-domains", "-f", "json")
        assert steps(run)["cancel-subscription"] == "manual" and run.rc == 1, run
        run = dnscheck("runbook", "--state", state, "--ack", "cancel-subscription",
                       "--ack", "uninstall-office", "-f", "markdown")
        assert run.rc == 0, run
        assert run.stdout.count("- [x] **") == 6
    finally:
        for server in ("m365", "newdns"):
            lab.remove_zone(server, WALK)
