"""Markdown: a report to paste into a change ticket. For `check`, a table of domains and each finding with what to
do; for `runbook`, the steps as a checklist with the evidence behind each (see dnscheck/runbook/render.py).

Everything that came from DNS or the input is escaped (`md()`), so a hostile TXT record cannot inject Markdown or
terminal escapes.
"""

from __future__ import annotations

from typing import Any

from dnscheck.formats.base import Format, Summary
from dnscheck.i18n import _
from dnscheck.models import Result, by_severity, run_verdict
from dnscheck.text import clean, md  # noqa: F401 - md re-exported


class MarkdownFormat(Format):
    runbook_ok = True

    def begin(self) -> None:
        self._details: list[str] = []
        self.out.write(f"| {_('Domain')} | {_('Verdict')} | {_('Findings')} |\n|---|---|---|\n")

    def result(self, r: Result) -> None:
        name = md(r.domain or r.input)
        codes = ", ".join(dict.fromkeys(f.code for f in by_severity(r.findings))) or "-"
        self.out.write(f"| {name} | {r.verdict.value} | {md(codes)} |\n")
        for f in by_severity(r.findings):
            fix = f" {_('Fix')}: {md(f.remediation)}" if f.remediation else ""
            self._details.append(f"- **{name}** `{f.code}` ({f.severity.value}): {md(f.message)}{fix}")

    def end(self, summary: Summary) -> None:
        if self._details:
            self.out.write("\n" + "\n".join(self._details) + "\n")
        verdict = summary.worst if summary.total else run_verdict(())
        self.out.write(f"\n{_('Worst verdict')}: **{verdict.value}** ({summary.total})\n")

    def runbook(self, book: Any) -> None:
        from dnscheck.runbook.render import markdown

        markdown(book, self.out)
