"""Every report format, parsed by its consumer's own parser: Python's csv module, prometheus_client's text
parser, a Nagios status-line regex, json. Built from hand-made Results: no DNS.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import sys

import pytest
from click.testing import CliRunner

from dnscheck.catalogue import MESSAGES, Message
from dnscheck.formats import FORMATS, Format, Summary, get_format
from dnscheck.models import Finding, Record, Result, SeenRecord, Severity, Verdict

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures")
# Monitoring-plugins guidelines: "SERVICE STATUS - text | perfdata"; perfdata is label=value[UOM];w;c;min;max.
NAGIOS_LINE = re.compile(r"^DNSCHECK (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+?)(?: \| ([^|\n]+))?$")
PERFDATA_ITEM = re.compile(r"^('[^'=]+'|[^'= ]+)=(-?[0-9.]+)(s|ms|%|B|c)?(;[0-9.:~@-]*){0,4}$")


# Findings whose rendered message is exactly the given text, so the formats' escaping can be tested on it.
MESSAGES["*.verbatim"] = Message("{text}", "fix it")


def finding(code: str, severity: Severity, message: str = "msg", record: Record | None = None) -> Finding:
    return Finding(code, severity, (("text", message),), record, None, "verbatim")


def result(domain: str | None, verdict: Verdict, *findings: Finding, input: str | None = None) -> Result:
    return Result(input if input is not None else (domain or ""), domain, domain, verdict,
                  "worldwide" if verdict is Verdict.BLOCKED else None, tuple(findings),
                  (SeenRecord(Record(domain or "x", "MX", "0 mx.example.net", 300), False),), 12)


MX = Record("contoso.com", "MX", "0 contoso-com.mail.protection.outlook.com", 3600)
SAFE = result("safe.example", Verdict.SAFE)
WARN = result("warn.example", Verdict.WARNING,
              finding("SPF_M365", Severity.WARNING, "SPF includes outlook",
                      Record("warn.example", "TXT", "v=spf1 include:spf.protection.outlook.com -all", 300)))
BLOCKED = result("contoso.com", Verdict.BLOCKED, finding("MX_M365", Severity.BLOCKED, "MX at Exchange", MX),
                 finding("SPF_M365", Severity.WARNING, "SPF"))
UNKNOWN = result("dead.example", Verdict.UNKNOWN,
                 finding("LOOKUP_FAILED", Severity.UNKNOWN, "MX lookup failed: timed out",
                         Record("dead.example", "MX", "")))
INVALID = result(None, Verdict.UNKNOWN, finding("INPUT_INVALID", Severity.UNKNOWN, "contains white space"),
                 input="not a domain")
ALL = [SAFE, WARN, BLOCKED, UNKNOWN, INVALID]


def render(fmt: str, results: list[Result], elapsed: float = 1.25, finished: float = 1_700_000_000.0) -> str:
    out = io.StringIO()
    f = get_format(fmt)(out, False)
    f.begin()
    summary = Summary()
    for r in results:
        summary.add(r)
        f.result(r)
    summary.elapsed_s, summary.finished_at = elapsed, finished
    f.end(summary)
    return out.getvalue()


# --- every format -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_registered_format_loads_and_renders(name: str) -> None:
    cls = get_format(name)
    assert issubclass(cls, Format)
    text = render(name, ALL)
    assert text.endswith("\n")
    assert render(name, []) is not None  # an empty run renders too


def test_the_cli_offers_exactly_the_registered_formats() -> None:
    from dnscheck.cli import cli

    check = cli.commands["check"]
    fmt = next(p for p in check.params if p.name == "fmt")
    assert sorted(fmt.type.choices) == sorted(FORMATS)
    assert {"table", "json", "jsonl", "csv", "nagios", "prometheus"} <= set(FORMATS)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_writes_atomically_with_o(name: str, tmp_path: os.PathLike[str]) -> None:
    target = os.path.join(tmp_path, "report.out")
    args = ["check", "contoso.com", "--zone-file", os.path.join(FIXTURES, "m365.zone"), "-f", name,
            "-o", target]
    from dnscheck.cli import cli

    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2, r.output  # blocked, whatever the format
    assert r.output == ""  # nothing on stdout: the report is in the file
    with open(target, encoding="utf-8") as f:
        text = f.read()
    assert "contoso.com" in text
    assert os.listdir(tmp_path) == ["report.out"]  # no temporary file left behind
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_output_file_is_replaced_only_when_complete(tmp_path: os.PathLike[str]) -> None:
    from dnscheck.output import atomic_open

    target = os.path.join(tmp_path, "dnscheck.prom")
    with open(target, "w") as f:
        f.write("old complete report\n")
    os.chmod(target, 0o644)
    with atomic_open(target) as out:
        out.write("dnscheck_exit_code 2.0\n")
        with open(target) as reader:  # a scrape in the middle of the run sees the old file, whole
            assert reader.read() == "old complete report\n"
    with open(target) as f:
        assert f.read() == "dnscheck_exit_code 2.0\n"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644  # a chmod made for the collector stays
    with pytest.raises(RuntimeError), atomic_open(target) as out:
        out.write("half")
        raise RuntimeError("interrupted")
    with open(target) as f:
        assert f.read() == "dnscheck_exit_code 2.0\n"
    assert sorted(os.listdir(tmp_path)) == ["dnscheck.prom"]


# --- csv ----------------------------------------------------------------------------------------------------

def test_csv_parses_with_header_and_one_row_per_finding() -> None:
    from dnscheck.formats.csv import COLUMNS

    rows = list(csv.DictReader(io.StringIO(render("csv", ALL), newline="")))
    assert tuple(rows[0].keys()) == COLUMNS
    # safe: 1 row (no finding), warn: 1, blocked: 2, unknown: 1, invalid: 1 - in input order
    assert [r["domain"] or r["input"] for r in rows] == [
        "safe.example", "warn.example", "contoso.com", "contoso.com", "dead.example", "not a domain"]
    assert rows[0]["code"] == "" and rows[0]["verdict"] == "safe"
    assert [r["code"] for r in rows[2:4]] == ["MX_M365", "SPF_M365"]
    assert rows[2]["record_value"] == "0 contoso-com.mail.protection.outlook.com"
    assert rows[2]["record_ttl"] == "3600"
    assert rows[5]["code"] == "INPUT_INVALID" and rows[5]["verdict"] == "unknown"


@pytest.mark.parametrize("evil", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_neutralises_formulas(evil: str) -> None:
    r = result("evil.example", Verdict.WARNING,
               finding("SPF_M365", Severity.WARNING, evil, Record("evil.example", "TXT", evil, 1)),
               input=evil)
    rows = list(csv.reader(io.StringIO(render("csv", [r]), newline="")))
    for cell in rows[1]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    if evil[0] in "\t\r":  # a control character becomes a visible escape: nothing left to neutralise
        assert rows[1][0] == f"\\x{ord(evil[0]):02x}x"
    else:
        assert rows[1][0] == "'" + evil  # the input cell, prefixed, otherwise unchanged
        assert rows[1][11] == "'" + evil  # the record value cell


def test_csv_quotes_commas_quotes_and_newlines_and_strips_controls() -> None:
    text = 'v=spf1, "quoted"\nnext\x1b[31m'
    r = result("q.example", Verdict.WARNING, finding("SPF_M365", Severity.WARNING, text))
    rows = list(csv.reader(io.StringIO(render("csv", [r]), newline="")))
    assert len(rows) == 2
    assert rows[1][7] == 'v=spf1, "quoted"\\x0anext\\x1b[31m'


# --- nagios -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("verdict", "status"), [
    (Verdict.SAFE, "OK"), (Verdict.WARNING, "WARNING"), (Verdict.BLOCKED, "CRITICAL"),
    (Verdict.UNKNOWN, "UNKNOWN")])
def test_nagios_status_follows_the_worst_verdict(verdict: Verdict, status: str) -> None:
    r = {Verdict.SAFE: SAFE, Verdict.WARNING: WARN, Verdict.BLOCKED: BLOCKED,
         Verdict.UNKNOWN: UNKNOWN}[verdict]
    first = render("nagios", [SAFE, r]).splitlines()[0]
    m = NAGIOS_LINE.match(first)
    assert m, first
    assert m.group(1) == status
    # The plugin's exit code is dnscheck's: 0 1 2 3 are Nagios' OK WARNING CRITICAL UNKNOWN.
    assert ["OK", "WARNING", "CRITICAL", "UNKNOWN"][verdict.exit_code] == status


def test_nagios_blocked_outranks_unknown_and_perfdata_parses() -> None:
    lines = render("nagios", ALL).splitlines()
    m = NAGIOS_LINE.match(lines[0])
    assert m and m.group(1) == "CRITICAL"
    perf = dict(item.split("=", 1) for item in m.group(3).split())
    for item in m.group(3).split():
        assert PERFDATA_ITEM.match(item), item
    assert perf["domains"].split(";")[0] == "5"
    assert perf["blocked"].split(";")[0] == "1"
    assert perf["unknown"].split(";")[0] == "2"
    assert perf["time"].startswith("1.250s")
    # Long output: only the domains that are not safe, worst first, each with its findings.
    assert lines[1].startswith("contoso.com: blocked")
    assert not any(line.startswith("safe.example") for line in lines[1:])
    assert "|" not in "\n".join(lines[1:])


def test_nagios_escapes_hostile_text_and_pipes() -> None:
    evil = result("evil.example", Verdict.BLOCKED,
                  finding("MX_M365", Severity.BLOCKED, "a|b\x1b[2J\nDNSCHECK OK"))
    text = render("nagios", [evil])
    lines = text.splitlines()
    assert NAGIOS_LINE.match(lines[0])
    assert text.count("|") == 1  # only the perfdata separator
    assert "\x1b" not in text
    assert not any(line.startswith("DNSCHECK OK") for line in lines)


def test_nagios_empty_run_is_unknown() -> None:
    m = NAGIOS_LINE.match(render("nagios", []).splitlines()[0])
    assert m and m.group(1) == "UNKNOWN"


def test_nagios_long_output_is_bounded() -> None:
    from dnscheck.formats import nagios

    many = [result(f"d{i}.example", Verdict.WARNING, finding("SPF_M365", Severity.WARNING))
            for i in range(nagios.LONG_OUTPUT_DOMAINS + 7)]
    lines = render("nagios", many).splitlines()
    assert lines[-1].startswith("... and 7 more")
    assert len(NAGIOS_LINE.match(lines[0]).group(2)) < 200  # type: ignore[union-attr]


# --- prometheus ---------------------------------------------------------------------------------------------

def _families(text: str) -> dict[str, list]:
    from prometheus_client.parser import text_string_to_metric_families

    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def test_prometheus_parses_with_prometheus_client() -> None:
    fams = _families(render("prometheus", ALL, elapsed=2.5, finished=1_700_000_123.0))
    codes = {s.labels["domain"]: s.value for s in fams["dnscheck_domain_verdict_code"]}
    assert codes == {"safe.example": 0, "warn.example": 1, "contoso.com": 2, "dead.example": 3,
                     "not a domain": 3}
    findings = {s.labels["code"]: s.value for s in fams["dnscheck_findings"]}
    assert findings["SPF_M365"] == 2 and findings["MX_M365"] == 1 and findings["LOOKUP_FAILED"] == 1
    assert findings["NS_M365"] == 0  # every known code, so that a fixed problem reads 0, not "no data"
    assert {s.labels["verdict"]: s.value for s in fams["dnscheck_domains"]} == {
        "safe": 1, "warning": 1, "blocked": 1, "unknown": 2}
    assert fams["dnscheck_run_duration_seconds"][0].value == 2.5
    assert fams["dnscheck_last_run_timestamp_seconds"][0].value == 1_700_000_123.0
    assert fams["dnscheck_exit_code"][0].value == 2


def test_prometheus_escapes_label_values() -> None:
    weird = 'we"ird\\name,x="1"} 9'
    text = render("prometheus", [result(None, Verdict.UNKNOWN, input=weird),
                                 result(None, Verdict.UNKNOWN, input="nul\x00cr\rnl\n")])
    fams = _families(text)
    labels = [s.labels["domain"] for s in fams["dnscheck_domain_verdict_code"]]
    assert labels == [weird, "nul\\x00cr\\x0dnl\\x0a"]  # control characters shown as escapes


def test_prometheus_duplicate_lines_give_one_series() -> None:
    fams = _families(render("prometheus", [BLOCKED, BLOCKED, SAFE]))
    series = [s for s in fams["dnscheck_domain_verdict_code"] if s.labels["domain"] == "contoso.com"]
    assert len(series) == 1 and series[0].value == 2


def test_prometheus_without_the_client_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from dnscheck.errors import ConfigError

    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    monkeypatch.setitem(sys.modules, "prometheus_client.core", None)
    f = get_format("prometheus")(io.StringIO(), False)
    with pytest.raises(ConfigError) as e:
        f.begin()
    assert "pip install 'dnscheck[prometheus]'" in e.value.diagnostics()


def test_prometheus_missing_client_is_a_usage_error_before_any_output(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: os.PathLike[str]) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    from dnscheck.cli import main

    target = os.path.join(tmp_path, "x.prom")
    monkeypatch.setattr(sys, "argv", ["dnscheck", "check", "contoso.com", "--zone-file",
                                      os.path.join(FIXTURES, "m365.zone"), "-f", "prometheus", "-o", target])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 64
    assert os.listdir(tmp_path) == []


# --- json stays what it was ---------------------------------------------------------------------------------

def test_json_and_jsonl_carry_every_result() -> None:
    doc = json.loads(render("json", ALL))
    assert [r["input"] for r in doc["results"]] == [r.input for r in ALL]
    lines = [json.loads(x) for x in render("jsonl", ALL).splitlines()]
    assert len(lines) == len(ALL)


def test_table_wraps_at_the_terminal_width_on_word_boundaries_and_leads_with_blocking_findings() -> None:
    import io

    from dnscheck.codes import finding as make
    from dnscheck.formats.base import Summary
    from dnscheck.formats.table import TableFormat

    mx = Record("contoso.com", "MX", "0 contoso-com.mail.protection.outlook.com")
    fs = (
        make("SPF_M365", variant="spf", record=Record("contoso.com", "TXT", "v=spf1"), service="Exchange Online"),
        make("MX_M365", variant="mx", record=mx, value=mx.value, service="Exchange Online", cloud="worldwide"),
        *(make("LOOKUP_FAILED", variant="name", record=Record(f"n{i}.contoso.com", "CNAME", ""),
               name=f"n{i}.contoso.com", reason="Network is unreachable") for i in range(13)),
    )
    r = Result("contoso.com", "contoso.com", "contoso.com", Verdict.BLOCKED, "worldwide", fs)
    out = io.StringIO()
    t = TableFormat(out, False, 80)
    t.begin()
    t.result(r)
    s = Summary()
    s.add(r)
    t.end(s)
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80, text
    flat = " ".join(text.split())
    assert f"MX {mx.value} is Exchange Online (worldwide)." in flat, text  # wrapped between words only
    row = next(line for line in text.splitlines() if line.startswith("contoso.com "))
    assert row.split()[3].rstrip(",") == "MX_M365", row
    assert text.count("Network is") <= 3 and "... and 10 more LOOKUP_FAILED" in text, text
    detail = text.split("contoso.com: blocked", 1)[1]
    assert detail.index("MX_M365") < detail.index("SPF_M365") < detail.index("LOOKUP_FAILED"), text
