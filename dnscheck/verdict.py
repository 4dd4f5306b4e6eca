"""The verdict: the worst finding, on the ladder blocked > unknown > warning > safe.

It is never safe (nor a mere warning) unless MX and NS both answered: "could not tell" is its own result.
"""

from __future__ import annotations

from collections.abc import Iterable

from dnscheck.models import Finding, Verdict, worst

# Findings that are only information, yet leave the check unable to say `safe`: an MX host outside a zone file,
# not followed (no --resolver), may lead nowhere.
UNPROVEN = frozenset({"OUT_OF_ZONE"})


def verdict_of(findings: Iterable[Finding], decisive: bool) -> Verdict:
    findings = list(findings)
    verdict = worst(f.severity.verdict for f in findings)
    if not decisive and verdict.rank < Verdict.UNKNOWN.rank:
        return Verdict.UNKNOWN
    if verdict is Verdict.SAFE and any(f.code in UNPROVEN for f in findings):
        return Verdict.UNKNOWN
    return verdict
