"""Issue 16, the edge classes: hostile files, secrets in URLs, escape sequences in error messages, output files,
input files from real tools, options. End-to-end counterparts through the installed command are in
tests/e2e/test_hostile_e2e.py.
"""

from __future__ import annotations

import ast
import errno
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dnscheck import output
from dnscheck.cli import _stream_lines, cli
from dnscheck.collect.zonefile import MAX_GENERATED, load_zone
from dnscheck.errors import EXIT_CANTCREAT, EXIT_IOERR, CantCreateError, ConfigError, WriteError, ZoneFileError
from dnscheck.files import MAX_JSON_DEPTH, json_depth
from dnscheck.normalise import normalise
from dnscheck.output import atomic_open
from dnscheck.runbook import state as runbook_state
from dnscheck.text import clean
from dnscheck.watch import WatchState

ROOT = Path(__file__).resolve().parents[2]
ZONE = str(ROOT / "fixtures" / "m365.zone")
HEAD = "$ORIGIN contoso.com.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n"


def _zone(tmp_path: Path, body: str, name: str = "z.zone") -> str:
    path = tmp_path / name
    path.write_text(HEAD + body)
    return str(path)


# ------------------------------------------------------------------------------------ 4. secrets in URLs

SECRET = "S3cr3tPw"
URL_FORMS = [
    f"https://admin:{SECRET}@victim.com/",
    f"https://admin:{SECRET}/x@victim.com/",  # a / in the password: urllib takes it for host:port
    f"https://admin:{SECRET}#x@victim.com/",  # a # starts the fragment
    f"https://admin:{SECRET}?x@victim.com/",  # a ? starts the query
    f"https://admin:{SECRET}@x@victim.com/",  # a second @
    f"https://{SECRET}@victim.com/",  # a token as the user name
    f"HTTPS://admin:{SECRET}@victim.com:443/owa?u=bob@victim.com",
    f"https://admin:{SECRET}%40x@victim.com/",
    f"ftp://admin:{SECRET}@victim.com",
    f"//admin:{SECRET}@victim.com/",
    f"admin:{SECRET}@victim.com",
    f"https://admin:{SECRET}/a#b?c@d@victim.com/#frag",
    f"https://admin:{SECRET}@[::1]/",
]


@pytest.mark.parametrize("raw", URL_FORMS)
def test_no_url_form_echoes_the_password(raw: str) -> None:
    result = normalise(raw)
    assert SECRET not in repr(result), result


@pytest.mark.parametrize(
    "raw", ["https://contoso.com/owa?u=bob@contoso.com", "https://contoso.com:443/x?u=a@b.com", "mailto:bob@contoso.com"]
)
def test_urls_without_a_password_are_echoed_as_given(raw: str) -> None:
    assert normalise(raw).input == raw


def test_no_url_form_reaches_the_report(tmp_path: Path) -> None:
    for fmt in ("json", "table", "csv", "nagios"):
        args = ["check", *URL_FORMS, "--resolver", "127.0.0.1:9", "--timeout", "1", "--mode", "resolver"]
        r = CliRunner().invoke(cli, [*args, "-f", fmt])
        assert r.exit_code == 3, r.output
    assert SECRET not in r.stdout and SECRET not in r.stderr


# ------------------------------------------------------------------------------ 4. terminals: one escaper


def test_one_escaping_module_below_core_and_formats() -> None:
    """dnscheck/text.py is the one escaper; nothing outside the formats imports the formats to get it."""
    assert not (ROOT / "dnscheck" / "formats" / "text.py").exists()
    for path in (ROOT / "dnscheck").rglob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "dnscheck.formats.text" not in imported, path
        if path.parent.name != "formats" and re.search(r"(?<![\w.])clean\(", path.read_text()):
            assert "dnscheck.text" in imported or path.name == "text.py", path
    text = ast.parse((ROOT / "dnscheck" / "text.py").read_text())
    assert not [n for n in ast.walk(text) if isinstance(n, ast.ImportFrom) and "dnscheck" in (n.module or "")]


def test_clean_keeps_only_our_own_newlines() -> None:
    assert clean("a\nb\x1b[2J", keep_newlines=True) == "a\nb\\x1b[2J"
    assert clean("a\nb") == "a\\x0ab"


def test_a_zone_file_error_never_reaches_the_terminal_raw(tmp_path: Path) -> None:
    path = _zone(tmp_path, "www 300 IN \x1b]0;pwned\x07 x\n")
    r = CliRunner().invoke(cli, ["check", "contoso.com", "--zone-file", path])
    assert r.exit_code == 64, r.output
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr
    assert "\\x1b]0" in r.stderr


def test_a_file_name_in_a_usage_error_is_escaped(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["check", "contoso.com", "--zone-file", str(tmp_path / "x\x1b[31m.zone")])
    assert r.exit_code == 64 and "\x1b" not in r.stderr and "\\x1b[31m" in r.stderr, r.stderr


# ---------------------------------------------------------------------- 3. FIFOs and devices, $GENERATE


def _unblock_later(fifo: Path, after: float = 5.0) -> None:
    """If the code under test blocks on the FIFO, open it for writing so that it goes on (and the test fails
    on its assertion instead of hanging)."""

    def go() -> None:
        time.sleep(after)
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return
        os.close(fd)

    threading.Thread(target=go, daemon=True).start()


def test_a_fifo_zone_file_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "z.zone"
    os.mkfifo(fifo)
    _unblock_later(fifo)
    start = time.monotonic()
    with pytest.raises(ZoneFileError, match="a pipe .FIFO., not a regular file"):
        load_zone(str(fifo), "contoso.com")
    assert time.monotonic() - start < 2


@pytest.mark.parametrize("which", ["watch", "watch-state", "runbook"])
def test_a_fifo_state_file_is_refused_at_once(tmp_path: Path, which: str) -> None:
    fifo = tmp_path / "state.json"
    os.mkfifo(fifo)
    _unblock_later(fifo)
    start = time.monotonic()
    with pytest.raises((ConfigError, runbook_state.StateError), match="not a regular file"):
        if which == "runbook":
            runbook_state.load(str(fifo))
        else:
            WatchState.load(str(fifo), "--" + ("state" if which == "watch" else "watch-state"))
    assert time.monotonic() - start < 2


@pytest.mark.parametrize(
    "generate",
    [
        "$GENERATE ( 1-{n} host$ A 192.0.2.1 )",
        "$GENERATE (\n  1-{n} host$ A 192.0.2.1 )",
        "$GENERATE ( ; a comment\n 1-{n} host$ A 192.0.2.1 )",
        "$generate\t1-{n}/1 host$ A 192.0.2.1",
        "$GENERATE(1-{n} host$ A 192.0.2.1)",
    ],
)
def test_the_generate_cap_holds_for_every_syntax_form(tmp_path: Path, generate: str) -> None:
    path = _zone(tmp_path, generate.format(n=MAX_GENERATED + 1) + "\n")
    start = time.monotonic()
    with pytest.raises(ZoneFileError, match=r"\$GENERATE would create more than"):
        load_zone(path, "contoso.com")
    assert time.monotonic() - start < 2


def test_generate_in_parentheses_within_the_cap_still_works(tmp_path: Path) -> None:
    z = load_zone(_zone(tmp_path, "$GENERATE ( 1-5 host$ A 192.0.2.1 )\n"), "contoso.com")
    assert z.get_node("host5.contoso.com.") is not None


# ------------------------------------------------------------------------------------ 5. hostile states

WATCH = "dnscheck-watch/1"
GOOD_CHANGE = {"first_seen": "2026-01-01T00:00:00Z", "server": "resolver", "name": "contoso.com", "type": "MX"}


def _watch_doc(change: dict[str, Any] | None = None, **domain: Any) -> dict[str, Any]:
    d = {"verdict": "blocked", "changes": [{**GOOD_CHANGE, **(change or {})}], **domain}
    return {"schema": WATCH, "domains": {"contoso.com": d}}


HOSTILE_WATCH = [
    (_watch_doc({"old_ttl": 1e30}), "changes[0].old_ttl"),
    (_watch_doc({"old_ttl": 10**30}), "changes[0].old_ttl"),
    (_watch_doc({"old_ttl": -1}), "changes[0].old_ttl"),
    (_watch_doc({"old_ttl": "300"}), "changes[0].old_ttl"),
    (_watch_doc({"first_seen": "9999-12-31T23:59:59Z"}), "changes[0].first_seen"),
    (_watch_doc({"first_seen": "yesterday"}), "changes[0].first_seen"),
    (_watch_doc({"first_seen": 1700000000}), "changes[0].first_seen"),
    (_watch_doc({"first_seen": "2026-01-01T00:00:00"}), "changes[0].first_seen"),  # no zone
    (_watch_doc(verdict="fine"), "verdict"),
    (_watch_doc(checked_at=[]), "checked_at"),
    (_watch_doc(rrsets="x"), "rrsets"),
    (_watch_doc(rrsets={"a|b|MX": {"values": "mx1", "ttl": 300}}), "values"),
    (_watch_doc(rrsets={"a|b|MX": {"values": [], "ttl": 1.5}}), "ttl"),
    (_watch_doc(changes={"x": 1}), "changes"),
    (_watch_doc(changes=["x"]), "changes[0]"),
    ({"schema": WATCH, "domains": "contoso.com"}, "domains"),
    ({"schema": WATCH, "domains": {"contoso.com": "blocked"}}, "contoso.com"),
    ({"schema": WATCH}, "domains"),
    ([WATCH], "schema"),
    ("just a string", "schema"),
]


@pytest.mark.parametrize(("doc", "field"), HOSTILE_WATCH)
def test_a_hostile_watch_state_is_a_usage_error_naming_the_file_and_field(
    tmp_path: Path, doc: Any, field: str
) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps(doc))
    before = path.read_bytes()
    with pytest.raises(ConfigError) as e:
        WatchState.load(str(path))
    assert str(path) in e.value.message and field in e.value.message, e.value.message
    assert e.value.exit_code == 64
    assert path.read_bytes() == before


def test_a_sane_watch_state_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps(_watch_doc({"old_ttl": 300, "old": ["a"], "new": []})))
    state = WatchState.load(str(path))
    assert state.changed_at("contoso.com") is not None


RUNBOOK = "dnscheck-runbook/1"
HOSTILE_RUNBOOK = [
    ({"domains": "contoso.com"}, "domains"),
    ({"domains": [1]}, "domains[0]"),
    ({"facts": {"purchased": "9999-12-31"}}, "facts.purchased"),
    ({"facts": {"purchased": 20250101}}, "facts.purchased"),
    ({"facts": {"licenses": 1e30}}, "facts.licenses"),
    ({"facts": {"licenses": 10**30}}, "facts.licenses"),
    ({"acks": {"save-data": "yes"}}, "acks.save-data"),
    ({"acks": {"save-data": {"domains": []}}}, "acks.save-data.on"),
    ({"last_check": {"contoso.com": "safe"}}, "last_check.contoso.com"),
    ({"last_check": {"contoso.com": {"checked_at": "garbage"}}}, "checked_at"),
    ({"last_check": {"contoso.com": {"verdict": {"x": 1}}}}, "verdict"),
    ({"last_check": {"contoso.com": {"result": []}}}, "result"),
]


@pytest.mark.parametrize(("doc", "field"), HOSTILE_RUNBOOK)
def test_a_hostile_runbook_state_is_a_usage_error_naming_the_file_and_field(
    tmp_path: Path, doc: dict[str, Any], field: str
) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema": RUNBOOK, **doc}))
    with pytest.raises(runbook_state.StateError) as e:
        runbook_state.load(str(path))
    assert str(path) in e.value.message and field in e.value.message, e.value.message
    assert e.value.exit_code == 64


@pytest.mark.parametrize("which", ["watch", "runbook"])
def test_deep_nesting_and_huge_files_are_refused_before_parsing(tmp_path: Path, which: str) -> None:
    load = WatchState.load if which == "watch" else runbook_state.load
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises((ConfigError, runbook_state.StateError), match="nested more than"):
        load(str(deep))
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.truncate(65 << 20)
    with pytest.raises((ConfigError, runbook_state.StateError), match="larger than"):
        load(str(huge))


def test_json_depth_ignores_brackets_in_strings() -> None:
    assert json_depth(b'{"a": ["[[[[", {"b": "}}]]\\"[["}]}') == 3
    assert json_depth(b"[" * (MAX_JSON_DEPTH + 1)) == MAX_JSON_DEPTH + 1


def test_a_hostile_state_through_the_cli_is_exit_64(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps(_watch_doc({"old_ttl": 1e30, "first_seen": "9999-12-31T00:00:00Z"})))
    r = CliRunner().invoke(cli, ["check", "contoso.com", "--zone-file", ZONE, "--watch-state", str(path)])
    assert r.exit_code == 64 and str(path) in r.stderr, r.output


# ------------------------------------------------------------------------------------- 6. output files


# Devices are only reached through a symlink in tmp_path: these tests run as root, and a writer that replaced its
# target (today's code before issue 16) must replace the link, never the machine's /dev/null or /dev/full.


def test_a_symlink_to_a_device_is_written_through_and_stays(tmp_path: Path) -> None:
    link = tmp_path / "out"
    link.symlink_to("/dev/null")
    with atomic_open(str(link)) as f:
        f.write("report")
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    with atomic_open(str(fifo)) as f:
        f.write("line\n")
    reader.join(5)
    assert got == [b"line\n"] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_directory_is_refused_before_the_run(tmp_path: Path) -> None:
    with pytest.raises(CantCreateError, match="a directory"):
        with atomic_open(str(tmp_path)):
            raise AssertionError("the body must not run")
    r = CliRunner().invoke(cli, ["check", "contoso.com", "--zone-file", ZONE, "-o", str(tmp_path)])
    assert r.exit_code == EXIT_CANTCREAT == 73, r.output
    assert "a directory" in r.stderr and not r.stdout


def test_a_full_device_is_exit_74(tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.symlink_to("/dev/full")
    with pytest.raises(WriteError, match="No space left"):
        with atomic_open(str(full)) as f:
            f.write("x" * 100_000)
    r = CliRunner().invoke(cli, ["check", "contoso.com", "--zone-file", ZONE, "-o", str(full)])
    assert r.exit_code == EXIT_IOERR == 74, r.output
    assert "internal error" not in r.stderr


@pytest.mark.parametrize(
    ("where", "code", "exit_code"),
    [("fsync", errno.ENOSPC, 74), ("replace", errno.EIO, 74), ("mkstemp", errno.EACCES, 73), ("mkstemp", errno.EROFS, 73)],
)
def test_file_system_errors_are_clear_and_leave_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, code: int, exit_code: int
) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")

    def fail(*a: Any, **k: Any) -> Any:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr({"fsync": output.os, "replace": output.os, "mkstemp": output.tempfile}[where], where, fail)
    with pytest.raises((CantCreateError, WriteError)) as e:
        with atomic_open(str(target)) as f:
            f.write("new")
    assert e.value.exit_code == exit_code and os.strerror(code) in e.value.message
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


_SLOW_WRITER = """
import sys, time
from dnscheck.output import atomic_open
with atomic_open(sys.argv[1]) as f:
    f.write("half")
    print("ready", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_leaves_no_temporary_file(tmp_path: Path, sig: int) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    p = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline() == "ready\n"
    assert len(list(tmp_path.iterdir())) == 2  # the temporary file is there
    p.send_signal(sig)
    p.wait(10)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["report.json"]
    assert target.read_text() == "old"


def test_the_runbook_and_watch_states_go_through_the_one_writer() -> None:
    sources = "".join(p.read_text() for p in (ROOT / "dnscheck").rglob("*.py"))
    assert "mkstemp" in (ROOT / "dnscheck" / "output.py").read_text()
    assert sources.count("mkstemp(") == 1


# --------------------------------------------------------------------------------------- 7. input files


def _lines(data: bytes) -> list[str]:
    return list(_stream_lines(io.BytesIO(data)))


def test_a_byte_order_mark_is_dropped() -> None:
    assert _lines(b"\xef\xbb\xbfcontoso.com\r\nfabrikam.com\r\n") == ["contoso.com", "fabrikam.com"]


def test_cr_lf_and_crlf_all_end_a_line() -> None:
    names = [f"d{i}.com" for i in range(20)]
    assert _lines("\r".join(names).encode()) == names
    assert _lines("\n".join(names).encode()) == names
    assert _lines("\r\n".join(names).encode()) == names


def test_mixed_line_ends_are_reported_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert _lines(b"a.com\rb.com\nc.com\r\nd.com\re.com\n") == ["a.com", "b.com", "c.com", "d.com", "e.com"]
    err = capsys.readouterr().err
    assert err.count("mixes line ends") == 1 and "CR, CRLF, LF" in err
    _lines(b"a.com\r\nb.com\r\n")
    assert "mixes" not in capsys.readouterr().err


def test_undecodable_bytes_are_still_kept() -> None:
    assert _lines(b"\xef\xbb\xbfc\xff.com\r") == ["c\udcff.com"]


def test_the_table_never_reads_an_input_as_a_number() -> None:
    r = CliRunner().invoke(cli, ["check", "1e5", "007", "0x10", "--resolver", "127.0.0.1:9", "--color", "never"])
    table = r.stdout.split("\n\n")[0]
    assert "1e5" in table and "007" in table and "0x10" in table, r.stdout
    assert "100000" not in table


# -------------------------------------------------------------------------------------------- 8. options


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "0", "-1", "1e400"])
def test_a_timeout_must_be_a_finite_positive_number(value: str) -> None:
    r = CliRunner().invoke(cli, ["check", "contoso.com", "--zone-file", ZONE, "--timeout", value])
    assert r.exit_code == 64 and "--timeout" in r.stderr, r.output


@pytest.mark.parametrize("value", ["9999-12-31T23:59Z", "0001-01-01T00:00Z", "1e30", "99999999999999"])
def test_an_out_of_range_change_time_is_a_usage_error(value: str) -> None:
    r = CliRunner().invoke(cli, ["check", "contoso.com", "--zone-file", ZONE, "--changed-at", value])
    assert r.exit_code == 64 and "--changed-at" in r.stderr, r.output


@pytest.mark.parametrize("option", ["--purchased", "--expires", "--cancel-date"])
def test_an_out_of_range_runbook_date_is_a_usage_error(option: str) -> None:
    args = ["runbook", "contoso.com", "--zone-file", ZONE, "--licenses", "1", "--purchased", "2025-01-01"]
    r = CliRunner().invoke(cli, [*args, option, "9999-12-31"])
    assert r.exit_code == 64 and option in r.stderr, r.output


def test_exit_codes_73_and_74_are_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "| 73 |" in readme and "| 74 |" in readme
    r = CliRunner().invoke(cli, ["check", "--help"])
    assert "  73  " in r.stdout and "  74  " in r.stdout
