"""The progress line: only on a terminal, only for more than a few domains, wiped before report output."""

from __future__ import annotations

import io

import pytest

from dnscheck.models import Result, Verdict
from dnscheck.progress import FEW, Progress, wanted


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def res(v: Verdict = Verdict.SAFE) -> Result:
    return Result("x.com", "x.com", "x.com", v, None, ())


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_wanted_only_on_a_terminal_and_not_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERM", raising=False)
    assert wanted(Tty(), quiet=False)
    assert not wanted(Tty(), quiet=True)
    assert not wanted(io.StringIO(), quiet=False)
    monkeypatch.setenv("TERM", "dumb")
    assert not wanted(Tty(), quiet=False)


def test_a_few_domains_never_show_a_bar() -> None:
    err = Tty()
    p = Progress(FEW, err)
    for _ in range(FEW):
        p.update(res())
    p.finish()
    assert err.getvalue() == ""


def test_a_known_length_bar_counts_and_is_wiped_at_the_end() -> None:
    err, clock = Tty(), Clock()
    p = Progress(10, err, clock=clock)
    for i in range(10):
        clock.t += 0.2
        p.update(res(Verdict.BLOCKED if i == 3 else Verdict.SAFE))
    assert "10/10" in err.getvalue() and "100%" in err.getvalue() and "1 blocked" in err.getvalue()
    p.finish()
    assert err.getvalue().endswith("\r\x1b[K")


def test_an_unknown_length_shows_a_count_after_a_few() -> None:
    err, clock = Tty(), Clock()
    p = Progress(None, err, clock=clock)
    for _ in range(FEW):
        clock.t += 1
        p.update(res())
    assert err.getvalue() == ""
    clock.t += 1
    p.update(res())
    assert f"{FEW + 1} checked" in err.getvalue()


def test_redraws_are_rate_limited() -> None:
    err, clock = Tty(), Clock()
    p = Progress(1000, err, clock=clock)
    for _ in range(500):  # no time passes: only the first update draws
        p.update(res())
    assert err.getvalue().count("\r") == 1


def test_report_output_to_the_same_terminal_wipes_the_bar_first() -> None:
    err, out, clock = Tty(), Tty(), Clock()
    p = Progress(100, err, clock=clock)
    guarded = p.guard(out)
    p.update(res())
    assert err.getvalue().startswith("\r[")
    guarded.write("a line of report\n")
    assert err.getvalue().endswith("\r\x1b[K")
    assert out.getvalue() == "a line of report\n"
    assert p.guard(io.StringIO()).__class__ is io.StringIO  # a file or a pipe is not wrapped


def test_disabled_progress_writes_nothing() -> None:
    err = Tty()
    p = Progress(100, err, enabled=False)
    for _ in range(100):
        p.update(res())
    p.finish()
    assert err.getvalue() == ""
