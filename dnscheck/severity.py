"""Severities and verdicts: the one ladder every report, exit code and runbook step is ordered by.

A finding's severity maps to a verdict; a result's verdict is the worst of its findings' (see dnscheck.verdict);
a run's verdict is the worst of its results', and UNKNOWN when it checked nothing.
"""

from __future__ import annotations

import enum
from typing import Any


class Severity(enum.StrEnum):
    BLOCKED = "blocked"
    UNKNOWN = "unknown"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: the order findings are listed in, and the one the verdict follows."""
        return self.verdict.rank

    @property
    def verdict(self) -> Verdict:
        return _VERDICT_OF[self]


class Verdict(enum.StrEnum):
    SAFE = "safe"
    WARNING = "warning"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"

    @property
    def exit_code(self) -> int:
        return _EXIT[self]

    @property
    def rank(self) -> int:
        """Higher is worse. Blocked outranks unknown: a known M365 pointer is the stronger statement."""
        return _RANK[self]


_EXIT = {Verdict.SAFE: 0, Verdict.WARNING: 1, Verdict.BLOCKED: 2, Verdict.UNKNOWN: 3}
_RANK = {Verdict.SAFE: 0, Verdict.WARNING: 1, Verdict.UNKNOWN: 2, Verdict.BLOCKED: 3}


_VERDICT_OF = {
    Severity.BLOCKED: Verdict.BLOCKED,
    Severity.UNKNOWN: Verdict.UNKNOWN,
    Severity.WARNING: Verdict.WARNING,
    Severity.INFO: Verdict.SAFE,
}


def worst(verdicts: Any) -> Verdict:
    """The worst of several verdicts (SAFE when there are none: see `run_verdict` for a whole run)."""
    return max(verdicts, key=lambda v: v.rank, default=Verdict.SAFE)


def run_verdict(verdicts: Any) -> Verdict:
    """The verdict of a whole run: the worst of its results, and UNKNOWN when it checked nothing.

    An empty run (no domain, or only comments in --input) proves nothing: it must never read as safe."""
    items = list(verdicts)
    return worst(items) if items else Verdict.UNKNOWN


def codes_worst_first(findings: Any) -> list[str]:
    """Each code once, in the order of its worst finding: what blocks leads every summary."""
    return list(dict.fromkeys(f.code for f in by_severity(findings)))


def by_severity(findings: Any) -> list[Any]:
    """Findings worst first (blocked, unknown, warning, info), keeping their order within a severity."""
    return sorted(findings, key=lambda f: -f.severity.rank)
