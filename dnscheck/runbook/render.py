"""The runbook as a terminal table, as JSON, or as Markdown to paste into a change ticket.

Everything that came from DNS or the input passes through `clean()` (and, for Markdown, `_md()`) first.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Sequence
from typing import Any, TextIO

from dnscheck.formats.text import clean
from dnscheck.models import Result
from dnscheck.runbook.steps import Item, Runbook, Status, Step, name_of

NEXT = {
    0: "Every step is done.",
    1: "Only manual steps remain: do them, then acknowledge each with --ack STEP (or --interactive).",
    2: "An action is required: see the steps marked action-required, then run the runbook again.",
    3: "Unknown: the check could not tell for some domain. Re-run it before going further.",
}
REFUND = {True: "yes", False: "no", None: "not stated"}
WIDTH = 100
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def render(book: Runbook, fmt: str, out: TextIO, changes: Sequence[dict[str, Any]] = ()) -> None:
    {"table": table, "json": as_json, "markdown": markdown}[fmt](book, out, changes)


def as_json(book: Runbook, out: TextIO, changes: Sequence[dict[str, Any]] = ()) -> None:
    doc = book.as_dict()
    doc["changes"] = list(changes)
    out.write(json.dumps(doc, indent=2) + "\n")


def _codes(result: Result) -> str:
    return ", ".join(sorted({f.code for f in result.findings}))


def _domains(book: Runbook) -> str:
    return ", ".join(clean(name_of(r)) for r in book.results)


def _item(i: Item) -> str:
    rec = (
        f"{i.record.name} {i.record.type} {i.record.value}"
        if i.record and i.record.value
        else f"{i.domain}: {i.message}"
    )
    return rec + (f" -> {i.change}" if i.change else "")


def _wrap(text: str, indent: str) -> str:
    """One paragraph, wrapped; a bullet ("- ", "* ") hangs."""
    hang = "  " if text[:2] in ("- ", "* ") else ""
    return (
        textwrap.fill(
            text,
            WIDTH,
            initial_indent=indent,
            subsequent_indent=indent + hang,
            break_long_words=False,
            break_on_hyphens=False,
        )
        + "\n"
    )


def _change_lines(changes: Sequence[dict[str, Any]]) -> list[str]:
    return [
        f"{c['domain']}: {c['was']} -> {c['now']} (last checked {c.get('checked_at') or 'earlier'})"
        for c in changes
    ]


def table(book: Runbook, out: TextIO, changes: Sequence[dict[str, Any]] = ()) -> None:
    from tabulate import tabulate

    w = out.write
    d = book.decision
    w(f"Microsoft 365 cancellation runbook: {_domains(book)}\n")
    w(
        f"Cancellation date {book.facts.cancel_date.isoformat()}; policy {d.policy}; checked against "
        f"{clean(book.source or 'DNS')}.\n\n"
    )
    w(
        tabulate(
            [[s.number, s.id, s.status.value] for s in book.steps],
            headers=["#", "STEP", "STATUS"],
            tablefmt="simple",
        )
        + "\n"
    )
    for s in book.steps:
        w(f"\n{s.number}. {s.title} [{s.status.value}]\n")
        w(_wrap(clean(s.detail), "   "))
        for i in s.items:
            w(_wrap(f"- {clean(_item(i))}", "   "))
        if s.status is not Status.DONE:
            for a in s.advice:
                w(_wrap(f"* {a}", "   "))
    w(
        f"\nCancellation: {'by phone' if d.channel == 'phone' else 'online'} ({d.action}); "
        f"refund: {REFUND[d.refund]}; early-cancellation fees: {'may apply' if d.fee_warning else 'no'}.\n"
    )
    for reason in d.reasons:
        w(_wrap(f"- {reason}", "  "))
    r = book.retention
    w(
        f"Customer data: may be deleted from {r.may_delete_from.isoformat()}, "
        f"deleted by {r.deleted_by.isoformat()}.\n"
    )
    rows = [[clean(name_of(x)), x.verdict.value, clean(_codes(x)) or "-"] for x in book.results]
    w("\n" + tabulate(rows, headers=["DOMAIN", "VERDICT", "FINDINGS"], tablefmt="simple") + "\n")
    if changes:
        w("\nSince the last run:\n" + "".join(f"  {clean(line)}\n" for line in _change_lines(changes)))
    w(f"\n{NEXT[book.exit_code]} (exit {book.exit_code})\n")


def _md(text: str) -> str:
    """DNS data and input, safe inside Markdown text and table cells."""
    return _MD_SPECIAL.sub(r"\\\1", clean(text)).replace("\n", " ")


def _md_step(s: Step) -> list[str]:
    box = "x" if s.status is Status.DONE else " "
    lines = [f"- [{box}] **{s.number}. {s.title}** (`{s.id}`): **{s.status.value}**  ", f"  {_md(s.detail)}"]
    lines += [f"  - {_md(_item(i))}" for i in s.items]
    lines += [f"  - {a}" for a in s.advice]
    return lines


def markdown(book: Runbook, out: TextIO, changes: Sequence[dict[str, Any]] = ()) -> None:
    d, r, f = book.decision, book.retention, book.facts
    lines = [
        f"# Microsoft 365 subscription cancellation: {_md(_domains(book))}",
        "",
        "| | |",
        "|---|---|",
        f"| Cancellation date | {f.cancel_date.isoformat()} |",
        f"| Bought | {f.purchased.isoformat() if f.purchased else 'unknown'} |",
        f"| Licences assigned | {f.licenses if f.licenses is not None else 'unknown'} |",
        f"| Product key | {'yes' if f.product_key else 'no'} |",
        f"| End date | {f.expires.isoformat() if f.expires else 'not given'}"
        f"{' (expired)' if f.expired else ''} |",
        f"| Policy | {d.policy} |",
        f"| Checked against | {_md(book.source or 'DNS')} |",
        f"| Status | {_md(NEXT[book.exit_code])} (exit {book.exit_code}) |",
        "",
        "## Steps",
        "",
    ]
    for s in book.steps:
        lines += _md_step(s)
    lines += [
        "",
        "## Cancellation",
        "",
        f"- Channel: **{d.channel}** ({d.action})",
        f"- Refund: {REFUND[d.refund]}",
        f"- Early-cancellation fees: {'may apply' if d.fee_warning else 'no'}",
        *[f"- {reason}" for reason in d.reasons],
        "",
        "## Customer data",
        "",
        f"- May be deleted from **{r.may_delete_from.isoformat()}**",
        f"- Deleted by **{r.deleted_by.isoformat()}**",
        "",
        "## Domains",
        "",
        "| Domain | Verdict | Findings |",
        "|---|---|---|",
        *[f"| {_md(name_of(x))} | {x.verdict.value} | {_md(_codes(x)) or '-'} |" for x in book.results],
    ]
    if changes:
        lines += ["", "## Since the last run", "", *[f"- {_md(line)}" for line in _change_lines(changes)]]
    out.write("\n".join(lines) + "\n")
