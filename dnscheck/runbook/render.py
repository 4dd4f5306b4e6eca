"""The runbook as a terminal table, as JSON, or as Markdown for a change ticket (called by dnscheck/formats/).

Words come from message ids rendered here, at output time. Everything that came from DNS or the input passes
through `clean()` (and, for Markdown, `md()`) first.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from typing import TextIO

from dnscheck.i18n import N_, _, when, word
from dnscheck.models import Result
from dnscheck.runbook.model import STATUS_WORDS, Evidence, Item, Runbook, Status, Step, name_of
from dnscheck.runbook.texts import REFUND
from dnscheck.text import clean, md

NEXT = {
    0: N_("Every step is done."),
    1: N_(
        "Manual steps remain (do them, then --ack STEP or --interactive), or steps wait on caches or on "
        "earlier steps."
    ),
    2: N_(
        "An action is required: see the steps marked action-required or planned, then run the runbook again."
    ),
    3: N_("Unknown: the check could not tell for some domain. Re-run it before going further."),
}
SOURCE_LIVE = N_("live DNS: {via}, mode {mode}")
SOURCE_PLANNED = N_("the planned zone in {via} (not live DNS: no step can be completed from it)")
SAID = N_("{server} said MX {mx}; NS {ns}")
SAID_ERROR = N_("{server} could not tell: {error}")
CHECKED = N_("{domain}: {verdict}, checked {checked_at} through {via}")
CHANGED = N_("changed at {changed_at} ({how}); caches clear after {safe_after}")
HOW = {
    "given": N_("--changed-at"),
    "watch": N_("from the watch state"),
    "seen": N_("seen changing by this runbook"),
    "first-seen": N_("first seen by this runbook; give --changed-at if it changed earlier"),
}
CHANNELS = {"online": N_("online"), "phone": N_("phone")}  # the decision's channel -> its word
EXIT = N_("(exit {code})")
ACKED_ON = N_("Acknowledged on {on}")
EVIDENCE = N_("Evidence: {line}")
LAST_CHECKED = N_("{domain}: {was} -> {now} (last checked {checked_at})")
# Markdown: the facts table and the section titles.
CANCELLATION_DATE, BOUGHT, LICENCES = N_("Cancellation date"), N_("Bought"), N_("Licences assigned")
PARTNER, POLICY, CHECKED_AGAINST, STATUS = N_("Partner"), N_("Policy"), N_("Checked against"), N_("Status")
STEPS, CANCELLATION, CHANNEL, REFUND_WORD = N_("Steps"), N_("Cancellation"), N_("Channel"), N_("Refund")
CUSTOMER_DATA, MAY_DELETE, DELETED_BY = N_("Customer data"), N_("May be deleted from"), N_("Deleted by")
DOMAINS, DOMAIN, VERDICT, FINDINGS = N_("Domains"), N_("Domain"), N_("Verdict"), N_("Findings")
SINCE = N_("Since the last run")
TITLE = N_("Microsoft 365 subscription cancellation")
WIDTH = 100
Write = Callable[[str], object]


def as_json(book: Runbook, out: TextIO) -> None:
    out.write(json.dumps(book.as_dict(), indent=2) + "\n")


def source_text(book: Runbook) -> str:
    template = SOURCE_LIVE if book.live else SOURCE_PLANNED
    from dnscheck.reasons import translate

    return _(template).format(via=translate(book.source) or "-", mode=book.mode or "-")


def status_word(status: Status) -> str:
    return _(STATUS_WORDS[status])


def _exit(book: Runbook) -> str:
    return _(EXIT).format(code=book.exit_code)


def _codes(result: Result) -> str:
    return ", ".join(sorted({f.code for f in result.findings}))


def _domains(book: Runbook) -> str:
    return ", ".join(name_of(r) for r in book.results)


def _item(i: Item) -> str:
    f = i.finding
    head = f"{i.domain} {f.code}: {f.message}"
    return head + (f" -> {f.remediation}" if f.remediation else "")


def _said(e: Evidence) -> list[str]:
    from dnscheck.reasons import translate

    via = translate(e.via)
    out = [
        _(CHECKED).format(domain=e.domain, verdict=word(e.verdict), checked_at=when(e.checked_at), via=via)
    ]
    for s in e.said:
        if s.error and not (s.mx or s.ns):
            out.append(_(SAID_ERROR).format(server=translate(s.server), error=translate(s.error)))
        else:
            mx, ns = ", ".join(s.mx) or "-", ", ".join(s.ns) or "-"
            out.append(_(SAID).format(server=translate(s.server), mx=mx, ns=ns))
    if e.changed_at:
        how = _(HOW.get(e.changed_how, e.changed_how))
        out.append(
            _(CHANGED).format(changed_at=when(e.changed_at), how=how, safe_after=when(e.safe_after or "-"))
        )
    return out


def _wrap(text: str, indent: str) -> str:
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


def table(book: Runbook, out: TextIO) -> None:
    from tabulate import tabulate

    w = out.write
    w(_("Microsoft 365 cancellation runbook: {domains}").format(domains=clean(_domains(book))) + "\n")
    w(
        _("Cancellation date {date}; policy {policy}; checked against {source}.").format(
            date=when(book.facts.cancel_date.isoformat()),
            policy=book.decision.policy,
            source=clean(source_text(book)),
        )
        + "\n\n"
    )
    rows = [
        [s.number, s.id, status_word(s.status), when(s.ready_at) if s.ready_at else ""] for s in book.steps
    ]
    # disable_numparse: tabulate would re-read text that looks like a number (a domain "1e5" as 100000)
    w(
        tabulate(
            rows, headers=["#", _("STEP"), _("STATUS"), _("UNTIL")], tablefmt="simple", disable_numparse=True
        )
    )
    w("\n")
    for s in book.steps:
        _table_step(s, w)
    _table_tail(book, w)


def _table_step(s: Step, w: Write) -> None:
    write = w
    write(f"\n{s.number}. {s.title} [{status_word(s.status)}]\n")
    for text in s.detail:
        write(_wrap(clean(str(text)), "   "))
    for i in s.items:
        write(_wrap(f"- {clean(_item(i))}", "   "))
    if s.status is not Status.DONE:
        for a in s.advice:
            write(_wrap(f"* {a}", "   "))


def _table_tail(book: Runbook, w: Write) -> None:
    from tabulate import tabulate

    write = w
    d, r = book.decision, book.retention
    for reason in d.reasons:
        write(_wrap(f"- {reason}", "  "))
    write(
        _("Customer data: may be deleted from {start}, deleted by {end}.").format(
            start=when(r.may_delete_from.isoformat()), end=when(r.deleted_by.isoformat())
        )
        + "\n"
    )
    rows = [[clean(name_of(x)), word(x.verdict.value), clean(_codes(x)) or "-"] for x in book.results]
    headers = [_("DOMAIN"), _("VERDICT"), _("FINDINGS")]
    write("\n" + tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True) + "\n")
    if book.changes:
        lines = "".join(f"  {clean(line)}\n" for line in _change_lines(book))
        write("\n" + _("Since the last run:") + "\n" + lines)
    write(f"\n{_(NEXT[book.exit_code])} {_exit(book)}\n")


def _change_lines(book: Runbook) -> list[str]:
    return [
        _(LAST_CHECKED).format(
            domain=c["domain"],
            was=word(c["was"]),
            now=word(c["now"]),
            checked_at=when(c.get("checked_at") or "-"),
        )
        for c in book.changes
    ]


def _md_step(s: Step) -> list[str]:
    box = "x" if s.status is Status.DONE else " "
    lines = [f"- [{box}] **{s.number}. {s.title}** (`{s.id}`): **{status_word(s.status)}**  "]
    lines += [f"  {md(str(text))}" for text in s.detail]
    lines += [f"  - {md(_item(i))}" for i in s.items]
    if s.ack is not None:
        lines.append(
            "  - "
            + _(ACKED_ON).format(on=when(s.ack.on))
            + (f" (--force: {md(', '.join(s.ack.forced_over))})" if s.ack.forced else "")
        )
    for e in s.evidence:
        lines += ["  - " + _(EVIDENCE).format(line=md(line)) for line in _said(e)]
    lines += [f"  - {md(str(a))}" for a in s.advice]
    return lines


def markdown(book: Runbook, out: TextIO) -> None:
    d, r, f = book.decision, book.retention, book.facts
    lines = [
        f"# {_(TITLE)}: {md(_domains(book))}",
        "",
        "| | |",
        "|---|---|",
        f"| {_(CANCELLATION_DATE)} | {when(f.cancel_date.isoformat())} |",
        f"| {_(BOUGHT)} | {when(f.purchased.isoformat()) if f.purchased else '-'} |",
        f"| {_(LICENCES)} | {f.licenses if f.licenses is not None else '-'} |",
        f"| {_(PARTNER)} | {md(book.partner or '-')} |",
        f"| {_(POLICY)} | {d.policy} |",
        f"| {_(CHECKED_AGAINST)} | {md(source_text(book))} |",
        f"| {_(STATUS)} | {md(_(NEXT[book.exit_code]))} {_exit(book)} |",
        "",
        f"## {_(STEPS)}",
        "",
    ]
    for s in book.steps:
        lines += _md_step(s)
    lines += [
        "",
        f"## {_(CANCELLATION)}",
        "",
        f"- {_(CHANNEL)}: **{_(CHANNELS.get(d.channel, d.channel))}** ({d.action})",
        f"- {_(REFUND_WORD)}: {_(REFUND[d.refund])}",
        *[f"- {md(str(reason))}" for reason in d.reasons],
        "",
        f"## {_(CUSTOMER_DATA)}",
        "",
        f"- {_(MAY_DELETE)} **{when(r.may_delete_from.isoformat())}**",
        f"- {_(DELETED_BY)} **{when(r.deleted_by.isoformat())}**",
        "",
        f"## {_(DOMAINS)}",
        "",
        f"| {_(DOMAIN)} | {_(VERDICT)} | {_(FINDINGS)} |",
        "|---|---|---|",
        *[f"| {md(name_of(x))} | {word(x.verdict.value)} | {md(_codes(x)) or '-'} |" for x in book.results],
    ]
    if book.changes:
        lines += ["", f"## {_(SINCE)}", "", *[f"- {md(line)}" for line in _change_lines(book)]]
    out.write("\n".join(lines) + "\n")
