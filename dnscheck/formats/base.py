"""The interface every output format implements, and the run summary handed to it at the end."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, TextIO

from dnscheck.models import Result, Verdict, run_verdict, worst


@dataclass
class Summary:
    total: int = 0
    by_verdict: dict[str, int] = field(default_factory=lambda: {v.value: 0 for v in Verdict})
    by_code: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    finished_at: float = 0.0  # Unix time
    resolvers: list[dict[str, Any]] = field(
        default_factory=list
    )  # each resolver's counts (dnscheck.collect.paced)
    diagnostics: list[str] = field(default_factory=list)  # what the run says about them, as on stderr
    _worst: Verdict = Verdict.SAFE

    def add(self, result: Result) -> None:
        self.total += 1
        self.by_verdict[result.verdict.value] += 1
        for f in result.findings:
            self.by_code[f.code] = self.by_code.get(f.code, 0) + 1
        self._worst = worst((self._worst, result.verdict))

    @property
    def worst(self) -> Verdict:
        """The run's verdict, and so its exit code: the worst result's, UNKNOWN for an empty run."""
        return self._worst if self.total else run_verdict(())


class Format(ABC):
    ordered = True  # False: results may arrive in completion order
    runbook_ok = False  # True: it can also render a `dnscheck runbook` report (see `runbook`)

    def __init__(self, out: TextIO, color: bool = False, width: int | None = None) -> None:
        self.out = out
        self.color = color
        self.width = width  # a terminal's columns, to wrap human text to; None: do not wrap

    def begin(self) -> None:  # noqa: B027 - optional hook
        pass

    @abstractmethod
    def result(self, result: Result) -> None: ...

    def end(self, summary: Summary) -> None:  # noqa: B027 - optional hook
        pass

    def runbook(self, book: Any) -> None:
        """Render a runbook report (dnscheck.runbook.model.Runbook); only formats with `runbook_ok` do."""
        raise NotImplementedError(f"{type(self).__name__} does not render a runbook report")
