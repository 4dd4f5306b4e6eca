"""Rendering: the JSON shape of the issue, Markdown for a change ticket, hostile DNS data kept harmless."""

from __future__ import annotations

import io
import json
import re
from datetime import date

import dataclasses
from datetime import UTC, datetime

from dnscheck.formats import get_format
from dnscheck.models import Finding, Record, Result, Severity, Verdict
from dnscheck.runbook.model import ACKABLE, Ack, Evidence, Said
from dnscheck.runbook.policy import ARTICLE, Facts
from dnscheck.runbook.steps import Context, build

FACTS = Facts(cancel_date=date(2026, 3, 1), purchased=date(2025, 1, 1), licenses=10, expired=False,
              expires=date(2026, 12, 31))
HOSTILE = "v=spf1 include:spf.protection.outlook.com | **bold** `tick` \x1b[31mred\x1b[0m <b>x</b> -all"


def blocked() -> Result:
    findings = (
        Finding("MX_M365", Severity.BLOCKED, (("value", "0 contoso-com.mail.protection.outlook.com"),
                                              ("service", "Exchange Online")),
                Record("contoso.com", "MX", "0 contoso-com.mail.protection.outlook.com"), "worldwide", "mx"),
        Finding("SPF_M365", Severity.WARNING, (("name", "contoso.com"), ("type", "TXT"), ("value", HOSTILE),
                                               ("service", "Exchange Online")),
                Record("contoso.com", "TXT", HOSTILE), "worldwide", "name"),
    )
    return Result("contoso.com", "contoso.com", "contoso.com", Verdict.BLOCKED, "worldwide", findings)


EVIDENCE = Evidence("contoso.com", True, "resolver 127.0.0.1:5300", "auto", "2026-03-01T12:00:00Z", "safe",
                    (Said("resolver 127.0.0.1:5300", ("10 mx1.newmail.net",), ("ns1.newdns.net",)),
                     Said("ns1.newdns.net (127.0.0.9)", ("10 mx1.newmail.net",), ("ns1.newdns.net",),
                          authoritative=True)),
                    True, "2026-02-01T00:00:00Z", "2026-02-01T01:00:00Z", "given")


def rendered(fmt: str, results: list[Result] | None = None, acks: dict[str, Ack] | None = None,
             changes: list[dict[str, object]] | None = None) -> str:
    out = io.StringIO()
    ctx = Context(datetime(2026, 3, 1, 12, tzinfo=UTC), True, {"contoso.com": EVIDENCE})
    book = build(results or [blocked()], FACTS, ARTICLE, acks, ctx, "resolver 127.0.0.1:5300")
    book = dataclasses.replace(book, changes=tuple(changes or ()), mode="auto")
    get_format(fmt)(out).runbook(book)
    return out.getvalue()


def test_json_shape() -> None:
    doc = json.loads(rendered("json"))
    assert doc["schema"] == "dnscheck-runbook-report/2"
    assert [s["id"] for s in doc["steps"]] == ["update-mx", "change-ns", "save-data", "remove-domains",
                                               "cancel-subscription", "uninstall-office"]
    for s in doc["steps"]:
        assert {"id", "status", "detail"} <= set(s)
        assert s["status"] in ("done", "action-required", "planned", "manual", "waiting", "unknown")
        assert all(set(m) == {"id", "args"} for m in s["messages"])
    c = doc["cancellation"]
    assert c["channel"] == "online" and c["refund"] is None and c["fee_warning"] is True
    assert isinstance(c["reasons"], list) and c["reasons"]
    assert doc["data_retention"] == {"may_delete_from": "2026-05-30", "deleted_by": "2026-08-28"}
    assert doc["domains"][0]["domain"] == "contoso.com" and doc["domains"][0]["verdict"] == "blocked"
    assert doc["steps"][0]["records"][0]["record"]["type"] == "MX"
    assert doc["exit_code"] == 2
    assert doc["source"] == "resolver 127.0.0.1:5300" and doc["live"] is True
    assert doc["steps"][0]["evidence"][0]["servers"][1]["authoritative"] is True


def test_json_keeps_hostile_text_escaped() -> None:
    text = rendered("json")
    assert "\x1b" not in text
    assert json.loads(text)["domains"][0]["findings"][1]["record"]["value"] == HOSTILE


def test_markdown_checklist() -> None:
    acks = {s: Ack("2026-02-01", ("contoso.com",)) for s in ACKABLE}
    safe = Result("contoso.com", "contoso.com", "contoso.com", Verdict.SAFE, None, ())
    md = rendered("markdown", [safe], acks)
    assert md.startswith("# Microsoft 365 subscription cancellation: contoso.com")
    assert md.count("- [x] **") == 6
    assert "## Cancellation" in md and "## Customer data" in md and "## Domains" in md
    assert "| contoso.com | safe | - |" in md


def test_markdown_open_steps() -> None:
    md = rendered("markdown")
    title = "**1. Update the MX record and the other DNS records**"
    assert f"- [ ] {title} (`update-mx`): **action-required**" in md
    assert "May be deleted from **2026-05-30**" in md
    assert "global admin or a billing admin" in md


def test_markdown_escapes_dns_data() -> None:
    md = rendered("markdown")
    assert "\x1b" not in md
    line = next(x for x in md.splitlines() if "spf.protection" in x)
    # No live Markdown from DNS data: pipes, emphasis, code and HTML are escaped.
    assert re.search(r"(?<!\\)[|*`<]", line.split(" -> ")[0].lstrip(" -")) is None
    assert "\\|" in line and "\\*\\*bold\\*\\*" in line and "\\<b\\>" in line


def test_table() -> None:
    text = rendered("table")
    assert "\x1b" not in text and "\\x1b" in text
    assert "update-mx" in text and "action-required" in text
    assert "Cancel online" in text and "may apply" in text
    assert "2026-05-30" in text and "2026-08-28" in text
    assert text.rstrip().endswith("(exit 2)")


def test_changes_since_last_run() -> None:
    change = [{"domain": "contoso.com", "was": "safe", "now": "blocked",
               "checked_at": "2026-02-01T10:00:00Z"}]
    assert "contoso.com: safe -> blocked" in rendered("table", changes=change)
    assert "## Since the last run" in rendered("markdown", changes=change)
    assert json.loads(rendered("json", changes=change))["changes"] == change


def test_markdown_states_the_evidence_per_step() -> None:
    safe = Result("contoso.com", "contoso.com", "contoso.com", Verdict.SAFE, None, ())
    md = rendered("markdown", [safe]).replace("\\", "")
    assert "Evidence: contoso.com: safe, checked 2026-03-01T12:00:00Z through resolver 127.0.0.1:5300" in md
    assert "ns1.newdns.net (127.0.0.9) said MX 10 mx1.newmail.net; NS ns1.newdns.net" in md
    assert "caches clear after 2026-02-01T01:00:00Z" in md


def test_formats_that_do_not_suit_say_so() -> None:
    from dnscheck.formats import FORMATS

    suits = {name for name in FORMATS if get_format(name).runbook_ok}
    assert suits == {"table", "json", "markdown"}


def test_markdown_format_for_check_escapes_and_lists_findings() -> None:
    from dnscheck.formats.base import Summary

    out = io.StringIO()
    fmt = get_format("markdown")(out)
    fmt.begin()
    summary = Summary()
    r = blocked()
    fmt.result(r)
    summary.add(r)
    fmt.end(summary)
    text = out.getvalue()
    assert text.startswith("| Domain | Verdict | Findings |")
    assert "| contoso.com | blocked | MX\\_M365, SPF\\_M365 |" in text
    assert "\x1b" not in text and "**blocked**" in text


def test_words_are_rendered_at_output_time_in_the_current_language(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import gettext

    from dnscheck import i18n

    class Marked(gettext.NullTranslations):
        def gettext(self, message: str) -> str:
            return "@" + message

    safe = Result("contoso.com", "contoso.com", "contoso.com", Verdict.SAFE, None, ())
    ctx = Context(datetime(2026, 3, 1, 12, tzinfo=UTC), True, {"contoso.com": EVIDENCE})
    book = build([safe], FACTS, ARTICLE, {}, ctx, "resolver 127.0.0.1:5300")  # built in English...
    monkeypatch.setattr(i18n, "_translation", Marked())
    out = io.StringIO()
    get_format("table")(out).runbook(book)  # ... shown in another language
    text = out.getvalue()
    assert "@Users lose access to their Microsoft 365 data" in text
    assert "@The subscription has not expired" in text  # the policy's reasons too
    assert "@Remove the domains from Microsoft 365" in text  # titles
