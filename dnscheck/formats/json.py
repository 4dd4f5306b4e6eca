"""JSON reports: `{"schema": "dnscheck/1", "results": [...], "summary": {...}}`, always this shape, and JSON Lines.

Both stream: a result is written as soon as it is handed over, so memory does not grow with the batch.
"""

from __future__ import annotations

import json
from typing import Any

from dnscheck.formats.base import Format, Summary
from dnscheck.i18n import language
from dnscheck.models import Result

SCHEMA = "dnscheck/1"


def summary_dict(s: Summary) -> dict[str, Any]:
    out: dict[str, Any] = {
        "total": s.total,
        "verdicts": s.by_verdict,
        "worst": s.worst.value,
        "exit_code": s.worst.exit_code,
        "elapsed_s": round(s.elapsed_s, 3),
        "lang": language(),  # the language of every `message` and `remediation` (nothing else changes with it)
    }
    if s.resolvers:
        out["resolvers"] = s.resolvers
        out["diagnostics"] = s.diagnostics
    return out


class JsonFormat(Format):
    runbook_ok = True

    def runbook(self, book: Any) -> None:
        from dnscheck.runbook.render import as_json

        as_json(book, self.out)

    def begin(self) -> None:
        self.out.write(f'{{"schema": "{SCHEMA}", "results": [')
        self._first = True

    def result(self, result: Result) -> None:
        self.out.write("\n" if self._first else ",\n")
        self._first = False
        self.out.write(json.dumps(result.as_dict()))

    def end(self, summary: Summary) -> None:
        self.out.write('\n], "summary": ' + json.dumps(summary_dict(summary)) + "}\n")


class JsonLinesFormat(Format):
    ordered = False

    def result(self, result: Result) -> None:
        self.out.write(json.dumps({"schema": SCHEMA, **result.as_dict()}) + "\n")
        self.out.flush()
