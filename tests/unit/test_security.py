"""The security review (docs/security.md), one test per point that can be tested.

1. No shell, no eval, no dynamic code: a static scan of the package, and an audit hook during a whole check.
2. Output and state files: atomic (temporary file + rename), owner-only when new, never written through a
symlink.
3. Network: only DNS, only to the configured resolver (and, probing the delegation, port 53 of the servers DNS
   names); the zone-file mode opens no socket at all; no system name lookup (getaddrinfo) ever.
4. tldextract never fetches the Public Suffix List and writes no cache.
5. Nothing from DNS data is interpreted: hostile strings come out verbatim in JSON and nothing else happens.

Events come from PEP 578 audit hooks (tests/fakeserver.py: `recording()`), which see every socket
connect/sendto, getaddrinfo, process start and file opened for writing, whatever library does it.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import os
import stat
from pathlib import Path
from typing import Any

import dns.name
import pytest
from click.testing import CliRunner

from dnscheck.check import Options, check
from dnscheck.cli import cli
from dnscheck.collect.resolver import ResolverSource, make_resolver, parse_server
from dnscheck.collect.zonefile import ZoneFileSource, load_zone
from dnscheck.errors import ConfigError
from dnscheck.normalise import Target, normalise
from dnscheck.output import atomic_open
from tests.fakeserver import NEW_MAIL, NEW_MAIL_ZONE, Data, FakeServer, no_offsite_packets, recording
from tests.schema import validate_output

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dnscheck"

SOCKET_EVENTS = ("socket.connect", "socket.sendto", "socket.sendmsg")
LOOKUP_EVENTS = ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo")
PROCESS_EVENTS = (
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.startfile",
    "webbrowser.open",
    "ctypes.dlopen",
)


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _target(domain: str) -> Target:
    t = normalise(domain)
    assert isinstance(t, Target)
    return t


# ------------------------------------------------------------------------------------- 1. no shell, no eval


_FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile", "input", "breakpoint"}
_FORBIDDEN_MODULES = {
    "subprocess",
    "pickle",
    "marshal",
    "shelve",
    "ctypes",
    "cffi",
    "pty",
    "webbrowser",
    "yaml",
    "dill",
    "code",
    "codeop",
    "runpy",
}
_FORBIDDEN_ATTRS = {
    ("os", "system"),
    ("os", "popen"),
    ("os", "execv"),
    ("os", "execve"),
    ("os", "execvp"),
    ("os", "spawnv"),
    ("os", "posix_spawn"),
    ("os", "fork"),
    ("os", "startfile"),
}


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_shell_no_eval_no_dynamic_code(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in _FORBIDDEN_CALLS:
                problems.append(f"call to {f.id}()")
            if (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and (f.value.id, f.attr) in _FORBIDDEN_ATTRS
            ):
                problems.append(f"call to {f.value.id}.{f.attr}()")
            for kw in node.keywords:
                if kw.arg == "shell":
                    problems.append("shell= keyword")
            if isinstance(f, ast.Attribute) and f.attr == "import_module":
                # the one dynamic import: a format module named by the fixed FORMATS table, never by input
                assert path.name == "__init__.py" and path.parent.name == "formats", path
        if isinstance(node, ast.Import):
            problems += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in _FORBIDDEN_MODULES]
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] in _FORBIDDEN_MODULES
        ):
            problems.append(f"from {node.module} import ...")
    assert not problems, f"{path.relative_to(ROOT)}: {problems}"


def test_format_modules_come_only_from_the_fixed_table() -> None:
    from dnscheck.formats import FORMATS, get_format

    for name, spec in FORMATS.items():
        assert spec.startswith("dnscheck.formats."), spec
        get_format(name)
    with pytest.raises(KeyError):
        get_format("os:system")


# ----------------------------------------------------------------------------------- 2. files written


def test_new_output_file_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        target = tmp_path / "report.json"
        with atomic_open(str(target)) as f:
            f.write("{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() == "{}"


def test_an_existing_report_keeps_its_mode_and_a_state_file_is_forced_owner_only(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text("old")
    report.chmod(0o644)
    with atomic_open(str(report)) as f:
        f.write("new")
    assert stat.S_IMODE(report.stat().st_mode) == 0o644 and report.read_text() == "new"
    state = tmp_path / "state.json"
    state.write_text("old")
    state.chmod(0o644)
    with atomic_open(str(state), perms=0o600) as f:
        f.write("new")
    assert stat.S_IMODE(state.stat().st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("complete old report")
    with pytest.raises(RuntimeError), atomic_open(str(target)) as f:
        f.write("half a new rep")
        raise RuntimeError("crash in the middle")
    assert target.read_text() == "complete old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_the_file_is_replaced_not_rewritten(tmp_path: Path) -> None:
    """A reader holding the old file keeps reading the old, complete content: a new inode is renamed in."""
    target = tmp_path / "report.json"
    target.write_text("old")
    before = target.stat().st_ino
    with open(target) as reader, atomic_open(str(target)) as f:
        f.write("new")
        assert target.read_text() == "old"  # nothing visible until the rename
    assert reader.closed
    assert target.stat().st_ino != before and target.read_text() == "new"


def test_a_symlink_at_the_target_is_followed_and_its_target_replaced_atomically(tmp_path: Path) -> None:
    """The link stays a link (a report path kept as a link to the latest run); its target is replaced by a new
    file, with the target's read/write bits (never its execute bits)."""
    (tmp_path / "runs").mkdir()
    real = tmp_path / "runs" / "latest.json"
    real.write_text("old")
    real.chmod(0o755)
    before = real.stat().st_ino
    link = tmp_path / "report.json"
    link.symlink_to(real)
    with atomic_open(str(link)) as f:
        f.write("report")
    assert link.is_symlink() and real.read_text() == "report"
    assert real.stat().st_ino != before  # renamed in, not rewritten
    assert stat.S_IMODE(real.stat().st_mode) == 0o644
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["latest.json"]
    dangling = tmp_path / "new.json"
    dangling.symlink_to(tmp_path / "runs" / "new-target.json")
    with atomic_open(str(dangling)) as f:
        f.write("x")
    assert (tmp_path / "runs" / "new-target.json").read_text() == "x"
    assert stat.S_IMODE((tmp_path / "runs" / "new-target.json").stat().st_mode) == 0o600


def test_cli_output_file_is_atomic_and_owner_only(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = CliRunner().invoke(
        cli,
        [
            "check",
            "contoso.com",
            "--zone-file",
            str(ROOT / "fixtures" / "m365.zone"),
            "-f",
            "json",
            "-o",
            str(out),
        ],
    )
    assert r.exit_code == 2, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    validate_output(out.read_text(), "json")
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_watch_state_is_written_atomically_and_owner_only(tmp_path: Path) -> None:
    from dnscheck.watch import WatchState

    path = tmp_path / "watch.json"
    path.write_text("{}")
    path.chmod(0o644)
    WatchState(str(path)).save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["watch.json"]


def test_runbook_state_is_written_atomically_and_owner_only(tmp_path: Path) -> None:
    from dnscheck.runbook.state import State, save

    path = tmp_path / "runbook.json"
    path.write_text("{}")
    path.chmod(0o664)
    save(str(path), State(domains=["contoso.com"]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["runbook.json"]


_WRITERS_ALLOWED = {("output.py", "atomic_open"), ("output.py", "_write_through")}


def test_files_are_written_only_through_the_atomic_writers() -> None:
    """Static: every open-for-writing in the package is inside output.py (the one writer)."""
    offenders = []
    for path in _sources():
        tree = ast.parse(path.read_text())
        for fn in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            for node in ast.walk(fn):
                if not isinstance(node, ast.Call):
                    continue
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
                if name in ("SpooledTemporaryFile", "TemporaryFile"):
                    continue  # anonymous: created 0600 with O_EXCL and unlinked at once (the table's spool)
                writes = name in ("write_text", "write_bytes", "fdopen", "mkstemp", "NamedTemporaryFile")
                if name == "open" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                    writes = writes or any(c in str(node.args[1].value) for c in "wax+")
                for kw in node.keywords:
                    if kw.arg == "mode" and isinstance(kw.value, ast.Constant):
                        writes = writes or any(c in str(kw.value.value) for c in "wax+")
                if writes and (path.name, fn.name) not in _WRITERS_ALLOWED:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} in {fn.name}()")
    assert not offenders, offenders


# ---------------------------------------------------------------------------------------------- 3. network


def _zone_of(domain: str) -> dict[str, list[str]]:
    return {
        **NEW_MAIL,
        domain: [
            "MX 10 mx1.newmail.example.",
            "NS ns1.newdns.example.",
            "A 192.0.2.10",
            'TXT "v=spf1 include:spf.newmail.example -all"',
        ]
    }


def test_a_check_talks_only_to_the_configured_resolver() -> None:
    data = Data(_zone_of("contoso.com"), zones=("contoso.com", NEW_MAIL_ZONE))
    with no_offsite_packets(), FakeServer(data) as srv, recording() as events:
        src = ResolverSource(make_resolver([srv.address], 3))
        r = asyncio.run(check(_target("contoso.com"), src, Options(timeout=3, mode="resolver")))
    assert r.verdict.value == "safe"
    sockets = [(e, a) for e, a in events if e in SOCKET_EVENTS]
    assert sockets, "the audit hook saw nothing: the test is not looking"
    assert {tuple(a) for _, a in sockets} == {srv.address}, sockets
    assert not [e for e in events if e[0] in LOOKUP_EVENTS + PROCESS_EVENTS], events
    assert not [e for e in events if e[0] == "open-for-writing"], events


def test_an_mta_sts_fetch_goes_only_to_port_443_of_the_address_the_resolver_gave(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The policy host is resolved through the check's resolver, never getaddrinfo; the only other socket is the
    HTTPS connection to that address, port 443 (tests/httpslab.py; needs the namespace of tests/run.sh)."""
    from dnscheck.collect.web import Web
    from tests.httpslab import HttpsLab, Reply

    try:
        web = HttpsLab.start("127.0.0.77", 443)
    except OSError as e:
        pytest.skip(f"cannot listen on 127.0.0.77:443 here ({e}); tests/run.sh provides a namespace")
    policy = "version: STSv1\nmode: enforce\nmx: mx1.newmail.example\nmax_age: 86400\n"
    web.route("mta-sts.contoso.com", "/.well-known/mta-sts.txt", Reply(200, policy))
    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", web.ca_file)
    records = {
        **_zone_of("contoso.com"),
        "_mta-sts.contoso.com": ['TXT "v=STSv1; id=1;"'],
        "mta-sts.contoso.com": ["A 127.0.0.77"],
    }
    data = Data(records, zones=("contoso.com",))
    try:
        with no_offsite_packets(), FakeServer(data) as srv, recording() as events:
            src = ResolverSource(make_resolver([srv.address], 3))
            options = Options(timeout=3, mode="resolver", web=Web(src))
            r = asyncio.run(check(_target("contoso.com"), src, options))
    finally:
        web.stop()
    assert r.verdict.value == "safe" and r.mta_sts is not None and r.mta_sts.policy is not None, r.findings
    assert r.mta_sts.policy.mode == "enforce"
    sockets = {tuple(a)[:2] for e, a in events if e in SOCKET_EVENTS}
    assert sockets == {srv.address, ("127.0.0.77", 443)}, sockets
    assert not [e for e in events if e[0] in LOOKUP_EVENTS + PROCESS_EVENTS], events


def test_probing_the_delegation_only_adds_port_53_of_servers_named_in_dns() -> None:
    """--mode auto asks the parent's and the zone's servers directly: port 53 of the addresses DNS gave, and
    nothing else. Here they are loopback addresses where nothing listens."""
    records = {
        **_zone_of("contoso.com"),
        "com": ["NS a.gtld.test."],
        "a.gtld.test": ["A 127.0.0.98"],
        "ns1.newdns.example": ["A 127.0.0.99"],
    }
    data = Data(records, zones=("contoso.com", "com", "gtld.test", "newdns.example", NEW_MAIL_ZONE))
    with no_offsite_packets(), FakeServer(data) as srv, recording() as events:
        src = ResolverSource(make_resolver([srv.address], 2))
        r = asyncio.run(check(_target("contoso.com"), src, Options(timeout=2, mode="auto")))
    targets = {tuple(a) for e, a in events if e in SOCKET_EVENTS}
    assert srv.address in targets
    others = targets - {srv.address}
    assert others and all(port == 53 and host in ("127.0.0.98", "127.0.0.99") for host, port in others), (
        others
    )
    assert not [e for e in events if e[0] in LOOKUP_EVENTS], events
    assert r.verdict.value != "safe" or any(f.code == "AUTHORITATIVE_SKIPPED" for f in r.findings)


def test_a_zone_file_check_opens_no_socket() -> None:
    path = str(ROOT / "fixtures" / "m365.zone")
    with no_offsite_packets(), recording() as events:
        src = ZoneFileSource(load_zone(path, "contoso.com"), path)
        r = asyncio.run(check(_target("contoso.com"), src, Options(timeout=3, mode="auto")))
    assert r.verdict.value == "blocked"
    assert not [e for e in events if e[0] in SOCKET_EVENTS + LOOKUP_EVENTS + PROCESS_EVENTS], events


def test_the_cli_in_zone_file_mode_opens_no_socket(tmp_path: Path) -> None:
    with no_offsite_packets(), recording() as events:
        r = CliRunner().invoke(
            cli,
            [
                "check",
                "contoso.com",
                "fabrikam.com",
                "--zone-file",
                str(ROOT / "fixtures" / "m365.zone"),
                "-f",
                "jsonl",
            ],
        )
    assert r.exit_code in (2, 3), r.stderr
    assert not [e for e in events if e[0] in SOCKET_EVENTS + LOOKUP_EVENTS + PROCESS_EVENTS], events


@pytest.mark.parametrize(
    "spec", ["dns.google", "localhost", "resolver.example:53", "[dns.google]:53", "1.1.1"]
)
def test_resolvers_must_be_addresses_so_no_name_is_ever_looked_up_to_find_them(spec: str) -> None:
    with pytest.raises(ConfigError, match="not an IP address|IPv6"):
        parse_server(spec)


# -------------------------------------------------------------------------------- 4. tldextract never fetches


def test_tldextract_never_fetches_and_writes_nothing() -> None:
    from dnscheck import normalise as mod

    mod._extractor.cache_clear()  # build the extractor afresh, inside the recording
    try:
        with no_offsite_packets(), recording() as events:
            for name in (
                "contoso.com",
                "mail.contoso.co.uk",
                "x.blogspot.com",
                "b\u00fccher-haus.de",
                "co.uk",
                "example.unknown-tld",
                "a.b.c.d.e.f.g.example.com",
            ):
                normalise(name)
        assert not [e for e in events if e[0] in SOCKET_EVENTS + LOOKUP_EVENTS + PROCESS_EVENTS], events
        assert not [e for e in events if e[0] == "open-for-writing"], events
    finally:
        mod._extractor.cache_clear()


def test_the_audit_hook_would_catch_a_fetch(tmp_path: Path) -> None:
    """Negative control: tldextract's default (fetch the list over HTTPS) is seen, and stopped, by the
    guard."""
    import tldextract

    fetching = tldextract.TLDExtract(
        cache_dir=str(tmp_path),
        suffix_list_urls=("https://publicsuffix.org/list/x",),
        fallback_to_snapshot=True,
    )
    # the guard may surface as any error inside the library
    with no_offsite_packets(), recording() as events, contextlib.suppress(Exception):
        fetching("contoso.com")
    assert [e for e in events if e[0] in LOOKUP_EVENTS + SOCKET_EVENTS], "the hook did not see the fetch"


# --------------------------------------------------------------------------- 5. DNS data is never interpreted

HOSTILE = [
    "$(touch /tmp/dnscheck-pwned)",
    "`id`",
    "; rm -rf / #",
    "{0.__class__.__mro__}",
    "%s%s%n",
    "${jndi:ldap://x}",
    "__import__('os').system('id')",
    '"},{"verdict":"safe"}',
    "<script>alert(1)</script>",
    "\\\\x1b[31m",
    "{{7*7}}",
]


def _txt(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_hostile_dns_data_comes_out_verbatim_and_does_nothing(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    d = "contoso.com"
    records = {
        d: [
            "MX 10 {0.__class__}.pphosted.com.",
            "NS ns1.newdns.example.",
            "A 192.0.2.10",
            *(f"TXT {_txt(s)}" for s in HOSTILE),
        ],
        f"autodiscover.{d}": [r"CNAME \$\(id\).example."],
        "{0.__class__}.pphosted.com": ["A 192.0.2.30"],  # the gateway host exists: a warning, not a dead MX
    }
    data = Data(records, zones=(d, "pphosted.com"))
    with no_offsite_packets(), FakeServer(data) as srv, recording() as events:
        r = CliRunner().invoke(
            cli, ["check", d, "--resolver", srv.spec, "--mode", "resolver", "--explain", "-f", "json"]
        )
    (result,) = validate_output(r.stdout, "json")
    txts = {x["value"] for x in result["records"] if x["type"] == "TXT"}
    assert txts == set(HOSTILE)
    gateway = [f for f in result["findings"] if f["code"] == "MX_GATEWAY"]
    assert gateway and "{0.__class__}.pphosted.com" in gateway[0]["message"]  # no str.format() on DNS data
    shown = dns.name.from_text(r"\$\(id\).example.").to_text(omit_final_dot=True)  # dnspython's escaped form
    assert any(x["value"] == shown for x in result["records"]), [x["value"] for x in result["records"]]
    assert result["verdict"] == "warning"  # the gateway; nothing in the TXT changed it
    assert not [e for e in events if e[0] in PROCESS_EVENTS + LOOKUP_EVENTS], events
    assert {tuple(a) for e, a in events if e in SOCKET_EVENTS} == {srv.address}
    assert not [e for e in events if e[0] == "open-for-writing"], events
    assert not Path("/tmp/dnscheck-pwned").exists() and list(tmp_path.iterdir()) == []


def test_credentials_in_a_url_are_not_used_for_anything() -> None:
    """A URL's user:password is dropped by normalise; no connection is made to the URL's host or port."""
    t = normalise("https://admin:hunter2@contoso.com:8443/owa/")
    assert isinstance(t, Target) and t.domain == "contoso.com"
    assert "hunter2" not in t.domain + t.registered_domain


def test_credentials_in_a_url_are_not_echoed_in_the_report() -> None:
    r = CliRunner().invoke(
        cli,
        [
            "check",
            "https://admin:hunter2@contoso.com/",
            "--zone-file",
            str(ROOT / "fixtures" / "m365.zone"),
            "-f",
            "json",
        ],
    )
    assert "hunter2" not in r.stdout
