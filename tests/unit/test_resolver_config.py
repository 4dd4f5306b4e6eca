"""No /etc/resolv.conf and no --resolver: a clear message and exit 64, never a traceback; bad --resolver values."""

from __future__ import annotations

import dns.asyncresolver
import dns.resolver
import pytest
from click.testing import CliRunner

from dnscheck.cli import cli
from dnscheck.collect.resolver import parse_server


def test_missing_resolv_conf_is_a_clear_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(self: object, f: object = None) -> None:
        raise dns.resolver.NoResolverConfiguration("cannot open /etc/resolv.conf")

    async def no_query(*args: object, **kwargs: object) -> None:
        raise AssertionError("no query may be sent without a resolver")

    monkeypatch.setattr(dns.resolver.BaseResolver, "read_resolv_conf", missing)
    monkeypatch.setattr(dns.asyncresolver.Resolver, "resolve", no_query)
    r = CliRunner().invoke(cli, ["check", "contoso.com"])
    assert r.exit_code == 64, r.output
    assert "no resolver configured" in r.output and "--resolver" in r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("9.9.9.9", ("9.9.9.9", 53)), ("127.0.0.1:5300", ("127.0.0.1", 5300)), ("[::1]:5353", ("::1", 5353)),
     ("::1", ("::1", 53)), ("[2620:fe::fe]", ("2620:fe::fe", 53))],
)
def test_resolver_specs(spec: str, expected: tuple[str, int]) -> None:
    assert parse_server(spec) == expected


@pytest.mark.parametrize("spec", ["dns.google", "1.2.3.4:0", "1.2.3.4:99999", "[::1", "[::1]x", "1.2.3.4:port"])
def test_bad_resolver_specs_are_usage_errors(spec: str) -> None:
    r = CliRunner().invoke(cli, ["check", "contoso.com", "--resolver", spec])
    assert r.exit_code == 64, r.output
    assert "--resolver" in r.output and "Traceback" not in r.output


def test_a_reader_that_goes_away_is_exit_141_not_a_verdict(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`dnscheck check ... | true`: click alone would exit 1, which reads as "warning"."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    exe = shutil.which("dnscheck", path=str(Path(sys.executable).parent)) or shutil.which("dnscheck")
    if not exe:
        pytest.skip("dnscheck is not installed")
    zone = Path(__file__).resolve().parents[2] / "fixtures" / "m365.zone"
    read, write = os.pipe()
    os.close(read)  # nobody will ever read
    p = subprocess.run([exe, "check", "contoso.com", "--zone-file", str(zone)], stdout=write,
                       stderr=subprocess.PIPE, text=True)
    os.close(write)
    assert p.returncode == 141, p.stderr
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr
