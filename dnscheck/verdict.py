"""The verdict: the worst finding, on the ladder blocked > unknown > warning > safe.

It is never safe (nor a mere warning) unless MX and NS both answered: "could not tell" is its own result.
"""

from __future__ import annotations

from collections.abc import Iterable

from dnscheck.models import Finding, Verdict, worst


def verdict_of(findings: Iterable[Finding], decisive: bool) -> Verdict:
    verdict = worst(f.severity.verdict for f in findings)
    if not decisive and verdict.rank < Verdict.UNKNOWN.rank:
        return Verdict.UNKNOWN
    return verdict
