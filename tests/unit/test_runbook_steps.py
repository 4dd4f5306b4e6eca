"""The six steps, built from hand-made check results: statuses, acknowledgements, exit codes."""

from __future__ import annotations

from datetime import date

import pytest

from dnscheck.codes import CODES
from dnscheck.models import Finding, Record, Result, Severity, Verdict
from dnscheck.runbook.policy import ARTICLE, CURRENT, Facts
from dnscheck.runbook.steps import (
    ACKABLE,
    MX_AT_M365,
    NS_AT_M365,
    STEP_IDS,
    Ack,
    Status,
    build,
)

CANCEL = date(2026, 3, 1)
FACTS = Facts(cancel_date=CANCEL, purchased=date(2025, 1, 1), licenses=10, expired=False)
RECORDS = {
    "MX_M365": ("MX", "0 contoso-com.mail.protection.outlook.com"),
    "MX_CNAME_M365": ("CNAME", "contoso-com.mail.protection.outlook.com"),
    "MX_INCONSISTENT": ("MX", "0 contoso-com.mail.protection.outlook.com"),
    "NS_M365": ("NS", "ns1.bdm.microsoftonline.com"),
    "NS_PARENT_M365": ("NS", "ns1.bdm.microsoftonline.com"),
    "NS_CHILD_STALE": ("NS", "ns2.bdm.microsoftonline.com"),
    "SPF_M365": ("TXT", "v=spf1 include:spf.protection.outlook.com -all"),
    "AUTODISCOVER_M365": ("CNAME", "autodiscover.outlook.com"),
    "MX_GATEWAY": ("MX", "10 mx.gateway.example"),
}


def finding(code: str, domain: str, severity: Severity | None = None) -> Finding:
    rtype, value = RECORDS.get(code, ("TXT", ""))
    record = Record(domain, rtype, value)
    return Finding(code, severity or CODES[code].severity, (), record)


def result(domain: str, verdict: str, *codes: str, unknown: str = "") -> Result:
    findings = [finding(c, domain) for c in codes]
    if unknown:
        failed = Record(domain, "MX", "")
        findings.append(Finding("LOOKUP_FAILED", Severity.UNKNOWN, (("reason", unknown),), failed, None, "crashed"))
    return Result(domain, domain, domain, Verdict(verdict), None, tuple(findings))


SAFE = result("contoso.com", "safe")
M365 = result("contoso.com", "blocked", "MX_M365", "NS_M365", "SPF_M365", "AUTODISCOVER_M365")
ALL_ACKS = {s: Ack("2026-02-01", ("contoso.com",)) for s in ACKABLE}


def statuses(book: object) -> dict[str, str]:
    return {s.id: s.status.value for s in book.steps}  # type: ignore[attr-defined]


def test_steps_in_article_order() -> None:
    book = build([SAFE], FACTS, ARTICLE)
    assert [s.id for s in book.steps] == list(STEP_IDS)
    assert [s.number for s in book.steps] == [1, 2, 3, 4, 5, 6]


def test_everything_still_at_m365() -> None:
    book = build([M365], FACTS, ARTICLE)
    assert statuses(book) == {
        "update-mx": "action-required", "change-ns": "action-required", "save-data": "manual",
        "remove-domains": "action-required", "cancel-subscription": "waiting", "uninstall-office": "manual",
    }
    assert book.exit_code == 2
    mx = book.step("update-mx")
    assert [(i.code, i.record.value) for i in mx.items] == [("MX_M365", RECORDS["MX_M365"][1])]
    assert mx.items[0].change == "Change the MX record at the DNS host to the new mail provider's servers."
    assert "change-ns" in mx.detail and "no effect" in mx.detail


def test_all_clear_and_all_acknowledged_is_exit_0() -> None:
    book = build([SAFE], FACTS, ARTICLE, ALL_ACKS)
    assert set(statuses(book).values()) == {"done"}
    assert book.exit_code == 0


def test_all_clear_without_acks_is_exit_1() -> None:
    book = build([SAFE], FACTS, ARTICLE)
    assert statuses(book) == {
        "update-mx": "done", "change-ns": "done", "save-data": "manual", "remove-domains": "manual",
        "cancel-subscription": "waiting", "uninstall-office": "manual",
    }
    assert book.exit_code == 1


@pytest.mark.parametrize("code", sorted(MX_AT_M365))
def test_every_mx_code_requires_update_mx(code: str) -> None:
    book = build([result("contoso.com", "blocked", code)], FACTS, ARTICLE)
    assert book.step("update-mx").status is Status.ACTION
    assert book.step("change-ns").status is Status.DONE
    assert book.step("remove-domains").status is Status.ACTION


@pytest.mark.parametrize("code", sorted(NS_AT_M365))
def test_every_ns_code_requires_change_ns(code: str) -> None:
    verdict = "warning" if CODES[code].severity is Severity.WARNING else "blocked"
    book = build([result("contoso.com", verdict, code)], FACTS, ARTICLE)
    ns = book.step("change-ns")
    assert ns.status is Status.ACTION
    assert ns.items[0].code == code
    assert book.step("update-mx").status is Status.DONE
    assert book.step("cancel-subscription").status is Status.WAITING
    assert book.exit_code == 2


def test_ns_codes_say_where() -> None:
    book = build([result("contoso.com", "blocked", "NS_PARENT_M365")], FACTS, ARTICLE)
    assert "registrar" in book.step("change-ns").detail
    book = build([result("contoso.com", "warning", "NS_CHILD_STALE")], FACTS, ARTICLE)
    assert "zone's own NS records" in book.step("change-ns").detail
    # A stale child NS set is change-ns's business, not a leftover for remove-domains.
    assert book.step("remove-domains").status is Status.MANUAL
    assert not book.step("remove-domains").items


@pytest.mark.parametrize("code", ["NS_MISMATCH", "NS_LAME", "NS_UNREACHABLE"])
def test_delegation_warnings_go_with_change_ns(code: str) -> None:
    book = build([result("contoso.com", "warning", code)], FACTS, ARTICLE)
    ns = book.step("change-ns")
    assert ns.status is Status.DONE  # not Microsoft 365's doing: a note, not an action
    assert [i.code for i in ns.items] == [code] and "Delegation warnings" in ns.detail
    assert not book.step("remove-domains").items
    both = result("contoso.com", "warning", "NS_CHILD_STALE", code)
    stale = build([both], FACTS, ARTICLE).step("change-ns")
    assert stale.status is Status.ACTION and [i.code for i in stale.items] == ["NS_CHILD_STALE", code]


def test_change_ns_gives_the_order() -> None:
    advice = " ".join(build([M365], FACTS, ARTICLE).step("change-ns").advice)
    assert advice.index("every other record") < advice.index("point the NS records")
    assert "no effect" in advice


def test_update_mx_advice() -> None:
    advice = " ".join(build([SAFE], FACTS, ARTICLE).step("update-mx").advice)
    assert "cutover date" in advice and "new mail provider" in advice
    assert "day MX changes" in advice and "remaining steps" in advice


def test_unknown_check() -> None:
    book = build([result("contoso.com", "unknown", unknown="MX lookup timed out")], FACTS, ARTICLE)
    assert book.step("update-mx").status is Status.UNKNOWN
    assert book.step("change-ns").status is Status.UNKNOWN
    assert "MX lookup timed out" in book.step("update-mx").detail
    assert book.step("remove-domains").status is Status.ACTION
    assert book.exit_code == 3


def test_exit_code_follows_the_step_statuses() -> None:
    # MX and NS are known to need action (contoso); fabrikam's unknown verdict is told in the details.
    book = build([M365, result("fabrikam.com", "unknown", unknown="SERVFAIL")], FACTS, ARTICLE)
    assert book.step("update-mx").status is Status.ACTION
    assert "fabrikam.com" in book.step("update-mx").detail
    assert book.exit_code == 2
    # Only MX is known: whether NS must move cannot be told, and an unknown step outranks an action.
    mx_only = result("contoso.com", "blocked", "MX_M365")
    book = build([mx_only, result("fabrikam.com", "unknown", unknown="SERVFAIL")], FACTS, ARTICLE)
    assert book.step("update-mx").status is Status.ACTION
    assert book.step("change-ns").status is Status.UNKNOWN
    assert book.exit_code == 3


def test_one_blocked_domain_among_safe_ones() -> None:
    book = build([result("fabrikam.com", "safe"), M365], FACTS, ARTICLE)
    mx = book.step("update-mx")
    assert mx.status is Status.ACTION
    assert {i.domain for i in mx.items} == {"contoso.com"}
    assert "contoso.com is blocked" in book.step("remove-domains").detail


def test_remove_domains_lists_leftovers_when_ready() -> None:
    book = build([result("contoso.com", "warning", "SPF_M365", "AUTODISCOVER_M365")], FACTS, ARTICLE)
    step = book.step("remove-domains")
    assert step.status is Status.MANUAL
    assert [i.code for i in step.items] == ["SPF_M365", "AUTODISCOVER_M365"]
    assert step.items[0].record.value.startswith("v=spf1")
    assert "leftover" in step.detail


def test_gateway_mx_is_done_with_a_note() -> None:
    book = build([result("contoso.com", "warning", "MX_GATEWAY")], FACTS, ARTICLE)
    step = book.step("update-mx")
    assert step.status is Status.DONE
    assert "gateway" in step.detail and step.items[0].code == "MX_GATEWAY"
    assert not book.step("remove-domains").items  # reported once, by update-mx


def test_save_data_dates() -> None:
    book = build([SAFE], FACTS, ARTICLE)
    assert book.retention.as_dict() == {"may_delete_from": "2026-05-30", "deleted_by": "2026-08-28"}
    detail = book.step("save-data").detail
    assert "OneDrive for Business" in detail and "SharePoint Online" in detail
    assert "2026-05-30" in detail and "2026-08-28" in detail
    assert build([SAFE], FACTS, CURRENT).retention.may_delete_from == date(2026, 3, 31)


def test_cancel_waits_for_steps_1_to_4() -> None:
    acks = {"save-data": ALL_ACKS["save-data"]}
    book = build([SAFE], FACTS, ARTICLE, acks)
    cancel = book.step("cancel-subscription")
    assert cancel.status is Status.WAITING
    assert "remove-domains (manual)" in cancel.detail and "save-data" not in cancel.detail
    acks["remove-domains"] = ALL_ACKS["remove-domains"]
    cancel = build([SAFE], FACTS, ARTICLE, acks).step("cancel-subscription")
    assert cancel.status is Status.MANUAL


def test_cancel_says_who_and_how() -> None:
    cancel = build([SAFE], FACTS, ARTICLE).step("cancel-subscription")
    assert any("global admin or a billing admin" in a for a in cancel.advice)
    assert any("Cancel subscription" in a for a in cancel.advice)  # online under the article, 10 licences
    thirty = Facts(CANCEL, date(2025, 1, 1), 30, expired=False)
    phone = build([SAFE], thirty, ARTICLE).step("cancel-subscription")
    assert any("Call Microsoft support" in a for a in phone.advice)
    assert "by phone" in phone.detail


def test_cancel_acknowledged_while_waiting_stays_waiting() -> None:
    book = build([M365], FACTS, ARTICLE, {"cancel-subscription": ALL_ACKS["cancel-subscription"]})
    cancel = book.step("cancel-subscription")
    assert cancel.status is Status.WAITING
    assert "Acknowledged on 2026-02-01" in cancel.detail


def test_remove_domains_ack_does_not_override_the_check() -> None:
    book = build([M365], FACTS, ARTICLE, {"remove-domains": ALL_ACKS["remove-domains"]})
    step = book.step("remove-domains")
    assert step.status is Status.ACTION
    assert "check disagrees" in step.detail


def test_remove_domains_ack_covers_only_its_domains() -> None:
    results = [SAFE, result("fabrikam.com", "safe")]
    book = build(results, FACTS, ARTICLE, {"remove-domains": Ack("2026-02-01", ("contoso.com",))})
    step = book.step("remove-domains")
    assert step.status is Status.MANUAL
    assert "not for fabrikam.com" in step.detail
    both = Ack("2026-02-01", ("contoso.com", "fabrikam.com"))
    step = build(results, FACTS, ARTICLE, {"remove-domains": both}).step("remove-domains")
    assert step.status is Status.DONE


def test_uninstall_office_text() -> None:
    step = build([SAFE], FACTS, ARTICLE).step("uninstall-office")
    assert step.status is Status.MANUAL
    assert "read and print" in step.detail and "Unlicensed Product" in step.detail
    assert "reduced-functionality" in step.detail


def test_only_manual_steps_can_be_acknowledged() -> None:
    with pytest.raises(ValueError, match="update-mx"):
        build([SAFE], FACTS, ARTICLE, {"update-mx": Ack("2026-02-01")})


def test_as_dict_shape() -> None:
    doc = build([M365], FACTS, ARTICLE).as_dict()
    assert set(doc) >= {"steps", "cancellation", "data_retention", "domains"}
    assert {"id", "status", "detail"} <= set(doc["steps"][0])
    assert doc["cancellation"]["channel"] in ("online", "phone")
    assert doc["domains"][0]["verdict"] == "blocked"
    assert doc["exit_code"] == 2
