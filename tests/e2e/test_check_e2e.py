"""`dnscheck check` end to end: the installed command against real Knot/Unbound servers (tests/lab.py).

Every fixture domain of fixtures/world/ (see the README.md there) is checked with the default mode and
`-f json`; the verdict, the exit code, the expected finding codes and the cloud are asserted, and every JSON
output is validated against the published schema.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from tests.conftest import Run
from tests.schema import validate_output

EXIT = {"safe": 0, "warning": 1, "blocked": 2, "unknown": 3}
M365_CODES = {"MX_M365", "MX_CNAME_M365", "NS_M365", "SPF_M365", "AUTODISCOVER_M365", "DKIM_M365",
              "VERIFY_TXT_M365", "VERIFY_MX_M365", "SIP_M365", "MDM_M365", "MSOID_M365"}
FULL_SET = {"MX_M365", "SPF_M365", "VERIFY_TXT_M365", "AUTODISCOVER_M365", "DKIM_M365", "SIP_M365",
            "MDM_M365", "MSOID_M365"}


@dataclass(frozen=True)
class Case:
    input: str
    verdict: str
    codes: frozenset[str]  # must all be present (other findings may come with them)
    cloud: str | None
    domain: str | None = None  # the A-label checked, when it differs from the input
    absent: frozenset[str] = field(default_factory=frozenset)  # must not be present

    @property
    def id(self) -> str:
        return self.input


def case(input: str, verdict: str, codes: set[str] = frozenset(), cloud: str | None = None,
         domain: str | None = None, absent: set[str] = frozenset()) -> Case:
    return Case(input, verdict, frozenset(codes), cloud, domain, frozenset(absent))


CASES = [
    # Microsoft 365, each cloud and MX form
    case("m365-legacy.com", "blocked", FULL_SET, "worldwide", absent={"NS_M365"}),
    case("contoso.com", "blocked", {"MX_M365", "DKIM_M365", "SPF_M365", "AUTODISCOVER_M365"}, "worldwide"),
    case("gov-agency.us", "blocked", {"MX_M365", "SPF_M365", "AUTODISCOVER_M365", "SIP_M365"}, "usgov"),
    case("china-corp.cn", "blocked", {"MX_M365", "NS_M365", "SPF_M365", "AUTODISCOVER_M365", "SIP_M365",
                                       "MSOID_M365"}, "china"),
    case("legacy-germany.de", "blocked", {"MX_M365", "SPF_M365", "AUTODISCOVER_M365"}, "germany"),
    case("old-eop.net", "blocked", {"MX_M365"}, "worldwide"),
    case("m365-dns-hosted.com", "blocked", {"NS_M365"}, "worldwide", absent={"MX_M365"}),
    case("mx-cname.net", "blocked", {"MX_CNAME_M365"}, "worldwide"),
    case("bücher-haus.de", "blocked", {"MX_M365"}, "worldwide", domain="xn--bcher-haus-9db.de"),
    # Leftovers and mail routing without Microsoft
    case("leftovers.org", "warning", {"SPF_M365", "AUTODISCOVER_M365"}, "worldwide", absent={"MX_M365"}),
    case("big-txt.com", "warning", {"SPF_M365"}, "worldwide"),  # only seen if the TCP retry worked
    case("gateway.com", "warning", {"MX_GATEWAY"}, None),
    case("verify-only.com", "warning", {"VERIFY_TXT_M365", "VERIFY_MX_M365"}, None, absent={"MX_M365"}),
    case("no-mail.org", "warning", {"MX_NONE"}, None),
    case("implicit-mx.org", "warning", {"MX_NONE_IMPLICIT"}, None),
    # Mail paths that lead nowhere (issue 9)
    case("dangling-mx.com", "blocked", {"MX_TARGET_MISSING"}, None),
    case("half-dangling.com", "warning", {"MX_TARGET_MISSING"}, None),
    case("trailing-dot.com", "blocked", {"MX_RELATIVE_TYPO", "CNAME_RELATIVE_TYPO"}, None,
         absent={"MX_M365", "DKIM_M365"}),
    # Safe
    case("clean.org", "safe", set(), None, absent=M365_CODES),
    case("null-mx.org", "safe", {"MX_NULL"}, None, absent={"MX_NONE"}),
    case("eu.subsidiary.com", "safe", {"SUBDOMAIN_INPUT"}, None),
    case("lookalike.com", "safe", set(), None, absent=M365_CODES | {"MX_GATEWAY"}),
    case("azure-hosted.org", "safe", set(), None, absent={"NS_M365"}),
    # Could not tell
    case("does-not-exist.com", "unknown", {"DOMAIN_NXDOMAIN"}, None),
    case("refused.net", "unknown", {"LOOKUP_FAILED"}, None),  # REFUSED by the only server: SERVFAIL
]


@pytest.fixture(scope="module")
def case_runs(dnscheck) -> dict[str, Run]:
    """Every case's `dnscheck check <input> -f json`, run a few at a time: most of each run is start-up."""
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        runs = list(pool.map(lambda c: dnscheck("check", c.input, "-f", "json"), CASES))
    return {c.input: run for c, run in zip(CASES, runs, strict=True)}


def _check(dnscheck, *args: str):
    run = dnscheck("check", *args)
    assert run.rc in (0, 1, 2, 3), run
    return run


def _codes(result: dict) -> set[str]:
    return {f["code"] for f in result["findings"]}


@pytest.mark.lab
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_fixture_domain(case_runs: dict[str, Run], c: Case) -> None:
    run = case_runs[c.input]
    assert run.rc in (0, 1, 2, 3), run
    [result] = validate_output(run.stdout, "json")
    assert result["input"] == c.input
    assert result["domain"] == (c.domain or c.input)
    assert result["verdict"] == c.verdict, run
    assert run.rc == EXIT[c.verdict], run
    codes = _codes(result)
    assert c.codes <= codes, f"missing {sorted(c.codes - codes)}\n{run}"
    assert not (c.absent & codes), f"unexpected {sorted(c.absent & codes)}\n{run}"
    assert result["cloud"] == c.cloud, run
    if c.verdict == "safe":
        assert not [f for f in result["findings"] if f["severity"] != "info"], run
        assert not [r for r in result["records"] if r["m365"]], run


@pytest.mark.lab
def test_full_m365_record_set_is_each_recognised(dnscheck) -> None:
    """Every M365 record of the worldwide domain is reported and marked in `records`."""
    run = _check(dnscheck, "m365-legacy.com", "-f", "json")
    [result] = validate_output(run.stdout, "json")
    by_code: dict[str, list[dict]] = {}
    for f in result["findings"]:
        by_code.setdefault(f["code"], []).append(f)
    assert len(by_code["DKIM_M365"]) == 2  # selector1 and selector2
    assert len(by_code["SIP_M365"]) == 4  # two SRV, sip and lyncdiscover
    assert len(by_code["MDM_M365"]) == 2  # enterpriseregistration and enterpriseenrollment
    mx = by_code["MX_M365"][0]
    assert mx["severity"] == "blocked"
    assert mx["record"]["type"] == "MX"
    assert "m365-legacy-com.mail.protection.outlook.com" in mx["record"]["value"]
    assert mx["remediation"]
    marked = {(r["name"], r["type"]) for r in result["records"] if r["m365"]}
    assert ("m365-legacy.com", "MX") in marked
    assert ("_sipfederationtls._tcp.m365-legacy.com", "SRV") in marked
    assert ("msoid.m365-legacy.com", "CNAME") in marked


@pytest.mark.lab
def test_ns_at_microsoft_says_an_mx_change_elsewhere_has_no_effect(dnscheck) -> None:
    run = _check(dnscheck, "m365-dns-hosted.com", "-f", "json")
    [result] = validate_output(run.stdout, "json")
    [ns] = [f for f in result["findings"] if f["code"] == "NS_M365"]
    assert "bdm.microsoftonline.com" in ns["message"]
    assert "no effect" in ns["message"]


@pytest.mark.lab
def test_truncated_txt_rrset_arrives_whole(dnscheck) -> None:
    """13 TXT records (~3.3 KB) do not fit the 1232-byte EDNS buffer: the answer only arrives over TCP."""
    run = _check(dnscheck, "big-txt.com", "-f", "json")
    [result] = validate_output(run.stdout, "json")
    txt = [r for r in result["records"] if r["type"] == "TXT" and r["name"] == "big-txt.com"]
    assert len(txt) == 13, run
    assert any(r["m365"] and "spf.protection.outlook.com" in r["value"] for r in txt)


@pytest.mark.lab
def test_nodata_is_not_a_failure(dnscheck) -> None:
    """clean.org answers NODATA for every M365 name: answered, so nothing is LOOKUP_FAILED."""
    run = _check(dnscheck, "clean.org", "-f", "json")
    [result] = validate_output(run.stdout, "json")
    assert "LOOKUP_FAILED" not in _codes(result)
    assert result["verdict"] == "safe"


@pytest.mark.lab
def test_servfail_is_unknown_with_the_reason(dnscheck) -> None:
    run = _check(dnscheck, "refused.net", "-f", "json")
    [result] = validate_output(run.stdout, "json")
    failed = [f for f in result["findings"] if f["code"] == "LOOKUP_FAILED"]
    decisive = [f for f in failed if f["record"] and f["record"]["type"] in ("MX", "NS")]
    assert decisive and all(f["severity"] == "unknown" for f in decisive), run
    assert run.rc == 3


@pytest.mark.lab
def test_blackhole_timeout_is_unknown_within_the_deadline(lab, dnscheck) -> None:
    """A zone whose only server never answers: unknown, and the whole command ends within
    --timeout + 10% + 0.5 s.

    The 0.5 s is the interpreter's start-up and imports. On a busy machine start-up alone can take longer, so
    the allowance is the larger of 0.5 s and the start-up measured just before (a run needing no DNS at all);
    the check's own deadline is held to timeout + 10% regardless. Unbound's cache is flushed first: once it
    has marked the server dead it answers SERVFAIL at once, and the deadline would not be tested. A second
    attempt is allowed if the first is late; a check that does not keep its deadline is late both times."""
    timeout = 2.0
    report = []
    for _ in range(2):
        startup = dnscheck("check", "co.uk", "-f", "json", resolver=False).elapsed
        budget = timeout * 1.1 + max(0.5, startup)
        lab.flush("blackhole.net")
        run = _check(dnscheck, "blackhole.net", "--timeout", str(timeout), "-f", "json")
        [result] = validate_output(run.stdout, "json")
        assert result["verdict"] == "unknown" and run.rc == 3, run
        assert "LOOKUP_FAILED" in _codes(result)
        assert result["elapsed_ms"] <= timeout * 1100, run
        report.append(f"took {run.elapsed:.2f}s, budget {budget:.2f}s (start-up {startup:.2f}s)\n{run}")
        if run.elapsed <= budget:
            break
    assert run.elapsed <= budget, "\n".join(report)


# --- input forms ------------------------------------------------------------------------------------------

@pytest.mark.lab
@pytest.mark.parametrize(("given", "domain", "verdict"), [
    ("Admin@M365-Legacy.com", "m365-legacy.com", "blocked"),
    ("https://Contoso.com/owa/", "contoso.com", "blocked"),
    ("CLEAN.ORG.", "clean.org", "safe"),
    ("Bücher-Haus.de", "xn--bcher-haus-9db.de", "blocked"),
    ("xn--bcher-haus-9db.de", "xn--bcher-haus-9db.de", "blocked"),
])
def test_input_forms(dnscheck, given: str, domain: str, verdict: str) -> None:
    run = _check(dnscheck, given, "-f", "json")
    [result] = validate_output(run.stdout, "json")
    assert result["input"] == given
    assert result["domain"] == domain
    assert result["registered_domain"] == domain
    assert result["verdict"] == verdict and run.rc == EXIT[verdict], run


@pytest.mark.lab
def test_subdomain_reports_its_registered_domain(dnscheck) -> None:
    run = _check(dnscheck, "eu.subsidiary.com", "-f", "json")
    [result] = validate_output(run.stdout, "json")
    assert result["registered_domain"] == "subsidiary.com"


@pytest.mark.lab
def test_invalid_input_is_unknown_without_a_lookup(dnscheck) -> None:
    run = _check(dnscheck, "co.uk", "-f", "json")
    [result] = validate_output(run.stdout, "json")
    assert result["verdict"] == "unknown" and run.rc == 3
    assert _codes(result) == {"INPUT_INVALID"}
    assert result["domain"] is None


# --- formats and the exit code over several domains -------------------------------------------------------

@pytest.mark.lab
def test_json_shape_is_the_same_for_one_and_many(dnscheck) -> None:
    one = _check(dnscheck, "clean.org", "-f", "json")
    many = _check(dnscheck, "clean.org", "leftovers.org", "-f", "json")
    for run in (one, many):
        doc = json.loads(run.stdout)
        assert doc["schema"] == "dnscheck/1"
        validate_output(run.stdout, "json")
    assert [r["domain"] for r in json.loads(many.stdout)["results"]] == ["clean.org", "leftovers.org"]
    assert many.rc == 1


@pytest.mark.lab
@pytest.mark.parametrize(("domains", "rc"), [
    (("clean.org", "leftovers.org", "m365-legacy.com"), 2),
    (("does-not-exist.com", "m365-legacy.com"), 2),  # blocked takes precedence over unknown
    (("leftovers.org", "does-not-exist.com"), 3),  # unknown over warning
    (("clean.org", "null-mx.org"), 0),
])
def test_exit_code_is_the_worst(dnscheck, domains: tuple[str, ...], rc: int) -> None:
    run = _check(dnscheck, *domains, "-f", "json")
    assert len(validate_output(run.stdout, "json")) == len(domains)
    assert run.rc == rc, run


@pytest.mark.lab
def test_jsonl(dnscheck) -> None:
    domains = ["clean.org", "m365-legacy.com", "gateway.com", "does-not-exist.com"]
    run = _check(dnscheck, *domains, "-f", "jsonl")
    results = validate_output(run.stdout, "jsonl")
    assert len(run.stdout.strip().splitlines()) == len(domains)
    assert {r["domain"]: r["verdict"] for r in results} == {
        "clean.org": "safe", "m365-legacy.com": "blocked", "gateway.com": "warning",
        "does-not-exist.com": "unknown"}
    assert run.rc == 2


@pytest.mark.lab
def test_table(dnscheck) -> None:
    run = _check(dnscheck, "leftovers.org", "bücher-haus.de")
    assert run.rc == 2, run
    assert "leftovers.org" in run.stdout
    assert "xn--bcher-haus-9db.de" in run.stdout or "bücher-haus.de" in run.stdout
    assert "\x1b[" not in run.stdout  # no colour when stdout is not a terminal


@pytest.mark.lab
def test_input_file_with_every_case(dnscheck, tmp_path) -> None:
    """All fixture domains in one --input run: one result each, the same verdicts, the worst exit code."""
    inputs = [c.input for c in CASES]
    f = tmp_path / "domains.txt"
    f.write_text("# fixture domains\n" + "\n".join(inputs) + "\n", encoding="utf-8")
    run = dnscheck("check", "--input", str(f), "-f", "json")
    results = validate_output(run.stdout, "json")
    assert [r["input"] for r in results] == inputs
    for c, r in zip(CASES, results, strict=True):
        assert r["verdict"] == c.verdict, (c.input, r["findings"])
    assert run.rc == 2


@pytest.mark.lab
def test_output_file(dnscheck, tmp_path) -> None:
    out = tmp_path / "report.json"
    run = _check(dnscheck, "verify-only.com", "-f", "json", "-o", str(out))
    assert run.rc == 1
    assert run.stdout == ""
    [result] = validate_output(out.read_text(), "json")
    assert result["verdict"] == "warning"


@pytest.mark.parametrize("fmt", ["json", "table", "nagios", "csv", "jsonl"])
def test_an_empty_run_is_unknown_in_every_format(dnscheck, tmp_path, fmt: str) -> None:
    """A comments-only --input checks nothing: exit 3, and a report that says unknown, never safe/0."""
    listing = tmp_path / "domains.txt"
    listing.write_text("# nothing to check yet\n\n   # still nothing\n")
    run = dnscheck("check", "-i", str(listing), "-f", fmt)
    assert run.rc == 3, run
    if fmt == "json":
        doc = json.loads(run.stdout)
        validate_output(run.stdout, "json")
        assert doc["results"] == [] and doc["summary"]["worst"] == "unknown", run
        assert doc["summary"]["exit_code"] == 3, run
    elif fmt == "table":
        assert "Overall: unknown" in run.stdout, run
    elif fmt == "nagios":
        assert run.stdout.startswith("DNSCHECK UNKNOWN"), run


def test_blocking_findings_lead_the_table_and_the_json(dnscheck) -> None:
    run = dnscheck("check", "contoso.com", "-f", "json")
    codes = [f["code"] for f in json.loads(run.stdout)["results"][0]["findings"]]
    severities = [f["severity"] for f in json.loads(run.stdout)["results"][0]["findings"]]
    order = {"blocked": 0, "unknown": 1, "warning": 2, "info": 3}
    assert severities == sorted(severities, key=order.__getitem__), codes
    table = dnscheck("check", "contoso.com", "--color", "never")
    row = next(line for line in table.stdout.splitlines() if line.startswith("contoso.com"))
    first = row.split("blocked", 1)[1].split()[1].rstrip(",")
    assert first in ("MX_M365", "NS_M365", "NS_PARENT_M365"), row


# --------------------------------------------------------------------- zone-file mode: MX hosts outside the zone


def _planned(tmp_path, *mx: str) -> str:
    path = tmp_path / "planned.zone"
    lines = ["$ORIGIN planned-move.com.", "$TTL 300",
             "@ SOA ns1.newdns.net. hostmaster.newdns.net. 1 3600 600 86400 300", "@ NS ns1.newdns.net."]
    path.write_text("\n".join([*lines, *(f"@ MX {m}" for m in mx)]) + "\n")
    return str(path)


@pytest.mark.parametrize(("mx", "verdict", "codes"), [
    (["10 mx1.newmail.net."], "safe", set()),
    (["10 mx9.newmail.net."], "blocked", {("MX_TARGET_MISSING", "blocked")}),
    (["10 mx1.newmail.net.", "20 mx9.newmail.net."], "warning", {("MX_TARGET_MISSING", "warning")}),
    (["0 planned-move-com.mail.protection.outlook.com"], "blocked", {("MX_RELATIVE_TYPO", "blocked")}),
])
def test_zone_file_follows_outside_mx_hosts_through_the_named_resolver(dnscheck, tmp_path, mx, verdict,
                                                                        codes) -> None:
    run = dnscheck("check", "planned-move.com", "--zone-file", _planned(tmp_path, *mx), "-f", "json")
    (result,) = validate_output(run.stdout, "json")
    found = {(f["code"], f["severity"]) for f in result["findings"]} - {("DNSSEC_UNCHECKED", "info")}
    assert (result["verdict"], found) == (verdict, codes), run


@pytest.mark.parametrize(("mx", "verdict", "codes"), [
    (["10 mx1.newmail.net."], "unknown", {("OUT_OF_ZONE", "info")}),  # not followed: never safe
    (["0 planned-move-com.mail.protection.outlook.com"], "blocked", {("MX_RELATIVE_TYPO", "blocked")}),
])
def test_zone_file_offline_never_claims_safe_on_an_mx_it_did_not_follow(dnscheck_offline, tmp_path, mx, verdict,
                                                                         codes) -> None:
    run = dnscheck_offline("check", "planned-move.com", "--zone-file", _planned(tmp_path, *mx), "-f", "json")
    (result,) = validate_output(run.stdout, "json")
    found = {(f["code"], f["severity"]) for f in result["findings"]} - {("DNSSEC_UNCHECKED", "info")}
    assert (result["verdict"], found) == (verdict, codes), run
