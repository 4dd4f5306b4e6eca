"""The interface every output format implements, and the run summary handed to it at the end."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TextIO

from dnscheck.models import Result, Verdict


@dataclass
class Summary:
    total: int = 0
    by_verdict: dict[str, int] = field(default_factory=lambda: {v.value: 0 for v in Verdict})
    by_code: dict[str, int] = field(default_factory=dict)
    worst: Verdict = Verdict.SAFE
    elapsed_s: float = 0.0
    finished_at: float = 0.0  # Unix time

    def add(self, result: Result) -> None:
        self.total += 1
        self.by_verdict[result.verdict.value] += 1
        for f in result.findings:
            self.by_code[f.code] = self.by_code.get(f.code, 0) + 1
        if result.verdict.rank > self.worst.rank:
            self.worst = result.verdict


class Format(ABC):
    ordered = True  # False: results may arrive in completion order

    def __init__(self, out: TextIO, color: bool = False) -> None:
        self.out = out
        self.color = color

    def begin(self) -> None:  # noqa: B027 - optional hook
        pass

    @abstractmethod
    def result(self, result: Result) -> None: ...

    def end(self, summary: Summary) -> None:  # noqa: B027 - optional hook
        pass
