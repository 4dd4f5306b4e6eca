"""Shared fixtures: the lab (real DNS servers on loopback, see tests/lab.py) and the installed `dnscheck`.

- `lab` (session): the world of fixtures/world/ running. A test that uses it is marked `lab` automatically.
  If the lab cannot run here it skips, unless DNSCHECK_REQUIRE_LAB=1 (tests/run.sh and CI set it): then it
  fails.
- `https` (session): the lab's HTTPS server (tests/httpslab.py) on 127.0.6.1:443, where the lab's DNS sends
  mta-sts.<domain> and the Microsoft login host names; give the command `env=https.env` to trust its CA.
- `dnscheck` (session): runs the INSTALLED command (`shutil.which("dnscheck")`) as a subprocess, with
  `--resolver <lab resolver>` added after the subcommand; returns a `Run` (rc, stdout, stderr, elapsed).

With DNSCHECK_EXPECT_LAB_TESTS=1 (tests/run.sh sets it for a whole run) the session fails unless at least one
lab test passed: CI must not go green when the real-server tests did not run.

Tests that change the running world (`lab.set_zone`) must use zone names of their own: the lab is shared.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.lab import DEFAULT_WORLD, Lab, LabError, unavailable_reason

# Tests expect English unless they ask for another language: the developer's own locale must not leak in (the
# installed command inherits this environment).
for _var in ("LANGUAGE", "LC_MESSAGES", "LANG"):
    os.environ.pop(_var, None)
os.environ["LC_ALL"] = "C.UTF-8"

REQUIRE_LAB = os.environ.get("DNSCHECK_REQUIRE_LAB") == "1"
EXPECT_LAB_TESTS = os.environ.get("DNSCHECK_EXPECT_LAB_TESTS") == "1"

_lab_outcomes = {"passed": 0, "failed": 0, "skipped": 0}


def _cannot_run(reason: str) -> None:
    if REQUIRE_LAB:
        pytest.fail(f"DNSCHECK_REQUIRE_LAB=1 but the lab (real DNS servers) cannot run: {reason}",
                    pytrace=False)
    pytest.skip(f"lab unavailable: {reason}")


_state: dict[str, Any] = {}


@pytest.fixture(scope="session")
def lab_available() -> None:
    """Skip (or fail, under DNSCHECK_REQUIRE_LAB=1) unless this process can run a lab."""
    reason = unavailable_reason()
    if reason:
        _cannot_run(reason)


@pytest.fixture(scope="session")
def lab(lab_available: None) -> Iterator[Lab]:
    try:
        running = Lab.start(DEFAULT_WORLD)
    except LabError as e:
        # The machine can host it, so this is a broken world or daemon: always a failure.
        pytest.fail(f"the lab failed to start: {e}", pytrace=False)
    _state["lab"] = running
    yield running
    running.stop()
    _state.pop("lab", None)


HTTPS_ADDRESS = "127.0.6.1"  # fixtures/world: the mta-sts.* records and world.json's "web" hosts


@pytest.fixture(scope="session")
def https(lab: Lab) -> Iterator[Any]:
    """The lab's HTTPS server, with a CA made for this run. `https.env`: the environment that trusts it."""
    from tests.httpslab import HttpsLab

    server = HttpsLab.start(HTTPS_ADDRESS, 443)
    server.env = {"SSL_CERT_FILE": server.ca_file}  # type: ignore[attr-defined]
    yield server
    server.stop()


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str
    elapsed: float

    def __str__(self) -> str:
        return (f"$ {' '.join(self.args)}\nexit {self.rc} after {self.elapsed:.2f}s\n"
                f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}")


class DnscheckCommand:
    """The installed console script, pointed at the lab's resolver."""

    def __init__(self, executable: str, resolver: str | None) -> None:
        self.executable = executable
        self.resolver = resolver

    def __call__(self, *args: str, resolver: bool = True, stdin: str | None = None, timeout: float = 60,
                 env: dict[str, str] | None = None) -> Run:
        argv = [self.executable, *args]
        if resolver and self.resolver and args and not args[0].startswith("-"):
            argv[2:2] = ["--resolver", self.resolver]
        full_env = {**os.environ, **(env or {})}
        start = time.monotonic()
        p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, env=full_env)
        return Run(tuple(argv), p.returncode, p.stdout, p.stderr, time.monotonic() - start)


def _installed() -> str:
    # The console script installed beside the interpreter running the tests first (a venv, pyenv), then PATH.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    exe = shutil.which("dnscheck", path=path)
    if not exe:
        pytest.fail("the dnscheck command is not installed (python3 -m pip install -e '.[test]')",
                    pytrace=False)
    return exe


@pytest.fixture(scope="session")
def dnscheck(lab: Lab) -> DnscheckCommand:
    """Run the installed `dnscheck` against the lab's resolver."""
    return DnscheckCommand(_installed(), lab.resolver)


@pytest.fixture(scope="session")
def dnscheck_offline() -> DnscheckCommand:
    """Run the installed `dnscheck` with no resolver added (usage errors, --zone-file, bad input)."""
    return DnscheckCommand(_installed(), None)


# --- markers and the lab accounting -----------------------------------------------------------------------

def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses_lab = {"lab", "lab_available"} & set(getattr(item, "fixturenames", ()))
        if uses_lab and item.get_closest_marker("lab") is None:
            item.add_marker(pytest.mark.lab)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if item.get_closest_marker("lab") is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _lab_outcomes[report.outcome] = _lab_outcomes.get(report.outcome, 0) + 1
    if report.failed and "lab" in _state:
        report.sections.append(("lab daemon logs", _state["lab"].logs()))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    o = _lab_outcomes
    if any(o.values()):
        terminalreporter.write_line(
            f"lab (real DNS server) tests: {o['passed']} passed, {o['failed']} failed, "
            f"{o['skipped']} skipped")
    if EXPECT_LAB_TESTS and not o["passed"]:
        terminalreporter.write_line(
            "FAILED: DNSCHECK_EXPECT_LAB_TESTS=1 but no lab test passed: the real-server tests did not run.",
            red=True, bold=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if EXPECT_LAB_TESTS and not _lab_outcomes["passed"] and exitstatus in (0, 5):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

