"""CSV for spreadsheets: a header row, then one row per finding; a result without findings gets one row.

Rows are written as results arrive, in input order. Every cell that came from DNS or from the input is made
safe for a spreadsheet: control characters become visible escapes (`clean`), and a cell that a spreadsheet
would read as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'` (OWASP's advice
against CSV injection).
"""

from __future__ import annotations

import csv

from dnscheck.formats.base import Format
from dnscheck.models import Result
from dnscheck.text import clean

COLUMNS = (
    "input",
    "domain",
    "registered_domain",
    "verdict",
    "cloud",
    "code",
    "severity",
    "message",
    "remediation",
    "record_name",
    "record_type",
    "record_value",
    "record_ttl",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """One cell: None is empty, text is cleaned and neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(value)
    text = clean(str(value))
    return "'" + text if text.startswith(_FORMULA) else text


class CsvFormat(Format):
    def begin(self) -> None:
        self._writer = csv.writer(self.out, lineterminator="\r\n")  # RFC 4180 line ends
        self._writer.writerow(COLUMNS)

    def result(self, result: Result) -> None:
        head = [result.input, result.domain, result.registered_domain, result.verdict.value, result.cloud]
        if not result.findings:
            self._writer.writerow([cell(v) for v in head] + [""] * (len(COLUMNS) - len(head)))
            return
        for f in result.findings:
            rec = f.record
            row = [
                *head,
                f.code,
                f.severity.value,
                f.message,
                f.remediation,
                rec.name if rec else None,
                rec.type if rec else None,
                rec.value if rec else None,
                rec.ttl if rec else None,
            ]
            self._writer.writerow([cell(v) for v in row])
