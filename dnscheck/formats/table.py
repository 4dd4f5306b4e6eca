"""The human report: a summary table (tabulate), then each domain's findings with what to do.

Everything that came from DNS or the input passes through `clean()` first. Colour only when asked (the CLI turns
it on for a TTY without NO_COLOR).
"""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from typing import Any

import click
from tabulate import tabulate

from dnscheck.clouds import cloud_name
from dnscheck.formats.base import Format, Summary
from dnscheck.i18n import N_, _, ngettext, word
from dnscheck.models import Finding, Result, Severity, by_severity, codes_worst_first
from dnscheck.text import clean

_COLOURS = {"safe": "green", "warning": "yellow", "blocked": "red", "unknown": "magenta", "info": "cyan"}
_INDENT = 2 + 8 + 1 + 18 + 1  # "  severity code               " before a message


_SHOWN = 3  # findings of one kind shown before the rest are summed up (e.g. every lookup failing at once)


def _groups(findings: list[Finding]) -> list[list[Finding]]:
    """Findings with the same code, severity and remediation, in first-seen order: one fix, said once. Failed
    lookups group by their reason (a machine without network fails every lookup the same way)."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        why = str(f.arguments.get("reason") or f.remediation) if f.code == "LOOKUP_FAILED" else f.remediation
        groups.setdefault((f.code, f.severity.value, why), []).append(f)
    return list(groups.values())


class TableFormat(Format):
    """The summary table needs every row before it can size its columns, so rows are kept, but only as four short
    strings; each domain's details are rendered at once and spooled (in memory, then on disk past a few MB), so a
    batch of 100k domains does not hold 100k results."""

    _SPOOL_MEMORY = 8 * 1024 * 1024
    runbook_ok = True

    def runbook(self, book: Any) -> None:
        from dnscheck.runbook.render import table

        table(book, self.out)

    def begin(self) -> None:
        self._rows: list[tuple[str, str, str, str]] = []
        # Closed in end(): they live for the whole report.
        self._details = tempfile.SpooledTemporaryFile(self._SPOOL_MEMORY, mode="w+", encoding="utf-8")  # noqa: SIM115
        self._explain = tempfile.SpooledTemporaryFile(self._SPOOL_MEMORY, mode="w+", encoding="utf-8")  # noqa: SIM115

    def result(self, r: Result) -> None:
        codes = clean(", ".join(codes_worst_first(r.findings))) or "-"
        if self.width:  # the other columns take about 45: keep the row within the terminal
            codes = "\n".join(textwrap.wrap(codes, max(20, self.width - 45), break_on_hyphens=False))
        self._rows.append(
            (clean(r.domain or r.input), r.verdict.value, cloud_name(r.cloud) if r.cloud else "-", codes)
        )
        if r.findings:
            self._details.write(self._detail(r))
        lines = r.explain
        if lines:
            self._explain.write("\n" + "\n".join(clean(line) for line in lines) + "\n")

    def _paint(self, text: str, key: str) -> str:
        text = word(text) if text == key else text  # a verdict or severity shown as the language says it
        return (
            click.style(text, fg=_COLOURS.get(key), bold=key in ("blocked", "unknown"))
            if self.color
            else text
        )

    def _detail(self, r: Result) -> str:
        out = [f"\n{clean(r.domain or repr(r.input))}: {self._paint(r.verdict.value, r.verdict.value)}\n"]
        for group in _groups(by_severity(r.findings)):
            f = group[0]
            w = _width()
            sev = self._paint(f.severity.value, f.severity.value) + " " * (w - len(word(f.severity.value)))
            out.append(f"  {sev} {f.code:<18} {self._wrap(clean(f.message))}\n")
            shown = len(group) if len(group) <= _SHOWN + 1 else _SHOWN
            for other in group[1:shown]:
                out.append(f"  {'':<{w}} {f.code:<18} {self._wrap(clean(other.message))}\n")
            if len(group) > shown:
                more = _("... and {n} more {code} ({severity}) like these (all in --format json)")
                more = more.format(n=len(group) - shown, code=f.code, severity=word(f.severity.value))
                out.append(f"  {'':<{w}} {'':<18} {self._wrap(more)}\n")
            if f.remediation:
                fix = _("fix: {remediation}").format(remediation=clean(f.remediation))
                out.append(f"  {'':<{w}} {'':<18} {self._wrap(fix)}\n")
        return "".join(out)

    def _wrap(self, text: str) -> str:
        """On a terminal, wrap at word boundaries under the message column; elsewhere one line per message."""
        if not self.width:
            return text
        indent = _INDENT - 8 + _width()  # the severity column is as wide as the language's longest word
        lines = textwrap.wrap(
            text, max(30, self.width - indent), break_on_hyphens=False, break_long_words=False
        )
        return ("\n" + " " * indent).join(lines)

    def end(self, summary: Summary) -> None:
        rows = [(d, self._paint(v, v), c, codes) for d, v, c, codes in self._rows]
        # disable_numparse: an input line is text; tabulate would print the input 1e5 as 100000.
        table = tabulate(rows, headers=[_(h) for h in _HEADERS], tablefmt="simple", disable_numparse=True)
        self.out.write(table)
        self.out.write("\n")
        for spool in (self._details, self._explain):
            spool.seek(0)
            shutil.copyfileobj(spool, self.out)
            spool.close()
        counts = ", ".join(
            _("{n} {verdict}").format(n=n, verdict=word(v)) for v, n in summary.by_verdict.items() if n
        )
        verdict = summary.worst.value
        line = ngettext(
            "{total} checked: {counts}. Overall: {verdict}",
            "{total} checked: {counts}. Overall: {verdict}",
            summary.total,
        )
        self.out.write(
            "\n"
            + line.format(
                total=summary.total, counts=counts or _("none"), verdict=self._paint(verdict, verdict)
            )
            + "\n"
        )


_HEADERS = (N_("DOMAIN"), N_("VERDICT"), N_("CLOUD"), N_("FINDINGS"))


def _width() -> int:
    """The severity column's width: the longest severity word in the user's language (8 in English)."""
    return max(8, *(len(word(s.value)) for s in Severity))
