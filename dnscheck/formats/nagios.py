"""Nagios / Icinga plugin output, after the monitoring-plugins development guidelines.

    DNSCHECK CRITICAL - 3 domains, 1 blocked: contoso.com | domains=3;;;0 safe=2;;;0 ... time=0.412s;;;0
    contoso.com: blocked - MX_M365, SPF_M365
      blocked MX_M365: MX 0 contoso-com.mail.protection.outlook.com is Exchange Online (worldwide).

The status maps from the worst verdict: safe OK, warning WARNING, blocked CRITICAL, unknown UNKNOWN, which
are also dnscheck's exit codes 0, 1, 2 and 3. The first line is the summary with performance data; the long
output after it gives one line per domain that is not safe, then one per finding. Nothing from DNS or the
input reaches the output unescaped (`clean`), and `|` (the performance-data separator) never appears outside
the performance data.
"""

from __future__ import annotations

from dnscheck.formats.base import Format, Summary
from dnscheck.i18n import _, ngettext, word
from dnscheck.models import Result, Verdict, by_severity, codes_worst_first
from dnscheck.text import clean

STATUS = {
    Verdict.SAFE: "OK",
    Verdict.WARNING: "WARNING",
    Verdict.BLOCKED: "CRITICAL",
    Verdict.UNKNOWN: "UNKNOWN",
}
NAMES_IN_SUMMARY = 5  # the first line stays short: the rest is in the long output
LONG_OUTPUT_DOMAINS = 200  # the long output names this many domains and counts the rest


def text(value: str) -> str:
    """Safe for a plugin line: no control characters, no `|`."""
    return clean(value).replace("|", "/")


class NagiosFormat(Format):
    def begin(self) -> None:
        # Only results that are not safe are kept (bounded), plus counts: the output waits for the summary.
        self._bad: list[Result] = []
        self._more = 0

    def result(self, result: Result) -> None:
        if result.verdict is Verdict.SAFE:
            return
        if len(self._bad) < LONG_OUTPUT_DOMAINS:
            self._bad.append(result)
        else:
            self._more += 1

    def end(self, summary: Summary) -> None:
        self.out.write(f"DNSCHECK {STATUS[summary.worst]} - {self._summary(summary)} | {perfdata(summary)}\n")
        for r in sorted(self._bad, key=lambda r: -r.verdict.rank):
            codes = ", ".join(codes_worst_first(r.findings)) or "-"
            self.out.write(f"{text(r.domain or r.input)}: {word(r.verdict.value)} - {text(codes)}\n")
            for f in by_severity(r.findings):
                self.out.write(f"  {word(f.severity.value)} {f.code}: {text(f.message)}\n")
        if self._more:
            more = _("... and {n} more domains not safe (use --format csv or json for all)")
            self.out.write(more.format(n=self._more) + "\n")

    def _summary(self, s: Summary) -> str:
        if not s.total:
            return _("no domains checked")
        if s.total == 1:
            r = self._bad[0] if self._bad else None
            if r is None:
                return _("1 domain safe: nothing points at Microsoft 365")
            codes = ", ".join(codes_worst_first(r.findings))
            return text(f"{r.domain or r.input} {word(r.verdict.value)}" + (f" ({codes})" if codes else ""))
        parts = []
        for v in (Verdict.BLOCKED, Verdict.UNKNOWN, Verdict.WARNING):
            n = s.by_verdict[v.value]
            if not n:
                continue
            names = [r.domain or r.input for r in self._bad if r.verdict is v][:NAMES_IN_SUMMARY]
            more = " " + _("and {n} more").format(n=n - len(names)) if n > len(names) else ""
            part = _("{n} {verdict}: {domains}").format(
                n=n, verdict=word(v.value), domains=", ".join(names) + more
            )
            parts.append(text(part))
        if not parts:
            return _("all {n} domains safe").format(n=s.total)
        return ngettext("{n} domain, {verdicts}", "{n} domains, {verdicts}", s.total).format(
            n=s.total, verdicts="; ".join(parts)
        )


def perfdata(s: Summary) -> str:
    """label=value[UOM];warn;crit;min;max, space separated. Thresholds: any warning / blocked domain."""
    items = [f"domains={s.total};;;0"]
    for v in (Verdict.SAFE, Verdict.WARNING, Verdict.BLOCKED, Verdict.UNKNOWN):
        thresholds = {Verdict.WARNING: "0;", Verdict.BLOCKED: ";0"}.get(v, ";")
        items.append(f"{v.value}={s.by_verdict[v.value]};{thresholds};0")
    items.append(f"time={s.elapsed_s:.3f}s;;;0")
    return " ".join(items)
