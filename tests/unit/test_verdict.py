"""verdict_of(): the worst finding, blocked > unknown > warning > safe, and never safe unless MX and NS
answered."""

from __future__ import annotations

import itertools

import pytest

from dnscheck.models import Finding, Severity, Verdict, worst
from dnscheck.verdict import verdict_of


def f(severity: Severity) -> Finding:
    return Finding("X", severity)


B, U, W, N = Severity.BLOCKED, Severity.UNKNOWN, Severity.WARNING, Severity.INFO  # N: iNfo


@pytest.mark.parametrize(
    ("severities", "decisive", "expected"),
    [
        ((), True, Verdict.SAFE),
        ((), False, Verdict.UNKNOWN),
        ((N,), True, Verdict.SAFE),
        ((N, N), False, Verdict.UNKNOWN),
        ((W,), True, Verdict.WARNING),
        ((W,), False, Verdict.UNKNOWN),  # a warning is never enough when MX or NS did not answer
        ((W, N), True, Verdict.WARNING),
        ((U,), True, Verdict.UNKNOWN),
        ((U, W), True, Verdict.UNKNOWN),
        ((U,), False, Verdict.UNKNOWN),
        ((B,), True, Verdict.BLOCKED),
        ((B,), False, Verdict.BLOCKED),  # a known Microsoft 365 pointer outranks not knowing the rest
        ((B, U), True, Verdict.BLOCKED),
        ((U, B), False, Verdict.BLOCKED),
        ((N, W, U, B), True, Verdict.BLOCKED),
    ],
)
def test_ladder(severities: tuple[Severity, ...], decisive: bool, expected: Verdict) -> None:
    assert verdict_of([f(s) for s in severities], decisive) is expected


def test_order_does_not_matter_and_never_safe_without_an_answer() -> None:
    for n in range(4):
        for combo in itertools.product([B, U, W, N], repeat=n):
            results = {
                verdict_of([f(s) for s in perm], d)
                for perm in itertools.permutations(combo)
                for d in (True, False)
                if not d
            }
            assert Verdict.SAFE not in results
            assert Verdict.WARNING not in results
            assert (
                len({verdict_of([f(s) for s in perm], True) for perm in itertools.permutations(combo)}) == 1
            )


def test_a_generator_of_findings_is_accepted() -> None:
    assert verdict_of((f(s) for s in (W, N)), True) is Verdict.WARNING


def test_exit_codes_and_ranks() -> None:
    assert [v.exit_code for v in (Verdict.SAFE, Verdict.WARNING, Verdict.BLOCKED, Verdict.UNKNOWN)] == [
        0,
        1,
        2,
        3,
    ]
    ranked = sorted(Verdict, key=lambda v: v.rank)
    assert ranked == [Verdict.SAFE, Verdict.WARNING, Verdict.UNKNOWN, Verdict.BLOCKED]
    assert worst([]) is Verdict.SAFE
    assert worst([Verdict.UNKNOWN, Verdict.BLOCKED, Verdict.WARNING]) is Verdict.BLOCKED
    assert worst([Verdict.UNKNOWN, Verdict.WARNING]) is Verdict.UNKNOWN
