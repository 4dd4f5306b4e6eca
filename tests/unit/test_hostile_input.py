"""The bad-input corpus, through the command line: every line becomes a result (INPUT_INVALID with a clear
message, or the normalised domain), no traceback, the right exit code, and no other domain lost.

The valid domains are answered by the fake resolver (tests/fakeserver.py) on 127.0.0.1, with --mode resolver,
so nothing leaves the machine; the command runs in-process (click's CliRunner) under the off-site packet
guard.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dnscheck.cli import cli
from dnscheck.formats import FORMATS
from tests.fakeserver import NEW_MAIL, NEW_MAIL_ZONE, Data, FakeServer, no_offsite_packets
from tests.schema import validate_output

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "fixtures" / "bad"

GOOD = ["contoso.com", "fabrikam.com", "northwind.com", "xn--bcher-haus-9db.de"]
M365 = "tailspin.com"

# (line as bytes, expected domain or None for INPUT_INVALID, a word the message must contain)
CORPUS: list[tuple[bytes, str | None, str]] = [
    (b" ", None, ""),  # a blank line is skipped, not a result: see test_blank_and_comment_lines
    (b".", None, "no domain name"),
    (b"..", None, "empty label"),
    (b"*.contoso.com", None, "letters, digits"),
    (b"-contoso.com", None, "letters, digits"),
    (b"a" * 64 + b".com", None, "64 octets"),
    (b".".join([b"a" * 63] * 4) + b".com", None, "limit is 253"),
    (b"conto\x00so.com", None, "control"),
    (b"\x1b[2J\x1b[31mcontoso.com", None, "control"),
    (b"contoso.com\x07", None, "control"),
    ("\u202econtoso.com".encode(), None, "control or invisible"),
    ("cont\u200boso.com".encode(), None, "control or invisible"),
    (b"192.0.2.1", None, "IP address"),
    (b"[2001:db8::1]:25", None, "IP address"),
    (b"2001:db8::1", None, "IP address"),
    (b"co.uk", None, "public suffix"),
    (b"localhost", None, "public suffix"),
    (b"caf\xe9.fr", None, "not valid UTF-8"),
    (b"\xff\xfe\x00", None, "UTF-8"),
    (b"x" * (1 << 20), None, "characters long"),
    # normalised, where that is right
    (b"https://admin:hunter2@Contoso.com:8443/owa/?x=1", "contoso.com", ""),
    (b"first.last+tag@Fabrikam.com", "fabrikam.com", ""),
    (b"NORTHWIND.COM.", "northwind.com", ""),
    ("B\u00fccher-Haus.de".encode(), "xn--bcher-haus-9db.de", ""),
    ("\u0430pple.com".encode(), "xn--pple-43d.com", ""),  # confusable: checked as the different domain it is
]


def _records() -> dict[str, list[str]]:
    out: dict[str, list[str]] = dict(NEW_MAIL)
    for d in [*GOOD, "xn--pple-43d.com"]:
        out[d] = ["MX 10 mx1.newmail.example.", "NS ns1.newdns.example.", "NS ns2.newdns.example."]
    out[M365] = ["MX 0 tailspin-com.mail.protection.outlook.com.", "NS ns1.newdns.example."]
    return out


@pytest.fixture(scope="module")
def resolver() -> Iterator[str]:
    with FakeServer(Data(_records(), zones=(*GOOD, M365, "xn--pple-43d.com", NEW_MAIL_ZONE))) as srv:
        yield srv.spec


def run(resolver: str, *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    with no_offsite_packets():
        r = CliRunner().invoke(
            cli,
            ["check", "--resolver", resolver, "--mode", "resolver", "--timeout", "5", *args],
            input=stdin,
            catch_exceptions=False,
        )
    return r.exit_code, r.stdout, r.stderr


def _lines() -> list[bytes]:
    return [raw for raw, _, _ in CORPUS if raw.strip()]


def test_the_whole_corpus_in_one_file(tmp_path: Path, resolver: str) -> None:
    """Every bad line next to good ones: one result per line, in order, each with the right outcome."""
    lines = []
    for i, raw in enumerate(_lines()):
        lines += [raw, GOOD[i % len(GOOD)].encode()]
    f = tmp_path / "domains.txt"
    f.write_bytes(b"\n".join(lines) + b"\n")
    code, out, err = run(resolver, "--input", str(f), "-f", "json")
    assert "Traceback" not in err and "internal error" not in err, err
    results = validate_output(out, "json")
    assert len(results) == len(lines)
    expected = {raw: (domain, says) for raw, domain, says in CORPUS}
    for raw, result in zip(lines, results, strict=True):
        domain, says = expected[raw] if raw in expected else (raw.decode(), "")
        if domain is None:
            assert result["domain"] is None and result["verdict"] == "unknown", (raw[:40], result)
            (finding,) = result["findings"]
            assert finding["code"] == "INPUT_INVALID" and says.lower() in finding["message"].lower(), finding
            assert len(result["input"]) < 300  # a 1 MB line is cut short in the report
        else:
            assert result["domain"] == domain and result["verdict"] == "safe", (raw[:40], result)
    assert code == 3  # unknown: some lines could not be checked


# argv cannot hold NUL; undecodable bytes arrive as surrogates, as Python decodes argv
ARGS = [c for c in CORPUS if c[0].strip() and b"\x00" not in c[0] and len(c[0]) < 5000]


@pytest.mark.parametrize(("raw", "domain", "says"), ARGS)
def test_each_as_an_argument(resolver: str, raw: bytes, domain: str | None, says: str) -> None:
    arg = raw.decode("utf-8", "surrogateescape")
    code, out, err = run(resolver, "-f", "json", "--", arg)  # "--": "-contoso.com" is not an option
    assert "Traceback" not in err, err
    (result,) = validate_output(out, "json")
    if domain is None:
        assert code == 3 and result["findings"][0]["code"] == "INPUT_INVALID"
        assert says.lower() in result["findings"][0]["message"].lower()
    else:
        assert code == 0 and result["domain"] == domain


def test_blocked_outranks_bad_input(resolver: str) -> None:
    code, out, _ = run(resolver, "co.uk", M365, "192.0.2.1", "-f", "jsonl")
    assert code == 2
    assert [r["verdict"] for r in validate_output(out, "jsonl")].count("blocked") == 1


def test_a_binary_file_as_input(resolver: str) -> None:
    code, out, err = run(resolver, "--input", str(BAD / "binary-input.bin"), "-f", "json")
    assert "Traceback" not in err and "internal error" not in err, err
    results = validate_output(out, "json")
    assert results and all(r["verdict"] == "unknown" for r in results)
    assert all(f["code"] == "INPUT_INVALID" for r in results for f in r["findings"])
    assert code == 3
    raw_lines = [
        x
        # CR, LF and CRLF each end a line (issue 16: old Mac exports)
        for x in re.split(rb"\r\n|\r|\n", (BAD / "binary-input.bin").read_bytes())
        if x.strip() and not x.lstrip().startswith(b"#")
    ]
    assert len(results) == len(raw_lines)


def test_non_utf8_lines_between_good_ones(resolver: str) -> None:
    code, out, err = run(resolver, "--input", str(BAD / "non-utf8-input.txt"), "-f", "jsonl")
    results = validate_output(out, "jsonl")
    by_input = {r["input"]: r for r in results}
    assert {"contoso.com", "fabrikam.com", "northwind.com"} <= {r["domain"] for r in results}
    assert by_input["caf\\xe9.fr"]["findings"][0]["message"] == "input is not valid UTF-8"
    assert by_input["Bücher-Haus.de"]["domain"] == "xn--bcher-haus-9db.de"
    assert by_input["b\\xfccher-haus.de"]["verdict"] == "unknown"
    assert len(results) == 7  # eight lines, one of them a comment
    assert code == 3


def test_non_utf8_on_stdin(resolver: str) -> None:
    code, out, _ = run(
        resolver, "--input", "-", "-f", "jsonl", stdin=b"contoso.com\n\xc3\x28bad\nfabrikam.com\n"
    )
    results = validate_output(out, "jsonl")  # jsonl streams in completion order
    assert sorted(r["input"] for r in results) == ["\\xc3(bad", "contoso.com", "fabrikam.com"]
    assert {r["domain"] for r in results} == {"contoso.com", None, "fabrikam.com"}
    assert code == 3


def test_blank_and_comment_lines(tmp_path: Path, resolver: str) -> None:
    f = tmp_path / "d.txt"
    f.write_bytes(b"\n   \n# comment\ncontoso.com  # trailing comment\n\t\n")
    code, out, _ = run(resolver, "--input", str(f), "-f", "jsonl")
    assert [r["domain"] for r in validate_output(out, "jsonl")] == ["contoso.com"]
    assert code == 0


def test_an_empty_input_file_is_unknown_not_safe(tmp_path: Path, resolver: str) -> None:
    f = tmp_path / "empty.txt"
    f.write_bytes(b"")
    code, out, err = run(resolver, "--input", str(f), "-f", "json")
    assert validate_output(out, "json") == []
    assert code == 3, "nothing checked must never read as safe"


def test_a_huge_line_without_a_newline(tmp_path: Path, resolver: str) -> None:
    f = tmp_path / "one-line.txt"
    f.write_bytes(b"contoso.com\n" + b"a." * (2 << 20))  # 4 MB, no final newline
    code, out, err = run(resolver, "--input", str(f), "-f", "jsonl")
    results = sorted(validate_output(out, "jsonl"), key=lambda r: r["domain"] or "")
    assert [r["domain"] for r in results] == [None, "contoso.com"]
    assert len(json.dumps(results[0])) < 2000
    assert code == 3


def test_unreadable_input_is_a_usage_error(tmp_path: Path, resolver: str) -> None:
    code, out, err = run(resolver, "--input", str(tmp_path / "missing.txt"))
    assert code == 64 and "cannot read --input" in err and "Traceback" not in err


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_bad_input_echoed_in_every_format_is_safe(tmp_path: Path, resolver: str, fmt: str) -> None:
    """The input is echoed back (input / message); no format lets a control or bidi character through raw."""
    f = tmp_path / "d.txt"
    f.write_bytes(
        b"\x1b]0;pwned\x07contoso.com\n\xe2\x80\xaeevil.com\n\x1b[2Jx.com\nconto\x9bso.com\ncontoso.com\n"
    )
    code, out, err = run(resolver, "--input", str(f), "-f", fmt)
    assert "Traceback" not in err
    text = out.replace("\r\n", "\n")
    raw = sorted(
        {
            hex(ord(c))
            for c in text
            if (ord(c) < 0x20 and c != "\n")
            or 0x7F <= ord(c) < 0xA0
            or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        }
    )
    assert not raw, f"{fmt}: {raw}"
    assert code == 3


def test_no_line_is_lost_in_a_big_mixed_batch(tmp_path: Path, resolver: str) -> None:
    lines = []
    for i in range(400):
        lines.append(GOOD[i % len(GOOD)].encode() if i % 3 else _lines()[i % len(_lines())])
    f = tmp_path / "batch.txt"
    f.write_bytes(b"\n".join(lines) + b"\n")
    code, out, err = run(resolver, "--input", str(f), "-f", "jsonl", "--concurrency", "7")
    results = validate_output(out, "jsonl")
    assert len(results) == 400
    assert sum(r["domain"] is None for r in results) == sum(
        1 for i in range(400) if not i % 3 and not _valid(_lines()[i % len(_lines())])
    )
    _ = io  # keep the import


def _valid(raw: bytes) -> bool:
    return any(raw == r and d is not None for r, d, _ in CORPUS)
