"""--zone-file: bad files get a clear error with their line number (exit 64) in bounded time, and a good file
is answered like its authoritative server would answer (NXDOMAIN vs NODATA, CNAMEs, wildcards, delegations).

Fixtures: fixtures/bad/*.zone (committed), and a 100k-record zone generated into tmp_path.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dnscheck.check import Options, check
from dnscheck.cli import cli
from dnscheck.collect.zonefile import MAX_GENERATED, MAX_ZONE_BYTES, ZoneFileSource, load_zone
from dnscheck.errors import ZoneFileError
from dnscheck.models import Answered, Undetermined, Verdict
from dnscheck.normalise import Target, normalise
from tests.schema import validate_output

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "fixtures" / "bad"
HEAD = """$ORIGIN contoso.com.
$TTL 3600
@       SOA   ns1.newdns.example. hostmaster.contoso.com. 1 3600 600 1209600 300
@       NS    ns1.newdns.example.
@       NS    ns2.newdns.example.
"""


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def zone(tmp_path: Path, body: str, head: str = HEAD, name: str = "z.zone") -> str:
    p = tmp_path / name
    p.write_text(head + body)
    return str(p)


def lookup(src: ZoneFileSource, name: str, rdtype: str) -> Answered | Undetermined:
    return asyncio.run(src.lookup(name, rdtype))


def checked(path: str, domain: str = "contoso.com") -> object:
    t = normalise(domain)
    assert isinstance(t, Target)
    src = ZoneFileSource(load_zone(path, t.domain), path)
    return asyncio.run(check(t, src, Options(timeout=5, mode="resolver")))


# ---------------------------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("fixture", "says"),
    [
        ("malformed.zone", "malformed.zone:9: expecting an integer"),
        ("no-soa.zone", "no SOA record"),
        ("no-ns.zone", "no NS records"),
        ("include.zone", "include.zone:6: zone file directive '$INCLUDE' is not allowed"),
        ("generate-bomb.zone", "generate-bomb.zone:7: $GENERATE would create more than"),
        ("latin1.zone", "latin1.zone:6: not UTF-8 text"),
        ("binary-input.bin", "not UTF-8 text"),
    ],
)
def test_bad_zone_files_exit_64_with_a_clear_message(fixture: str, says: str) -> None:
    start = time.monotonic()
    code, out, err = run_cli("check", "contoso.com", "--zone-file", str(BAD / fixture))
    assert code == 64, (code, out, err)
    assert says in err, err
    assert err.startswith("dnscheck: error: ")
    assert "Traceback" not in err and out == ""
    assert time.monotonic() - start < 5


def test_include_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.zone"
    secret.write_text("@ MX 0 contoso-com.mail.protection.outlook.com.\n")
    for directive in (
        f"$INCLUDE {secret}",
        f"$include {secret}",
        f"$INCLUDE {secret} sub.contoso.com.",
        "$INCLUDE secret.zone",
    ):
        path = zone(tmp_path, f"@ MX 10 mx1.newmail.example.\n{directive}\n")
        with pytest.raises(ZoneFileError, match=r"z\.zone:7: .*\$INCLUDE.*refused"):
            load_zone(path, "contoso.com")


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        ("@ MX ten mx1.newmail.example.\n", 6, "expecting an integer"),
        ("@ MX 10\n", 6, "expecting an identifier"),
        ("www A 300.1.1.1\n", 6, "malformed"),
        ("www FOO bar\n", 6, "unknown rdatatype 'FOO'"),
        ("www 99999999999 A 192.0.2.1\n", 6, "unknown rdatatype"),
        ('@ TXT ( "unbalanced"\n', 6, "unbalanced parentheses"),
        ('@ TXT "unterminated\n', 6, "newline in quoted string"),
        (f'@ TXT "{"x" * 300}"\n', 6, "string too long"),
        ("$FOO bar\n", 6, "directive '$FOO' is not allowed"),
        ("www AAAA 192.0.2.1\n", 6, "malformed"),
    ],
)
def test_malformed_lines_are_reported_with_their_line_number(
    tmp_path: Path, body: str, line: int, says: str
) -> None:
    path = zone(tmp_path, body)
    with pytest.raises(ZoneFileError) as e:
        load_zone(path, "contoso.com")
    assert f"z.zone:{line}:" in str(e.value) and says in str(e.value), str(e.value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("   \n\n", "empty"),
        ("; only a comment\n", "no SOA"),
        ("$TTL 300\n", "no SOA"),
        (HEAD + "www CNAME a.example.\nwww A 192.0.2.1\n", "CNAME must stand alone"),
    ],
)
def test_files_without_a_zone(tmp_path: Path, text: str, says: str) -> None:
    p = tmp_path / "z.zone"
    p.write_text(text)
    with pytest.raises(ZoneFileError, match=says):
        load_zone(str(p), "contoso.com")


def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(ZoneFileError, match="No such file"):
        load_zone(str(tmp_path / "missing.zone"), "contoso.com")
    with pytest.raises(ZoneFileError, match="directory"):
        load_zone(str(tmp_path), "contoso.com")


def test_a_never_ending_file_is_cut_off(tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(ZoneFileError, match="a device, not a regular file"):
        load_zone("/dev/zero", "contoso.com")
    big = tmp_path / "big.zone"
    with big.open("wb") as f:
        f.truncate(MAX_ZONE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(ZoneFileError, match="larger than"):
        load_zone(str(big), "contoso.com")
    assert time.monotonic() - start < 10


def test_generate_is_allowed_in_moderation(tmp_path: Path) -> None:
    path = zone(tmp_path, "@ MX 10 mx1.newmail.example.\n$GENERATE 1-100 host$ A 192.0.2.1\n")
    z = load_zone(path, "contoso.com")
    assert z.get_node("host100.contoso.com.") is not None
    many = zone(
        tmp_path,
        "".join(f"$GENERATE 1-{MAX_GENERATED // 4} h{i}-$ A 192.0.2.1\n" for i in range(5)),
        name="many.zone",
    )
    with pytest.raises(ZoneFileError, match=r"many\.zone:10: \$GENERATE"):
        load_zone(many, "contoso.com")


def test_the_domain_must_be_inside_the_zone(tmp_path: Path) -> None:
    path = zone(tmp_path, "@ MX 10 mx1.newmail.example.\n")
    with pytest.raises(ZoneFileError, match="fabrikam.com is not inside the zone"):
        load_zone(path, "fabrikam.com")
    assert load_zone(path, "eu.contoso.com").origin.to_text() == "contoso.com."


def test_origin_from_the_domain_when_the_file_has_none(tmp_path: Path) -> None:
    p = tmp_path / "z.zone"
    p.write_text(HEAD.split("\n", 1)[1] + "@ MX 10 mx1.newmail.example.\n")
    assert load_zone(str(p), "contoso.com").origin.to_text() == "contoso.com."
    with pytest.raises(ZoneFileError, match=r"no \$ORIGIN, and no valid domain"):
        load_zone(str(p), ".")


def test_only_invalid_domains_with_a_zone_file(tmp_path: Path) -> None:
    """Every argument invalid: each gets its INPUT_INVALID result (exit 3), not a confusing zone error."""
    path = zone(tmp_path, "@ MX 10 mx1.newmail.example.\n")
    code, out, err = run_cli("check", "co.uk", "1.2.3.4", "--zone-file", path, "-f", "json")
    assert code == 3, err
    results = validate_output(out, "json")
    assert [f["code"] for r in results for f in r["findings"]] == ["INPUT_INVALID", "INPUT_INVALID"]


def test_out_of_zone_data_is_ignored_like_a_server_would(tmp_path: Path) -> None:
    path = zone(
        tmp_path,
        "@ MX 10 mx1.newmail.example.\n$ORIGIN evil.example.\n"
        "@ MX 0 contoso-com.mail.protection.outlook.com.\n",
    )
    z = load_zone(path, "contoso.com")
    assert all(n.is_subdomain(z.origin) for n in z.nodes)


# ------------------------------------------------------------------------------------ answering from a file


@pytest.fixture
def src(tmp_path: Path) -> ZoneFileSource:
    path = zone(
        tmp_path,
        """
@        MX     10 mx1.newmail.example.
@        TXT    "v=spf1 include:spf.newmail.example -all"
mail     CNAME  mx1.contoso.com.
mx1      A      192.0.2.25
a.b.c    A      192.0.2.1
loop1    CNAME  loop2.contoso.com.
loop2    CNAME  loop1.contoso.com.
*.wild   CNAME  autodiscover.outlook.com.
sub      NS     ns.other.example.
www.sub  A      192.0.2.2
moved    DNAME  elsewhere.example.
""",
    )
    return ZoneFileSource(load_zone(path, "contoso.com"), path)


def test_nxdomain_nodata_and_empty_non_terminals(src: ZoneFileSource) -> None:
    assert lookup(src, "nothere.contoso.com", "MX").rcode == "NXDOMAIN"  # type: ignore[union-attr]
    assert lookup(src, "contoso.com", "AAAA") == Answered("contoso.com", "AAAA", (), "NOERROR", "contoso.com")
    for ent in ("b.c.contoso.com", "c.contoso.com"):  # exist, because a.b.c does: NODATA, not NXDOMAIN
        lk = lookup(src, ent, "A")
        assert isinstance(lk, Answered) and lk.rcode == "NOERROR" and not lk.records, ent
    assert lookup(src, "x.c.contoso.com", "A").rcode == "NXDOMAIN"  # type: ignore[union-attr]


def test_cnames_are_followed_inside_the_zone(src: ZoneFileSource) -> None:
    lk = lookup(src, "mail.contoso.com", "A")
    assert isinstance(lk, Answered)
    assert [(r.type, r.value) for r in lk.records] == [("CNAME", "mx1.contoso.com"), ("A", "192.0.2.25")]
    only = lookup(src, "mail.contoso.com", "CNAME")
    assert [r.type for r in only.records] == ["CNAME"]  # type: ignore[union-attr]


def test_a_cname_loop_in_the_file_is_undetermined(src: ZoneFileSource) -> None:
    lk = lookup(src, "loop1.contoso.com", "A")
    assert isinstance(lk, Undetermined) and "CNAME chain" in lk.reason


def test_wildcards_are_expanded(src: ZoneFileSource) -> None:
    """A wildcard answers for names that do not exist below it, as a server would (RFC 4592)."""
    lk = lookup(src, "autodiscover.wild.contoso.com", "CNAME")
    assert isinstance(lk, Answered) and lk.records[0].name == "autodiscover.wild.contoso.com"
    assert lk.records[0].target == "autodiscover.outlook.com"
    assert lookup(src, "autodiscover.contoso.com", "CNAME").rcode == "NXDOMAIN"  # type: ignore[union-attr]


def test_names_delegated_away_are_undetermined(src: ZoneFileSource) -> None:
    for name in ("sub.contoso.com", "www.sub.contoso.com", "x.y.sub.contoso.com"):
        lk = lookup(src, name, "MX")
        assert isinstance(lk, Undetermined) and "delegated" in lk.reason, name
        assert not src.covers(name)
    assert src.covers("contoso.com") and src.covers("a.b.c.contoso.com")
    assert not src.covers("contoso.com.evil.example") and not src.covers("example")


def test_names_under_a_dname_are_undetermined(src: ZoneFileSource) -> None:
    lk = lookup(src, "x.moved.contoso.com", "CNAME")
    assert isinstance(lk, Undetermined) and "DNAME" in lk.reason


def test_names_outside_the_zone_are_undetermined(src: ZoneFileSource) -> None:
    lk = lookup(src, "fabrikam.com", "MX")
    assert isinstance(lk, Undetermined) and "outside the zone" in lk.reason


# -------------------------------------------------------------------------------------------- whole checks


def test_bundled_fixtures() -> None:
    r = checked(str(ROOT / "fixtures" / "m365.zone"))
    assert r.verdict is Verdict.BLOCKED  # type: ignore[attr-defined]
    planned = checked(str(ROOT / "fixtures" / "planned.zone"))
    assert planned.verdict is not Verdict.BLOCKED  # type: ignore[attr-defined]


def test_a_wildcard_leftover_is_caught(tmp_path: Path) -> None:
    """`* CNAME autodiscover.outlook.com` in a planned zone answers for autodiscover, msoid, the DKIM
    selectors...: live DNS would show them all, so the preflight must too."""
    path = zone(tmp_path, "@ MX 10 mx1.newmail.example.\n* CNAME autodiscover.outlook.com.\n")
    r = checked(path)
    codes = {f.code for f in r.findings}  # type: ignore[attr-defined]
    assert r.verdict is Verdict.WARNING and "AUTODISCOVER_M365" in codes  # type: ignore[attr-defined]


def test_a_domain_delegated_away_inside_the_file_is_unknown(tmp_path: Path) -> None:
    path = zone(tmp_path, "@ MX 10 mx1.newmail.example.\neu NS ns.other.example.\n")
    r = checked(path, "eu.contoso.com")
    assert r.verdict is Verdict.UNKNOWN  # type: ignore[attr-defined]


def test_an_mx_host_in_a_delegated_subzone_is_not_looked_up(tmp_path: Path) -> None:
    path = zone(tmp_path, "@ MX 10 mail.eu.contoso.com.\neu NS ns.other.example.\n")
    r = checked(path)
    assert "OUT_OF_ZONE" in {f.code for f in r.findings}  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------------------- a 100k-record zone
#
# dnspython parses about 10-30k records a second, so this zone takes several seconds to load. To keep the unit
# suite fast, the work starts in a background process as soon as this module is imported,
# i.e. when pytest collects it, and the test at the end only collects the figures. This module runs last
# (alphabetical order), so the load overlaps with the rest of the suite.

N_RECORDS = 100_000
_BIG_SCRIPT = r"""
import asyncio, json, os, sys, time
from dnscheck.check import Options, check
from dnscheck.collect.zonefile import ZoneFileSource, load_zone
from dnscheck.normalise import normalise

path, n = sys.argv[1], int(sys.argv[2])
head = sys.argv[3]
per = n // 4
with open(path, "w") as f:
    f.write(head)
    f.write("@ MX 0 contoso-com.mail.protection.outlook.com.\n")
    f.write('@ TXT "v=spf1 include:spf.protection.outlook.com -all"\n')
    f.write("autodiscover CNAME autodiscover.outlook.com.\n")
    f.writelines(f"h{i} A 192.0.2.{i % 256}\n" for i in range(per))
    f.writelines(f"x{i}.deep.tree A 198.51.100.{i % 256}\n" for i in range(per))  # 25k names under one ENT
    f.writelines(f't{i} TXT "record {i}"\n' for i in range(per))
    f.writelines(f"c{i} CNAME h{i}.contoso.com.\n" for i in range(per))
size = os.path.getsize(path)
start = time.monotonic()
z = load_zone(path, "contoso.com")
loaded = time.monotonic() - start
src = ZoneFileSource(z, path)
t = normalise("contoso.com")
times, verdicts, codes = [], [], []
for _ in range(2):  # the second check reuses the index of empty non-terminals
    start = time.monotonic()
    r = asyncio.run(check(t, src, Options(timeout=10, mode="resolver")))
    times.append(time.monotonic() - start)
    verdicts.append(r.verdict.value)
    codes.append(sorted({f.code for f in r.findings}))
ent = asyncio.run(src.lookup("tree.contoso.com", "A"))
print(json.dumps({"records": n + 8, "bytes": size, "load_s": round(loaded, 2), "check_s": round(times[0], 3),
                  "second_check_s": round(times[1], 3), "records_per_s": round(n / loaded),
                  "verdicts": verdicts, "codes": codes[0], "ent": [ent.rcode, len(ent.records)]}))
"""


def _start_big_zone() -> tuple[subprocess.Popen[str], str]:
    tmp = tempfile.mkdtemp(prefix="dnscheck-100k-")
    proc = subprocess.Popen(
        [sys.executable, "-c", _BIG_SCRIPT, os.path.join(tmp, "big.zone"), str(N_RECORDS), HEAD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
    )

    def _cleanup() -> None:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    atexit.register(_cleanup)
    return proc, tmp


_BIG = _start_big_zone()


def test_a_100k_record_zone_in_bounded_time(record_property: object) -> None:
    """Generated at test time (in a temporary directory). Loading is linear in the file (dnspython's parser);
    the check itself must not depend on the zone's size (no scan of every name per lookup)."""
    proc, _ = _BIG
    try:
        out, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the 100k-record zone was not loaded and checked within 180 s")
    assert proc.returncode == 0, err
    figures = json.loads(out)
    record_property("zone_100k", figures)  # type: ignore[operator]
    print(f"\n100k-record zone: {figures}")
    assert figures["verdicts"] == ["blocked", "blocked"]
    assert {"MX_M365", "SPF_M365", "AUTODISCOVER_M365"} <= set(figures["codes"])
    assert figures["ent"] == ["NOERROR", 0]
    assert figures["load_s"] < 150, figures  # bounded: linear in the file (about 3 MB here)
    assert figures["check_s"] < 5 and figures["second_check_s"] < 2, figures  # lookups do not scan the zone
