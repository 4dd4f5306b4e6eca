"""The runbook command in process (click's runner), with zone files: no network."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dnscheck.cli import cli
from dnscheck.runbook import command, flow

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
M365 = str(FIXTURES / "m365.zone")
PLANNED = str(FIXTURES / "planned.zone")
FACTS = ["--purchased", "2025-01-01", "--licenses", "10", "--cancel-date", "2026-03-01"]


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["runbook", *args], input=input)


def doc(res: Result) -> dict[str, Any]:
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def statuses(d: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["status"] for s in d["steps"]}


def test_domain_still_at_m365() -> None:
    res = run("contoso.com", "--zone-file", M365, *FACTS, "-f", "json")
    assert res.exit_code == 2, res.output
    d = doc(res)
    assert statuses(d)["update-mx"] == "action-required"
    assert statuses(d)["change-ns"] == "action-required"
    assert statuses(d)["cancel-subscription"] == "waiting"
    assert d["domains"][0]["verdict"] == "blocked"
    assert d["source"].startswith("zone file")


def test_planned_zone_never_completes_a_step_and_acks_keep_the_order() -> None:
    res = run("contoso.com", "--zone-file", PLANNED, *FACTS, "-f", "json")
    assert res.exit_code == 2, res.output
    d = doc(res)
    assert statuses(d)["update-mx"] == "planned" and statuses(d)["change-ns"] == "planned"
    assert d["live"] is False
    res = run("contoso.com", "--zone-file", PLANNED, *FACTS, "--ack", "save-data", "--ack", "remove-domains")
    assert res.exit_code == 64
    assert "--ack remove-domains: not due yet" in res.stderr and "--force" in res.stderr
    res = run("contoso.com", "--zone-file", PLANNED, *FACTS, "-f", "json", "--ack", "save-data",
              "--ack", "remove-domains", "--ack", "cancel-subscription", "--ack", "uninstall-office", "--force")
    assert res.exit_code == 2, res.output  # forced acks never make the planned DNS steps done
    d = doc(res)
    assert statuses(d)["remove-domains"] == "done"
    assert d["steps"][3]["forced"] == ["update-mx (planned)", "change-ns (planned)"]
    assert "--force" in d["steps"][3]["detail"]


def test_cancellation_and_retention_in_json() -> None:
    d = doc(run("contoso.com", "--zone-file", PLANNED, "--purchased", "2025-01-01", "--licenses", "25",
                "--cancel-date", "2026-03-01", "--expires", "2026-12-31", "-f", "json"))
    assert d["cancellation"]["channel"] == "phone"  # exactly 25, bought over 30 days ago
    assert d["cancellation"]["fee_warning"] is True
    assert d["data_retention"] == {"may_delete_from": "2026-05-30", "deleted_by": "2026-08-28"}
    assert d["facts"]["expired"] is False


def test_product_key_and_current_policy() -> None:
    d = doc(run("contoso.com", "--zone-file", PLANNED, *FACTS, "--product-key", "-f", "json"))
    assert (d["cancellation"]["channel"], d["cancellation"]["refund"]) == ("phone", False)
    d = doc(run("contoso.com", "--zone-file", PLANNED, "--purchased", "2026-02-20", "--licenses", "40",
                "--cancel-date", "2026-03-01", "--policy", "current", "--billing", "mca", "-f", "json"))
    assert d["cancellation"]["rule"] == "mca-after-7-days"
    assert d["data_retention"]["may_delete_from"] == "2026-03-31"


def test_expired_follows_expires() -> None:
    d = doc(run("contoso.com", "--zone-file", PLANNED, *FACTS, "--expires", "2026-02-01", "-f", "json"))
    assert d["facts"]["expired"] is True
    assert d["cancellation"]["fee_warning"] is False


def test_state_resume(tmp_path: Path) -> None:
    state = tmp_path / "cancel.json"
    res = run("contoso.com", "--zone-file", M365, *FACTS, "--state", str(state), "--ack", "save-data",
              "--resolver", "127.0.0.1:9", "--mode", "resolver", "--timeout", "2")
    assert res.exit_code == 2, res.output
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    saved = json.loads(state.read_text())
    assert saved["schema"] == "dnscheck-runbook/2"
    assert saved["domains"] == ["contoso.com"]
    assert saved["facts"] == {"purchased": "2025-01-01", "licenses": 10, "cancel_date": "2026-03-01"}
    assert saved["settings"] == {"resolvers": ["127.0.0.1:9"], "mode": "resolver", "timeout": 2.0}
    assert list(saved["acks"]) == ["save-data"]
    assert saved["history"] == {} and saved["last_check"] == {}  # a zone file is no evidence

    # Later: no domain, no facts, no settings on the command line: all from the state; --mode given again wins.
    res = run("--zone-file", PLANNED, "--state", str(state), "-f", "json", "--mode", "auto")
    assert res.exit_code == 2, res.output
    d = doc(res)
    assert statuses(d)["save-data"] == "done" and d["facts"]["licenses"] == 10 and d["mode"] == "auto"
    saved = json.loads(state.read_text())
    assert saved["settings"] == {"resolvers": ["127.0.0.1:9"], "mode": "auto", "timeout": 2.0}
    assert saved["acks"]["save-data"]["on"] == d["steps"][2]["acknowledged"]

    # A fact given again on the command line wins, and is kept.
    d = doc(run("--zone-file", PLANNED, "--state", str(state), "-f", "json", "--licenses", "30"))
    assert d["cancellation"]["channel"] == "phone"
    assert json.loads(state.read_text())["facts"]["licenses"] == 30

    # --unack withdraws.
    d = doc(run("--zone-file", PLANNED, "--state", str(state), "-f", "json", "--unack", "save-data"))
    assert statuses(d)["save-data"] == "manual" and json.loads(state.read_text())["acks"] == {}


def test_domain_set_changes_only_explicitly(tmp_path: Path) -> None:
    state = tmp_path / "cancel.json"
    assert run("contoso.com", "--zone-file", PLANNED, *FACTS, "--state", str(state)).exit_code == 2
    res = run("fabrikam.com", "--zone-file", PLANNED, "--state", str(state))
    assert res.exit_code == 64 and "is for contoso.com" in res.stderr and "--add-domain" in res.stderr
    assert json.loads(state.read_text())["domains"] == ["contoso.com"]
    res = run("--zone-file", PLANNED, "--state", str(state), "--add-domain", "fabrikam.com", "-f", "json")
    assert [x["domain"] for x in doc(res)["domains"]] == ["contoso.com", "fabrikam.com"]
    res = run("--zone-file", PLANNED, "--state", str(state), "--remove-domain", "fabrikam.com", "-f", "json")
    assert json.loads(state.read_text())["domains"] == ["contoso.com"]
    res = run("--zone-file", PLANNED, "--state", str(state), "--remove-domain", "nope.com")
    assert res.exit_code == 64 and "not one of contoso.com" in res.stderr


def test_output_file_is_written_atomically(tmp_path: Path) -> None:
    out = tmp_path / "ticket.md"
    res = run("contoso.com", "--zone-file", PLANNED, *FACTS, "-f", "markdown", "-o", str(out))
    assert res.exit_code == 2 and res.stdout == ""
    assert out.read_text().startswith("# Microsoft 365 subscription cancellation: contoso.com")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ticket.md"]


def test_cancel_date_defaults_to_today_and_is_not_saved(tmp_path: Path) -> None:
    from datetime import date

    state = tmp_path / "s.json"
    d = doc(run("contoso.com", "--zone-file", PLANNED, "--purchased", "2025-01-01", "--licenses", "3",
                "--state", str(state), "-f", "json"))
    assert d["facts"]["cancel_date"] == date.today().isoformat()
    assert "cancel_date" not in json.loads(state.read_text())["facts"]


@pytest.mark.parametrize("content", ["{oops", '{"schema": "dnscheck/1", "results": []}', "[]"])
def test_corrupt_or_foreign_state_is_never_overwritten(tmp_path: Path, content: str) -> None:
    state = tmp_path / "cancel.json"
    state.write_text(content)
    res = run("contoso.com", "--zone-file", PLANNED, *FACTS, "--state", str(state))
    assert res.exit_code == 64
    assert "cancel.json" in res.stderr and "left untouched" in res.stderr
    assert state.read_text() == content
    assert res.stdout == ""


@pytest.mark.parametrize(("args", "message"), [
    (["contoso.com", "--zone-file", PLANNED, *FACTS, "--ack", "update-mx"], "done when a live check says so"),
    (["contoso.com", "--zone-file", PLANNED, *FACTS, "--ack", "save-dat"],
     "not a step; steps that can be acknowledged now: save-data"),
    (["contoso.com", "--zone-file", PLANNED, *FACTS, "--unack", "update-mx"], "--unack update-mx"),
    (["contoso.com", "--zone-file", PLANNED, "--purchased", "2025-01-01"], "--licenses"),
    (["contoso.com", "--zone-file", PLANNED, "--licenses", "3"], "--purchased"),
    (["--zone-file", PLANNED, *FACTS], "at least one DOMAIN"),
    (["co.uk", "--zone-file", PLANNED, *FACTS], "not a domain"),
    (["contoso.com", *FACTS, "--purchased", "2026-13-01"], "not a date"),
    (["contoso.com", *FACTS, "--purchased", "2026-03-02"], "after the cancellation date"),
    (["contoso.com", *FACTS, "--expires", "2024-01-01"], "before --purchased"),
    (["contoso.com", *FACTS, "--expires", "2026-12-31", "--expired"], "contradicts"),
    (["contoso.com", *FACTS, "--expires", "2026-01-01", "--not-expired"], "contradicts"),
    (["contoso.com", *FACTS, "--licenses", "-1"], "--licenses"),
    (["contoso.com", *FACTS, "--format", "csv"], "-f csv does not suit a runbook"),
    (["contoso.com", *FACTS, "--format", "yaml"], "--format"),
    (["contoso.com", *FACTS, "--interactive"], "needs a terminal"),
    (["contoso.com", *FACTS, "--state", "/nonexistent/dir/s.json"], "not writable"),
])
def test_usage_errors(args: list[str], message: str) -> None:
    res = run(*args)
    assert res.exit_code == 64, res.output
    assert message in res.stderr


def test_interactive_asks_only_about_the_next_due_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow, "_is_tty", lambda: True)
    state = tmp_path / "s.json"
    res = run("contoso.com", "--zone-file", PLANNED, *FACTS, "--interactive", "--state", str(state),
              "-f", "json", input="y\ny\ny\n")
    assert res.exit_code == 2, res.output
    # save-data is due; after it, nothing is (the DNS steps are only planned): no other question.
    assert res.stderr.count("done?") == 1 and "Is 'save-data' done?" in res.stderr
    assert statuses(doc(res))["save-data"] == "done"
    assert set(json.loads(state.read_text())["acks"]) == {"save-data"}


def test_interactive_stops_at_the_first_no(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow, "_is_tty", lambda: True)
    res = run("contoso.com", "--zone-file", M365, *FACTS, "--interactive", input="n\n")
    assert res.exit_code == 2
    assert res.stderr.count("done?") == 1 and "Is 'uninstall-office' done?" not in res.stderr


def test_markdown_report() -> None:
    res = run("contoso.com", "--zone-file", M365, *FACTS, "-f", "markdown")
    assert res.exit_code == 2
    assert res.stdout.startswith("# Microsoft 365 subscription cancellation: contoso.com")
    assert "- [ ] **1. Update the MX record" in res.stdout


def test_shares_the_check_dns_options() -> None:
    check = cli.commands["check"]
    runbook = cli.commands["runbook"]
    for name in command.SHARED_CHECK_OPTIONS:
        mine = next((p for p in runbook.params if p.name == name), None)
        theirs = next((p for p in check.params if p.name == name), None)
        if theirs is None:
            continue
        assert mine is not None and mine.opts == theirs.opts and mine.default == theirs.default


def test_help_and_version_do_not_import_dns_libraries() -> None:
    code = ("import sys\nfrom dnscheck.cli import cli\n"
            "for argv in (['--version'], ['runbook', '--help']):\n"
            "    try:\n        cli.main(argv, prog_name='dnscheck')\n    except SystemExit:\n        pass\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('dns', 'tldextract', 'tabulate'))\n"
            "print(heavy, file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "[]"
