"""A progress line on stderr for long batches: only on a terminal, only for more than a few domains.

Hand-rolled rather than click.progressbar because the report may go to the same terminal: before anything
is written to stdout the line must be wiped, and drawn again afterwards (`Progress.guard`). The length may be
unknown (input streamed from stdin): the line then shows a count and a rate instead of a bar.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from dnscheck.models import Result, Verdict

FEW = 5  # a batch this small finishes before a bar would help
REDRAW_S = 0.1  # redraw at most ten times a second
WIDTH = 24  # characters of bar


def wanted(stream: TextIO, quiet: bool) -> bool:
    """A bar only for a person watching: stderr is a terminal, not dumb, and --quiet was not given."""
    if quiet:
        return False
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM") != "dumb"


class Progress:
    def __init__(
        self,
        total: int | None,
        stream: TextIO | None = None,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        # A known small batch never shows a bar; an unknown-length one shows it once more than FEW are done.
        self.enabled = enabled and (total is None or total > FEW)
        self.done = 0
        self.counts = {v: 0 for v in Verdict}
        self._clock = clock
        self._start = clock()
        self._last = 0.0
        self._shown = False

    def update(self, result: Result) -> None:
        self.done += 1
        self.counts[result.verdict] += 1
        if not self.enabled or (self.total is None and self.done <= FEW):
            return
        now = self._clock()
        if self._shown and now - self._last < REDRAW_S and self.done != self.total:
            return
        self._last = now
        self._draw(now)

    def line(self, now: float | None = None) -> str:
        elapsed = max((now if now is not None else self._clock()) - self._start, 1e-9)
        rate = self.done / elapsed
        bad = ", ".join(
            f"{self.counts[v]} {v.value}"
            for v in (Verdict.BLOCKED, Verdict.UNKNOWN, Verdict.WARNING)
            if self.counts[v]
        )
        tail = f"  {rate:.0f}/s" + (f"  ({bad})" if bad else "")
        if self.total:
            frac = min(self.done / self.total, 1.0)
            filled = int(frac * WIDTH)
            eta = (self.total - self.done) / rate if rate > 0 else 0
            return (
                f"[{'#' * filled}{'-' * (WIDTH - filled)}] {self.done}/{self.total} {frac:4.0%}"
                f"{tail}  eta {_hms(eta)}"
            )
        return f"{self.done} checked{tail}"

    def _draw(self, now: float) -> None:
        width = shutil.get_terminal_size((80, 24)).columns
        self._write("\r" + self.line(now)[: max(width - 1, 10)] + "\x1b[K")
        self._shown = True

    def clear(self) -> None:
        """Wipe the line (before other output, or at the end)."""
        if self._shown:
            self._write("\r\x1b[K")
            self._shown = False

    def finish(self) -> None:
        self.clear()
        self.enabled = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # stderr went away: a progress line is not worth failing for
            self.enabled = False

    def guard(self, out: TextIO) -> TextIO:
        """`out`, wrapped so that every write first wipes the bar, when both go to the same terminal."""
        if not self.enabled or not _same_terminal(out, self.stream):
            return out
        return _Guarded(out, self)  # type: ignore[return-value]


class _Guarded:
    """A text stream that wipes the progress line before each write; the next update draws it again."""

    def __init__(self, out: TextIO, progress: Progress) -> None:
        self._out = out
        self._progress = progress

    def write(self, text: str) -> int:
        self._progress.clear()
        return self._out.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._out, name)


def _same_terminal(a: TextIO, b: TextIO) -> bool:
    try:
        return a.isatty() and b.isatty()
    except (AttributeError, ValueError):
        return False


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
