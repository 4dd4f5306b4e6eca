"""Issue 16, the edge classes, through the INSTALLED command: hostile files, secrets, terminals, output files,
signals, input files from real tools, options. (Unit tests of the same classes: tests/unit/test_hostile_files.py.)

Every device is reached through a symlink in tmp_path: the suite runs as root, and a writer that replaced its
target must not replace the machine's /dev/null.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.schema import validate_output

SECRET = "S3cr3tPw"
HEAD = "$ORIGIN contoso.com.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n"


def _zone(tmp_path: Path, body: str) -> str:
    path = tmp_path / "z.zone"
    # the mail host inside the zone: offline, an MX host outside the file is never followed (never safe)
    path.write_text(HEAD + "@ MX 10 mail\nmail A 192.0.2.25\n" + body)
    return str(path)


def test_a_fifo_zone_file_is_a_usage_error_not_a_hang(dnscheck_offline, tmp_path: Path) -> None:
    fifo = tmp_path / "z.zone"
    os.mkfifo(fifo)
    run = dnscheck_offline("check", "contoso.com", "--zone-file", str(fifo), timeout=20)
    assert run.rc == 64 and "not a regular file" in run.stderr, run
    assert run.elapsed < 5


def test_a_fifo_state_file_is_a_usage_error_not_a_hang(dnscheck_offline, tmp_path: Path) -> None:
    fifo = tmp_path / "state.json"
    os.mkfifo(fifo)
    zone = _zone(tmp_path, "")
    for args in (
        ("check", "contoso.com", "--zone-file", zone, "--watch-state", str(fifo)),
        ("runbook", "contoso.com", "--zone-file", zone, "--state", str(fifo), "--licenses", "1",
         "--purchased", "2025-01-01"),
    ):
        run = dnscheck_offline(*args, timeout=20)
        assert run.rc == 64 and "not a regular file" in run.stderr, run


def test_generate_in_parentheses_is_capped(dnscheck_offline, tmp_path: Path) -> None:
    zone = _zone(tmp_path, "$GENERATE ( 1-10000000 host$ A 192.0.2.1 )\n")
    run = dnscheck_offline("check", "contoso.com", "--zone-file", zone, timeout=30)
    assert run.rc == 64 and "$GENERATE would create more than" in run.stderr, run
    assert run.elapsed < 5


def test_an_escape_sequence_in_a_zone_file_error_is_shown_escaped(dnscheck_offline, tmp_path: Path) -> None:
    zone = _zone(tmp_path, "www 300 IN \x1b]0;pwned\x07 x\n")
    run = dnscheck_offline("check", "contoso.com", "--zone-file", zone)
    assert run.rc == 64, run
    assert "\x1b" not in run.stderr and "\x07" not in run.stderr and "\\x1b]0" in run.stderr


@pytest.mark.lab
def test_no_url_form_echoes_the_password(dnscheck) -> None:
    forms = [f"https://admin:{SECRET}/x@clean.org/", f"https://admin:{SECRET}#x@clean.org/",
             f"https://admin:{SECRET}?x@clean.org/", f"https://admin:{SECRET}@x@clean.org/",
             f"https://admin:{SECRET}@clean.org/", f"admin:{SECRET}@clean.org"]
    for fmt in ("json", "table", "csv"):
        run = dnscheck("check", *forms, "-f", fmt, "--mode", "resolver")
        assert run.rc in (0, 3), run
        assert SECRET not in run.stdout and SECRET not in run.stderr, run
    run = dnscheck("check", f"https://admin:{SECRET}@x@clean.org/", "-f", "json", "--mode", "resolver")
    [result] = validate_output(run.stdout, "json")
    assert result["domain"] == "clean.org" and result["input"] == "https://***@clean.org/"


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"contoso.com": {"changes": [{"first_seen": "9999-12-31T23:59:59Z", "old_ttl": 300}]}}, "first_seen"),
        ({"contoso.com": {"changes": [{"first_seen": "2026-01-01T00:00:00Z", "old_ttl": 1e30}]}}, "old_ttl"),
        ({"contoso.com": {"changes": [{"first_seen": "garbage"}]}}, "first_seen"),
        ({"contoso.com": "blocked"}, "contoso.com"),
    ],
)
def test_a_hostile_watch_state_is_exit_64_naming_the_file(dnscheck_offline, tmp_path: Path, doc, field) -> None:
    state = tmp_path / "w.json"
    state.write_text(json.dumps({"schema": "dnscheck-watch/1", "domains": doc}))
    run = dnscheck_offline("check", "contoso.com", "--zone-file", _zone(tmp_path, ""), "--watch-state", str(state))
    assert run.rc == 64 and str(state) in run.stderr and field in run.stderr, run
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr


@pytest.mark.parametrize("command", ["runbook", "watch"])
def test_a_deeply_nested_state_is_exit_64(dnscheck_offline, tmp_path: Path, command: str) -> None:
    state = tmp_path / "s.json"
    state.write_text("[" * 100_000)
    args = ["--zone-file", _zone(tmp_path, ""), "--licenses", "1", "--purchased", "2025-01-01"]
    if command == "watch":
        args = ["--resolver", "127.0.0.1:9", "--max-wait", "0"]
    run = dnscheck_offline(command, "contoso.com", "--state", str(state), *args)
    assert run.rc == 64 and "nested more than" in run.stderr, run
    assert state.read_text() == "[" * 100_000


# ------------------------------------------------------------------------------------------ output files


def test_output_to_a_fifo_is_written_through(dnscheck_offline, tmp_path: Path) -> None:
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    run = dnscheck_offline("check", "contoso.com", "--zone-file", _zone(tmp_path, ""), "-f", "jsonl",
                           "-o", str(fifo), timeout=20)
    reader.join(10)
    assert run.rc == 0, run
    assert stat_is_fifo(fifo) and json.loads(got[0])["verdict"] == "safe"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "z.zone"]


def stat_is_fifo(path: Path) -> bool:
    import stat

    return stat.S_ISFIFO(os.lstat(path).st_mode)


def test_output_through_a_symlink_to_a_device_keeps_the_link(dnscheck_offline, tmp_path: Path) -> None:
    link = tmp_path / "out"
    link.symlink_to("/dev/null")
    run = dnscheck_offline("check", "contoso.com", "--zone-file", _zone(tmp_path, ""), "-o", str(link))
    assert run.rc == 0, run
    assert link.is_symlink() and os.readlink(link) == "/dev/null"


def test_output_through_a_symlink_writes_its_target_atomically(dnscheck_offline, tmp_path: Path) -> None:
    real = tmp_path / "latest.json"
    real.write_text("old")
    real.chmod(0o755)
    link = tmp_path / "report.json"
    link.symlink_to(real)
    run = dnscheck_offline("check", "contoso.com", "--zone-file", _zone(tmp_path, ""), "-f", "json",
                           "-o", str(link))
    assert run.rc == 0, run
    assert link.is_symlink()
    validate_output(real.read_text(), "json")
    assert oct(real.stat().st_mode & 0o777) == oct(0o644)  # the read/write bits kept, never execute


def test_output_to_a_directory_is_refused_before_the_run(dnscheck_offline, tmp_path: Path) -> None:
    run = dnscheck_offline("check", "contoso.com", "--zone-file", _zone(tmp_path, ""), "-o", str(tmp_path))
    assert run.rc == 73 and "a directory" in run.stderr and not run.stdout, run
    assert "internal error" not in run.stderr


def test_a_full_disk_is_exit_74(dnscheck_offline, tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.symlink_to("/dev/full")
    run = dnscheck_offline("check", "contoso.com", "--zone-file", _zone(tmp_path, ""), "-o", str(full))
    assert run.rc == 74 and "No space left" in run.stderr, run
    assert full.is_symlink()


@pytest.mark.parametrize(("sig", "rcs"), [(signal.SIGTERM, (-15, 143)), (signal.SIGINT, (130,))])
def test_a_signal_during_a_run_leaves_no_temporary_file(dnscheck_offline, tmp_path: Path, sig, rcs) -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a resolver that never answers
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    out = tmp_path / "report.json"
    out.write_text("old report")
    p = subprocess.Popen([dnscheck_offline.executable, "check", "contoso.com", "--resolver", f"127.0.0.1:{port}",
                          "--timeout", "60", "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list(tmp_path.iterdir())) == 2, "no temporary file appeared"
        p.send_signal(sig)
        p.wait(20)
    finally:
        p.kill()
        silent.close()
    assert p.returncode in rcs, (p.returncode, p.stderr.read() if p.stderr else "")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["report.json"]
    assert out.read_text() == "old report"


# ------------------------------------------------------------------------------------------- input files


@pytest.mark.lab
def test_an_input_file_from_notepad_or_an_old_mac(dnscheck, tmp_path: Path) -> None:
    names = ["clean.org", "azure-hosted.org", "null-mx.org", "contoso.com", "leftovers.org"] * 4
    bom_cr = tmp_path / "mac.txt"
    bom_cr.write_bytes(b"\xef\xbb\xbf" + "\r".join(names).encode() + b"\r")
    run = dnscheck("check", "-i", str(bom_cr), "-f", "jsonl", "--mode", "resolver")
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted(r["input"] for r in results) == sorted(names), run
    assert not [r for r in results if r["verdict"] == "unknown"], run
    assert "mixes" not in run.stderr
    mixed = tmp_path / "mixed.txt"
    mixed.write_bytes(b"clean.org\r\nnull-mx.org\nazure-hosted.org\r")
    run = dnscheck("check", "-i", str(mixed), "-f", "jsonl", "--mode", "resolver")
    assert len(run.stdout.splitlines()) == 3 and run.rc == 0, run
    assert run.stderr.count("mixes line ends") == 1, run


def test_the_table_shows_an_input_as_given(dnscheck_offline) -> None:
    run = dnscheck_offline("check", "1e5", "007", "--resolver", "127.0.0.1:9", "--color", "never")
    table = run.stdout.split("\n\n")[0]
    assert "1e5" in table and "007" in table and "100000" not in table, run


# ----------------------------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    "args",
    [("--timeout", "nan"), ("--timeout", "inf"), ("--timeout", "0"), ("--changed-at", "9999-12-31T23:59Z")],
)
def test_bad_option_values_are_usage_errors(dnscheck_offline, tmp_path: Path, args) -> None:
    run = dnscheck_offline("check", "contoso.com", "--zone-file", _zone(tmp_path, ""), *args)
    assert run.rc == 64 and args[0] in run.stderr, run


LONG_ZONE = "long-names.com"
LONG = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 46, LONG_ZONE])  # 253 octets, the most a name may have


@pytest.fixture(scope="module")
def long_names(lab) -> str:
    """A zone whose wildcard MX makes a 253-octet name under it exist (an NXDOMAIN would skip the probing)."""
    lab.set_zone("newdns", LONG_ZONE, "\n".join([
        f"$ORIGIN {LONG_ZONE}.", "$TTL 300", f"@ SOA ns1.newdns.net. hostmaster.{LONG_ZONE}. 1 3600 600 86400 300",
        "@ NS ns1.newdns.net.", "@ NS ns2.newdns.net.", "@ MX 10 mx1.newmail.net.", "* MX 10 mx1.newmail.net.", ""]),
        delegate_to=["ns1.newdns.net", "ns2.newdns.net"])
    return LONG




@pytest.mark.lab
@pytest.mark.parametrize("mode", ["resolver", "auto"])
def test_a_253_octet_subdomain_works(dnscheck, long_names: str, mode: str) -> None:
    assert len(long_names) == 253
    run = dnscheck("check", long_names, "-f", "json", "--mode", mode)
    [result] = validate_output(run.stdout, "json")
    assert result["domain"] == long_names and "NameTooLong" not in run.stdout, run
    assert result["verdict"] == "safe", run


@pytest.mark.lab
def test_a_253_octet_subdomain_works_in_authoritative_mode(dnscheck, long_names: str) -> None:
    run = dnscheck("check", long_names, "-f", "json", "--mode", "authoritative")
    [result] = validate_output(run.stdout, "json")
    assert result["domain"] == long_names and "NameTooLong" not in run.stdout, run
    assert result["verdict"] == "safe", run
