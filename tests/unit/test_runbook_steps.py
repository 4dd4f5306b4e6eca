"""The six steps, built from hand-made check results and evidence: ownership by topic, live evidence, caches,
order, acknowledgements, the partner path, the tenant check. Pure: no DNS, no clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dnscheck.codes import CODES, Code, Topic, topic_of
from dnscheck.models import Finding, Record, Result, Severity, Verdict
from dnscheck.runbook.model import ACKABLE, DEPENDS, STEP_IDS, Ack, Evidence, Status
from dnscheck.runbook.policy import ARTICLE, Facts
from dnscheck.runbook.steps import OWNER, Context, build, owner_of

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LONG_AGO = "2026-02-01T00:00:00Z"
FACTS = Facts(cancel_date=date(2026, 3, 1), purchased=date(2025, 1, 1), licenses=10, expired=False)
D = "contoso.com"


def result(*findings: Finding, domain: str = D, verdict: Verdict | None = None) -> Result:
    worst = max((f.severity.verdict for f in findings), key=lambda v: v.rank, default=Verdict.SAFE)
    return Result(domain, domain, domain, verdict or worst, None, tuple(findings))


def evidence(domain: str = D, safe_after: str | None = LONG_AGO, reached: bool | None = True,
             verdict: str = "safe") -> Evidence:
    return Evidence(domain, True, "resolver 127.0.0.1:5300", "auto", "2026-03-01T12:00:00Z", verdict,
                    authoritative_reached=reached, changed_at=LONG_AGO, safe_after=safe_after,
                    changed_how="given")


def ctx(*results: Result, live: bool = True, tenant: bool = False, **kw: object) -> Context:
    ev = {r.domain or r.input: evidence(r.domain or r.input, **kw) for r in results}  # type: ignore[arg-type]
    return Context(NOW, live, ev, tenant)


def book(*results: Result, acks: dict[str, Ack] | None = None, facts: Facts = FACTS, **kw: object):  # type: ignore[no-untyped-def]
    live, tenant = bool(kw.pop("live", True)), bool(kw.pop("tenant", False))
    return build(list(results), facts, ARTICLE, acks, ctx(*results, live=live, tenant=tenant, **kw))


def statuses(b: object) -> dict[str, str]:
    return {s.id: s.status.value for s in b.steps}  # type: ignore[attr-defined]


def mk(code: str, severity: Severity | None = None, rtype: str = "MX") -> Finding:
    return Finding(code, severity or CODES[code].severity, (), Record(D, rtype, "x"))


ALL_ACKS = {s: Ack("2026-02-01", (D,)) for s in ACKABLE}

# Every code with every severity its row allows; LOOKUP_FAILED also for each record type it may be about.
CASES = [
    (code, sev, rtype)
    for code, row in CODES.items()
    for sev in (row.severity, *row.also)
    for rtype in (("MX", "NS", "TXT", "CNAME") if row.topic is Topic.RECORD else ("MX",))
]


def test_every_topic_has_an_owner() -> None:
    assert set(OWNER) == set(Topic)


@pytest.mark.parametrize(("code", "severity", "rtype"), CASES)
def test_every_code_and_severity_lands_in_a_step(code: str, severity: Severity, rtype: str) -> None:
    f = mk(code, severity, rtype)
    for acks in ({}, ALL_ACKS):
        b = book(result(f), acks=acks)
        owner = b.step(owner_of(f))
        assert any(i.finding is f for i in owner.items), (code, owner.id)
        shown = [s.id for s in b.steps if any(i.finding is f for i in s.items)]
        assert shown == [owner.id]
        if severity is Severity.BLOCKED:
            assert owner.status is not Status.DONE
            assert b.step("remove-domains").status not in (Status.MANUAL, Status.DONE)
            assert b.exit_code != 0
        if severity is Severity.UNKNOWN:
            assert owner.status is not Status.DONE and b.exit_code != 0


@pytest.mark.parametrize(("code", "severity", "rtype"), CASES)
def test_a_new_code_with_any_topic_cannot_fall_through(code: str, severity: Severity, rtype: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A code that does not exist yet (e.g. MX_TARGET_MISSING, DNSSEC_BOGUS), blocked, in every topic."""
    for topic in Topic:
        monkeypatch.setitem(CODES, "NEW_CODE", Code("NEW_CODE", Severity.BLOCKED, topic, "new"))
        f = mk("NEW_CODE", Severity.BLOCKED, rtype)
        b = book(result(f), acks=ALL_ACKS)
        assert b.step(owner_of(f)).status is Status.ACTION
        assert b.step("remove-domains").status not in (Status.MANUAL, Status.DONE)
        assert b.exit_code == 2


def test_topics_own_their_steps() -> None:
    assert owner_of(mk("MX_M365")) == "update-mx"
    assert owner_of(mk("NS_PARENT_M365", rtype="NS")) == "change-ns"
    assert owner_of(mk("SPF_M365", rtype="TXT")) == "remove-domains"
    assert owner_of(mk("LOOKUP_FAILED", Severity.UNKNOWN, "NS")) == "change-ns"
    assert topic_of(mk("CACHE_PENDING")) is Topic.TIMING


def test_clean_live_and_past_safe_after_is_ready() -> None:
    b = book(result())
    assert statuses(b) == {"update-mx": "done", "change-ns": "done", "save-data": "manual",
                           "remove-domains": "manual", "cancel-subscription": "waiting",
                           "uninstall-office": "waiting"}
    assert b.exit_code == 1 and b.ackable_now() == ["save-data", "remove-domains"]
    assert b.next_due() is not None and b.next_due().id == "save-data"  # type: ignore[union-attr]


def test_every_ack_in_order_is_exit_0() -> None:
    b = book(result(), acks=ALL_ACKS)
    assert set(statuses(b).values()) == {"done"} and b.exit_code == 0


def test_a_planned_zone_never_completes_a_step() -> None:
    b = book(result(), acks=ALL_ACKS, live=False)
    assert statuses(b)["update-mx"] == "planned" and statuses(b)["change-ns"] == "planned"
    assert "publish it" in str(b.step("update-mx").detail[0])
    assert statuses(b)["remove-domains"] == "waiting" and b.exit_code == 2
    assert statuses(b)["cancel-subscription"] == "waiting"


def test_a_change_newer_than_safe_after_is_waiting() -> None:
    later = (NOW + timedelta(minutes=59)).isoformat().replace("+00:00", "Z")
    b = book(result(), acks=ALL_ACKS, safe_after=later)
    mx = b.step("update-mx")
    assert mx.status is Status.WAITING and mx.ready_at == later and later in str(mx.detail[0])
    assert statuses(b)["remove-domains"] == "waiting" and b.exit_code == 1


def test_a_cache_pending_finding_also_waits() -> None:
    f = Finding("CACHE_PENDING", Severity.WARNING, (("safe_after", "2026-03-01T13:00:00Z"), ("seconds", 3600)))
    b = book(result(f), safe_after=None)
    assert b.step("update-mx").status is Status.WAITING
    assert b.step("update-mx").ready_at == "2026-03-01T13:00:00Z"


def test_authoritative_servers_not_reached_is_unknown_and_so_is_what_follows() -> None:
    b = book(result(), acks=ALL_ACKS, reached=False)
    s = statuses(b)
    assert s["update-mx"] == "unknown" and s["change-ns"] == "unknown"
    assert s["remove-domains"] == "unknown" and b.exit_code == 3
    assert s["save-data"] == "done"  # depends on nothing
    assert s["cancel-subscription"] == "unknown" and s["uninstall-office"] == "unknown"


def test_no_evidence_is_unknown() -> None:
    b = build([result()], FACTS, ARTICLE, ALL_ACKS, Context(NOW, True, {}))
    assert statuses(b)["update-mx"] == "unknown" and b.exit_code == 3


def test_unknown_verdict_makes_the_dns_steps_unknown() -> None:
    f = Finding("LOOKUP_FAILED", Severity.UNKNOWN, (("reason", "timeout"),), Record(D, "TXT", ""))
    b = book(result(f), acks=ALL_ACKS)
    assert statuses(b)["update-mx"] == "unknown" and statuses(b)["change-ns"] == "unknown"
    assert b.exit_code == 3


def test_out_of_order_acks_do_not_count_unless_forced() -> None:
    blocked = result(mk("MX_M365"))
    b = book(blocked, acks={"cancel-subscription": Ack("2026-02-01", (D,)),
                            "uninstall-office": Ack("2026-02-01", (D,))})
    assert statuses(b)["cancel-subscription"] == "waiting" and statuses(b)["uninstall-office"] == "waiting"
    forced = Ack("2026-02-01", (D,), ("save-data (manual)", "remove-domains (waiting)"))
    b = book(blocked, acks={"cancel-subscription": forced})
    cancel = b.step("cancel-subscription")
    assert cancel.status is Status.DONE and "--force" in str(cancel.detail[0])
    assert statuses(b)["update-mx"] == "action-required" and b.exit_code == 2


def test_remove_domains_ack_counts_only_for_the_domains_it_named() -> None:
    a, f = result(domain="a.com"), result(domain="f.com")
    b = book(a, f, acks={**ALL_ACKS, "remove-domains": Ack("2026-02-01", ("a.com",))})
    assert statuses(b)["remove-domains"] == "manual"
    assert "f.com" in " ".join(str(x) for x in b.step("remove-domains").detail)


def test_dependencies_follow_the_article() -> None:
    assert list(DEPENDS) == list(STEP_IDS)
    assert DEPENDS["uninstall-office"] == ("cancel-subscription",)


def test_partner_given_changes_the_cancel_step() -> None:
    b = book(result(), acks={"save-data": ALL_ACKS["save-data"], "remove-domains": ALL_ACKS["remove-domains"]},
             facts=Facts(cancel_date=date(2026, 3, 1), purchased=date(2025, 1, 1), licenses=10, partner="GoDaddy"))
    cancel = b.step("cancel-subscription")
    assert cancel.status is Status.MANUAL
    text = " ".join(str(x) for x in (*cancel.detail, *cancel.advice))
    assert "GoDaddy" in text and "does not apply" in text and "Risk" in text
    assert "Billing > Subscriptions" not in text


@pytest.mark.parametrize("topic", [Topic.TENANT, Topic.INPUT])
def test_partner_managed_finding_changes_the_cancel_step(topic: Topic, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CODES, "M365_PARTNER_MANAGED",
                        Code("M365_PARTNER_MANAGED", Severity.INFO, topic, "partner"))
    f = Finding("M365_PARTNER_MANAGED", Severity.INFO, (("partner", "GoDaddy"),))
    b = book(result(f))
    assert b.partner == "GoDaddy"
    assert "does not apply" in " ".join(str(x) for x in b.step("cancel-subscription").detail)
    assert statuses(b)["remove-domains"] == "manual"  # an info code does not turn on the tenant evidence


def test_no_partner_code_is_a_no_op() -> None:
    assert book(result()).partner is None


def test_tenant_check_makes_remove_domains_evidence_based(monkeypatch: pytest.MonkeyPatch) -> None:
    for code, sev in (("TENANT_PRESENT", Severity.WARNING), ("TENANT_ABSENT", Severity.INFO)):
        monkeypatch.setitem(CODES, code, Code(code, sev, Topic.TENANT, code))
    present = Finding("TENANT_PRESENT", Severity.WARNING, (("tenant", "t1"),))
    absent = Finding("TENANT_ABSENT", Severity.INFO)
    b = book(result(present), tenant=True)
    assert statuses(b)["remove-domains"] == "manual"
    b = book(result(), tenant=True)  # no answer from the tenant check: never absent
    assert statuses(b)["remove-domains"] == "manual"
    b = book(result(present), acks=ALL_ACKS, tenant=True)  # the admin says removed; the tenant check disagrees
    assert statuses(b)["remove-domains"] == "action-required" and b.exit_code == 2
    b = book(result(absent), tenant=True)  # no ack needed: the evidence says so
    assert statuses(b)["remove-domains"] == "done"
    b = book(result(absent), tenant=True, safe_after="2099-01-01T00:00:00Z")  # ... but never before safe_after
    assert statuses(b)["remove-domains"] == "waiting"


def test_resolver_mode_says_what_was_not_checked() -> None:
    b = book(result(), reached=None)
    assert statuses(b)["change-ns"] == "done"
    assert "not checked directly" in " ".join(str(x) for x in b.step("change-ns").detail)
    assert "not checked directly" not in " ".join(str(x) for x in book(result()).step("change-ns").detail)


@pytest.mark.parametrize("code", ["DNSSEC_DS_UNSIGNED", "DNSSEC_DS_MISMATCH", "DNSSEC_BOGUS"])
def test_a_ds_the_keys_do_not_match_blocks_change_ns_with_the_ds_ttl_to_wait(code: str) -> None:
    import dataclasses

    from dnscheck.models import Ttls

    f = Finding(code, Severity.BLOCKED, (("zone", D), ("servers", "ns1.newdns.net"), ("ds", "-"), ("keys", "-"),
                                         ("name", D), ("resolver", "-"), ("ede", "-"), ("type", "MX"),
                                         ("reason", "-")), None)
    r = dataclasses.replace(result(f), ttl=Ttls(300, 3600, 300, 300, ds=86400))
    step = book(r).step("change-ns")
    text = " ".join(str(x) for x in step.detail)
    assert step.status is Status.ACTION and [i.finding.code for i in step.items] == [code]
    assert "Remove the DS at the registrar" in text and f"{D}: 86400 s" in text, text
    assert "Microsoft 365 still serves" not in text, text
