"""`dnscheck runbook` end to end: the installed command, against zone files (offline) and the lab's servers.

The lab tests run inside tests/run.sh's network namespace (see tests/conftest.py); the zone-file tests run
anywhere.
"""

from __future__ import annotations

import json
import stat
import subprocess
from datetime import UTC, datetime, timedelta
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


def test_a_planned_zone_never_completes_a_step(dnscheck_offline) -> None:
    run = dnscheck_offline("runbook", "contoso.com", "--zone-file", str(FIXTURES / "planned.zone"), *FACTS,
                           *ALL_ACKS, "--force", "-f", "json")
    assert run.rc == 2, run
    got = steps(run)
    assert got["update-mx"] == "planned" and got["change-ns"] == "planned"
    assert "publish it" in json.loads(run.stdout)["steps"][0]["detail"]
    assert json.loads(run.stdout)["steps"][3]["forced"] == ["update-mx (planned)", "change-ns (planned)"]


def test_zone_file_with_mx_hosts_outside_it_is_not_done_offline(dnscheck_offline, tmp_path: Path) -> None:
    """The MX hosts are a mail provider's, outside the file: offline they cannot be followed, so never safe."""
    text = (FIXTURES / "planned.zone").read_text()
    text = text.replace("MX    10 mx1\n", "MX    10 mx1.newmail.net.\n").replace("MX    20 mx2\n", "MX    20 mx2.newmail.net.\n")
    path = tmp_path / "planned-elsewhere.zone"
    path.write_text(text)
    run = dnscheck_offline("runbook", "contoso.com", "--zone-file", str(path), *FACTS, "-f", "json")
    assert run.rc == 3, run
    assert steps(run)["update-mx"] != "done"


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

PAST = ("--changed-at", "2020-01-01T00:00Z")  # the change is long past: caches are clear

# domain -> (update-mx, change-ns, remove-domains, exit code)
LAB_CASES = {
    "m365-legacy.com": ("action-required", "done", "waiting", 2),
    "mx-cname.net": ("action-required", "done", "waiting", 2),  # MX_CNAME_M365
    "stale-secondary.com": ("action-required", "done", "waiting", 2),  # MX_INCONSISTENT
    "m365-dns-hosted.com": ("done", "action-required", "waiting", 2),  # NS_M365
    "parent-m365.com": ("done", "action-required", "waiting", 2),  # NS_PARENT_M365
    "child-stale.com": ("done", "done", "manual", 1),  # NS_CHILD_STALE: a warning, shown in change-ns
    "leftovers.org": ("done", "done", "manual", 1),
    "clean.org": ("done", "done", "manual", 1),
    "blackhole.net": ("unknown", "unknown", "unknown", 3),
}


@pytest.mark.lab
@pytest.mark.parametrize("domain", list(LAB_CASES))
def test_step_statuses_against_real_dns(dnscheck, domain: str) -> None:
    run = dnscheck("runbook", domain, *FACTS, *PAST, "--timeout", "3", "-f", "json")
    mx, ns, remove, rc = LAB_CASES[domain]
    got = steps(run)
    assert (got["update-mx"], got["change-ns"], got["remove-domains"], run.rc) == (mx, ns, remove, rc), run
    assert got["cancel-subscription"] in ("waiting", "unknown")


@pytest.mark.lab
def test_parent_delegation_lands_in_change_ns(dnscheck) -> None:
    run = dnscheck("runbook", "parent-m365.com", *FACTS, *PAST, "-f", "json")
    step = json.loads(run.stdout)["steps"][1]
    assert "NS_PARENT_M365" in {r["code"] for r in step["records"]}
    assert any(e["authoritative_reached"] for e in step["evidence"])


@pytest.mark.lab
def test_leftovers_listed_and_all_done(dnscheck) -> None:
    run = dnscheck("runbook", "clean.org", "leftovers.org", *FACTS, *PAST, *ALL_ACKS, "-f", "json")
    assert run.rc == 0, run
    doc = json.loads(run.stdout)
    remove = doc["steps"][3]
    assert {(r["domain"], r["code"]) for r in remove["records"]} == {
        ("leftovers.org", "SPF_M365"), ("leftovers.org", "AUTODISCOVER_M365")}
    assert [d["verdict"] for d in doc["domains"]] == ["safe", "warning"]


@pytest.mark.lab
def test_out_of_order_acks_are_refused(dnscheck) -> None:
    run = dnscheck("runbook", "m365-legacy.com", *FACTS, *PAST, "--ack", "cancel-subscription",
                   "--ack", "uninstall-office")
    assert run.rc == 64, run
    assert "--ack cancel-subscription: not due yet" in run.stderr
    assert "steps that can be acknowledged now: save-data" in run.stderr and "--force" in run.stderr
    run = dnscheck("runbook", "m365-legacy.com", *FACTS, *PAST, "--ack", "save-dat")
    assert run.rc == 64 and "save-dat: is not a step; steps that can be acknowledged now: save-data" in run.stderr


@pytest.mark.lab
def test_a_first_look_waits_for_caches_unless_told_when_the_change_was(dnscheck) -> None:
    run = dnscheck("runbook", "clean.org", *FACTS, "-f", "json")
    assert steps(run)["update-mx"] == "waiting" and steps(run)["remove-domains"] == "waiting", run
    assert json.loads(run.stdout)["steps"][0]["evidence"][0]["changed_how"] == "first-seen"


@pytest.mark.lab
def test_resume_keeps_the_resolver_mode_and_timeout(dnscheck, lab, tmp_path: Path) -> None:
    state = str(tmp_path / "cancel.json")
    run = dnscheck("runbook", "m365-legacy.com", *FACTS, "--state", state, "--mode", "authoritative",
                   "--timeout", "4", "-f", "json")
    assert run.rc == 2, run
    # No --resolver now: the state's is used (the namespace has no other resolver: /etc/resolv.conf would fail).
    run = dnscheck("runbook", "--state", state, "-f", "json", resolver=False)
    assert run.rc == 2, run
    doc = json.loads(run.stdout)
    assert doc["domains"][0]["verdict"] == "blocked" and doc["mode"] == "authoritative"
    assert lab.resolver.split(":")[0] in doc["source"]
    assert json.loads(Path(state).read_text())["settings"] == {
        "resolvers": [lab.resolver], "mode": "authoritative", "timeout": 4.0}


@pytest.mark.lab
def test_concurrent_runs_do_not_corrupt_the_state(dnscheck, tmp_path: Path) -> None:
    state = tmp_path / "cancel.json"
    assert dnscheck("runbook", "clean.org", *FACTS, *PAST, "--state", str(state)).rc == 1
    argv = [dnscheck.executable, "runbook", "--resolver", dnscheck.resolver, "--state", str(state), "-f", "json"]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [(p.wait(60), *p.communicate()) for p in procs]
    for rc, out, err in outs:
        assert rc == 1 or (rc == 64 and "in use by another dnscheck runbook" in err), (rc, err)
    assert any(rc == 1 for rc, _, _ in outs)
    doc = json.loads(state.read_text())
    assert doc["schema"] == "dnscheck-runbook/2" and doc["domains"] == ["clean.org"]
    assert len(doc["history"]["clean.org"]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cancel.json", "cancel.json.lock"]


@pytest.mark.lab
def test_a_second_run_waits_then_fails_clearly(dnscheck, tmp_path: Path) -> None:
    import fcntl
    import os

    state = tmp_path / "cancel.json"
    fd = os.open(f"{state}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        run = dnscheck("runbook", "clean.org", *FACTS, "--state", str(state), env={"DNSCHECK_LOCK_WAIT": "0.5"})
    finally:
        os.close(fd)
    assert run.rc == 64 and "in use by another dnscheck runbook" in run.stderr, run
    assert not state.exists()


@pytest.mark.lab
def test_partner_managed_subscription_changes_the_cancel_step(dnscheck) -> None:
    run = dnscheck("runbook", "clean.org", *FACTS, *PAST, "--partner", "GoDaddy", "--ack", "save-data",
                   "--ack", "remove-domains", "-f", "json")
    assert run.rc == 1, run
    cancel = json.loads(run.stdout)["steps"][4]
    assert cancel["status"] == "manual"
    assert "managed by a partner (GoDaddy)" in cancel["detail"] and "does not apply" in cancel["detail"]
    assert any(a.startswith("Risk:") for a in cancel["advice"])
    assert not any("Billing > Subscriptions" in a for a in cancel["advice"])


WALK = "runbook-walk.com"
M365_HOSTS = [f"ns{i}.bdm.microsoftonline.com" for i in range(1, 5)]
NEW_HOSTS = ["ns1.newdns.net", "ns2.newdns.net"]


def _zone(serial: int, ns: list[str], mx: str) -> str:
    return "\n".join([f"$ORIGIN {WALK}.", "$TTL 300",
                      f"@ SOA {ns[0]}. hostmaster.{WALK}. {serial} 3600 600 86400 300",
                      *(f"@ NS {h}." for h in ns), f"@ MX {mx}", ""])


def _time_passes(state: str, seconds: int) -> None:
    """Move every time the state remembers back by `seconds`: as if the next run came that much later."""
    doc = json.loads(Path(state).read_text())

    def back(t: str) -> str:
        when = datetime.fromisoformat(t.replace("Z", "+00:00")) - timedelta(seconds=seconds)
        return when.isoformat(timespec="seconds").replace("+00:00", "Z")

    for entries in doc["history"].values():
        for e in entries:
            e["first_seen"], e["last_seen"] = back(e["first_seen"]), back(e["last_seen"])
    Path(state).write_text(json.dumps(doc))


@pytest.mark.lab
def test_walkthrough_across_a_real_migration(lab, dnscheck, tmp_path: Path) -> None:
    """The article in order, resumed from --state: the MX trap, the NS move, the caches, the manual steps."""
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

        # NS moves at the registrar: the change is seen now, so the DNS steps wait for the caches, and removing
        # the domain is not due yet, even with --changed-at older than the last time the old answers were seen.
        lab.set_zone("newdns", WALK, _zone(3, NEW_HOSTS, new_mx), delegate_to=NEW_HOSTS)
        lab.remove_zone("m365", WALK)
        run = dnscheck("runbook", "--state", state, "--changed-at", "2020-01-01T00:00Z", "-f", "json")
        doc = json.loads(run.stdout)
        assert run.rc == 1, run
        assert steps(run) == {"update-mx": "waiting", "change-ns": "waiting", "save-data": "done",
                              "remove-domains": "waiting", "cancel-subscription": "waiting",
                              "uninstall-office": "waiting"}
        ready = datetime.fromisoformat(doc["steps"][0]["ready_at"].replace("Z", "+00:00"))
        assert timedelta(minutes=59) < ready - datetime.now(UTC) <= timedelta(hours=1)
        assert doc["changes"][0]["was"] == "blocked" and doc["changes"][0]["now"] == "safe"
        run = dnscheck("runbook", "--state", state, "--ack", "remove-domains")
        assert run.rc == 64 and "not due yet" in run.stderr, run

        # An hour later the caches are clear.
        _time_passes(state, 3601)
        run = dnscheck("runbook", "--state", state, "--ack", "remove-domains", "-f", "json")
        assert steps(run)["cancel-subscription"] == "manual" and run.rc == 1, run
        assert steps(run)["update-mx"] == "done" and steps(run)["change-ns"] == "done"
        run = dnscheck("runbook", "--state", state, "--ack", "cancel-subscription",
                       "--ack", "uninstall-office", "-f", "markdown")
        assert run.rc == 0, run
        assert run.stdout.count("- [x] **") == 6
        assert "Evidence: runbook-walk.com: safe" in run.stdout
    finally:
        for server in ("m365", "newdns"):
            lab.remove_zone(server, WALK)
