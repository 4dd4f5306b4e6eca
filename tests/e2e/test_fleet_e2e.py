"""Batches end to end: the installed `dnscheck` on a list of the lab's domains (tests/lab.py), with
duplicates, invalid lines, a binary line and dead domains. Every line is answered exactly once, in every
format; and `dnscheck watch` follows a zone changed while it runs.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
import select
import stat
import subprocess
import time
from collections import Counter

import pytest

from dnscheck.text import clean
from tests.schema import validate_output

EXIT = {"safe": 0, "warning": 1, "blocked": 2, "unknown": 3}
# input line -> the verdict expected for it (None: the line is not a domain: INPUT_INVALID)
FLEET: list[tuple[str, str | None]] = [
    ("m365-legacy.com", "blocked"),
    ("clean.org", "safe"),
    ("not a domain", None),
    ("contoso.com", "blocked"),
    ("blackhole.net", "unknown"),  # dead: its only server never answers
    ("leftovers.org", "warning"),
    ("CLEAN.ORG", "safe"),  # duplicate of clean.org, another spelling
    ("com", None),  # a public suffix
    ("gateway.com", "warning"),
    ("does-not-exist.com", "unknown"),  # dead: NXDOMAIN
    ("https://contoso.com/owa", "blocked"),  # duplicate, as a URL
    ("refused.net", "unknown"),  # dead: REFUSED by its only server
    ("1.2.3.4", None),
    ("admin@leftovers.org", "warning"),  # duplicate, as an address
    ("null-mx.org", "safe"),
    ("m365-legacy.com", "blocked"),  # exact duplicate
    ("azure-hosted.org", "safe"),
    ("blackhole.net", "unknown"),  # a dead duplicate
]
BINARY_LINE = b"\xff\xfe\x00\x80garbage"
TIMEOUT = "3"


def _input_file(tmp_path: os.PathLike[str]) -> str:
    path = os.path.join(tmp_path, "fleet.txt")
    with open(path, "wb") as f:
        f.write(b"# a fleet of domains\n\n")
        for i, (line, _) in enumerate(FLEET):
            f.write(line.encode() + b"\n")
            if i == 8:
                f.write(BINARY_LINE + b"\n")
                f.write(b"   # an indented comment\n")
    return path


def _expected_inputs() -> Counter[str]:
    c = Counter(line for line, _ in FLEET)
    c["\\xff\\xfe\x00\\x80garbage"] += 1  # undecodable bytes are echoed back escaped
    return c


def _input_order() -> list[str]:
    lines = [line for line, _ in FLEET]
    lines.insert(9, "\\xff\\xfe\x00\\x80garbage")
    return lines


def _assert_every_line_answered_once(results: list[dict]) -> None:
    assert Counter(r["input"] for r in results) == _expected_inputs()
    expected = dict(FLEET)
    by_domain: dict[str, set[str]] = {}
    for r in results:
        want = expected.get(r["input"])
        if want is None:
            assert r["domain"] is None and r["verdict"] == "unknown", r
            assert [f["code"] for f in r["findings"]] == ["INPUT_INVALID"], r
        else:
            assert r["verdict"] == want, r
            by_domain.setdefault(r["domain"], set()).add(r["verdict"])
    assert all(len(v) == 1 for v in by_domain.values())  # duplicates got the same answer
    assert {"clean.org", "contoso.com", "leftovers.org", "m365-legacy.com"} <= set(by_domain)


@pytest.mark.lab
def test_fleet_jsonl_answers_every_line_exactly_once(dnscheck, tmp_path) -> None:
    run = dnscheck("check", "-i", _input_file(tmp_path), "-f", "jsonl", "--timeout", TIMEOUT,
                   "--concurrency", "8", timeout=120)
    assert run.rc == 2, run  # blocked outranks unknown
    results = validate_output(run.stdout, "jsonl")
    _assert_every_line_answered_once(results)
    assert run.stderr == "", run  # no progress line when stderr is not a terminal


@pytest.mark.lab
def test_fleet_json_keeps_input_order(dnscheck, tmp_path) -> None:
    run = dnscheck("check", "-i", _input_file(tmp_path), "-f", "json", "--timeout", TIMEOUT, timeout=120)
    assert run.rc == 2, run
    results = validate_output(run.stdout, "json")
    _assert_every_line_answered_once(results)
    assert [r["input"] for r in results] == _input_order()
    assert json.loads(run.stdout)["summary"]["total"] == len(_input_order())


@pytest.mark.lab
def test_fleet_csv_keeps_input_order_and_parses(dnscheck, tmp_path) -> None:
    out = os.path.join(tmp_path, "fleet.csv")
    run = dnscheck("check", "-i", _input_file(tmp_path), "-f", "csv", "-o", out, "--timeout", TIMEOUT,
                   timeout=120)
    assert run.rc == 2 and run.stdout == "", run
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # One row per finding: a line's rows are consecutive (no two neighbouring lines of FLEET are equal).
    # CSV cells show control characters as escapes (the binary line's NUL).
    assert [k for k, _ in itertools.groupby(r["input"] for r in rows)] == [clean(x) for x in _input_order()]
    for row in rows:
        assert not row["input"].startswith(("=", "+", "-", "@"))
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


@pytest.mark.lab
def test_fleet_from_stdin_binary_bytes_and_all(dnscheck, lab, tmp_path) -> None:
    """`-i -`: the same bytes through a pipe (the conftest runner speaks text; this one sends bytes)."""
    with open(_input_file(tmp_path), "rb") as f:
        data = f.read()
    p = subprocess.run([dnscheck.executable, "check", "--resolver", lab.resolver, "-i", "-", "-f", "jsonl",
                        "--timeout", TIMEOUT], input=data, capture_output=True, timeout=120)
    assert p.returncode == 2, p
    results = validate_output(p.stdout.decode("utf-8"), "jsonl")
    _assert_every_line_answered_once(results)


@pytest.mark.lab
def test_dead_domains_do_not_hold_up_the_batch(dnscheck, lab, tmp_path) -> None:
    """The dead domains wait out --timeout at the same time as each other and the rest."""
    lab.flush("blackhole.net")
    start = time.monotonic()
    run = dnscheck("check", "-i", _input_file(tmp_path), "-f", "jsonl", "--timeout", TIMEOUT, timeout=120)
    elapsed = time.monotonic() - start
    assert run.rc == 2, run
    # Serially this would be at least 2 x 3 s of blackhole alone; concurrently, one --timeout and start-up.
    assert elapsed < float(TIMEOUT) * 1.1 + 4, run


@pytest.mark.lab
def test_fleet_nagios_and_prometheus(dnscheck, tmp_path) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    path = _input_file(tmp_path)
    run = dnscheck("check", "-i", path, "-f", "nagios", "--timeout", TIMEOUT, timeout=120)
    assert run.rc == 2, run
    first = run.stdout.splitlines()[0]
    m = re.match(r"^DNSCHECK (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]+) \| (.+)$", first)
    assert m and m.group(1) == "CRITICAL", run
    perf = {k: v.split(";")[0] for k, v in (item.split("=", 1) for item in m.group(3).split())}
    assert perf["domains"] == str(sum(_expected_inputs().values()))
    assert perf["blocked"] == "4" and perf["safe"] == "4"

    prom = os.path.join(tmp_path, "dnscheck.prom")
    run = dnscheck("check", "-i", path, "-f", "prometheus", "-o", prom, "--timeout", TIMEOUT, timeout=120)
    assert run.rc == 2 and run.stdout == "", run
    with open(prom, encoding="utf-8") as f:
        fams = {fam.name: fam.samples for fam in text_string_to_metric_families(f.read())}
    codes = {s.labels["domain"]: s.value for s in fams["dnscheck_domain_verdict_code"]}
    assert codes["contoso.com"] == 2 and codes["clean.org"] == 0 and codes["leftovers.org"] == 1
    assert codes["blackhole.net"] == 3 and codes["not a domain"] == 3
    assert fams["dnscheck_exit_code"][0].value == 2
    assert fams["dnscheck_last_run_timestamp_seconds"][0].value > 1.7e9
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


# --- watch ---

def _zone(watched: str, serial: int, mx: str, spf: str) -> str:
    return (f"$ORIGIN {watched}.\n$TTL 1\n"
            f"@ SOA ns1.newdns.net. hostmaster.newdns.net. {serial} 3600 600 1209600 1\n"
            "@ NS ns1.newdns.net.\n@ NS ns2.newdns.net.\n"
            f"@ MX {mx}\n@ TXT \"{spf}\"\n")


def _readline(proc: subprocess.Popen[str], deadline: float) -> str:
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            return proc.stdout.readline()
    raise AssertionError("watch printed nothing in time")


@pytest.mark.lab
@pytest.mark.parametrize("mode", ["auto", "authoritative"])
def test_watch_follows_a_cutover_until_safe(dnscheck, lab, tmp_path, mode) -> None:
    # --mode authoritative once lost the change: a delegation finding without a record read as "check crashed".
    WATCHED = f"fleet-watch-{mode}.com"
    old_mx = f"0 {WATCHED.replace('.', '-')}.mail.protection.outlook.com."
    lab.set_zone("newdns", WATCHED, _zone(WATCHED, 1, old_mx, "v=spf1 include:spf.protection.outlook.com -all"))
    state = os.path.join(tmp_path, "cutover.json")
    argv = [dnscheck.executable, "watch", "--resolver", lab.resolver, WATCHED, "--interval", "1s",
            "--max-wait", "2m", "--timeout", "5", "--state", state, "--mode", mode]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = _readline(proc, time.monotonic() + 30)
        assert first.split(" ", 1)[1].startswith(f"{WATCHED}: blocked (MX_M365"), first
        new = _zone(WATCHED, 2, "10 mx1.newmail.net.", "v=spf1 include:_spf.newmail.net -all")
        lab.set_zone("newdns", WATCHED, new)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = [first.rstrip("\n"), *out.splitlines()]
    text = "\n".join(lines)
    assert proc.returncode == 0, f"{text}\n{err}"
    assert re.search(rf"{re.escape(WATCHED)}: blocked -> safe", text), text
    # Which record changed, and where: the resolver, and each authoritative server of the new host.
    changed = rf"MX {re.escape(WATCHED)} on resolver .*: {re.escape(old_mx[:-1])} -> 10 mx1.newmail.net"
    assert re.search(changed, text), text
    assert re.search(r"MX \S+ on ns1.newdns.net \(127.0.1.1\)", text), text
    assert "reached safe or better" in lines[-1]
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    with open(state, encoding="utf-8") as f:
        doc = json.load(f)
    changes = doc["domains"][WATCHED]["changes"]
    mx = [c for c in changes if c["type"] == "MX" and c["server"].startswith("resolver")]
    assert mx and mx[0]["old"] == [old_mx[:-1]] and mx[0]["new"] == ["10 mx1.newmail.net"]
    assert mx[0]["first_seen"].endswith("Z") and mx[0]["old_last_seen"] <= mx[0]["first_seen"]
    lab.remove_zone("newdns", WATCHED)
