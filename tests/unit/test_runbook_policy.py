"""The channel rules: every rule of both policies, the boundaries, the fee warning and the data dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dnscheck.runbook.policy import (
    ARTICLE,
    CURRENT,
    ONLINE,
    PHONE,
    POLICIES,
    REDUCE_LICENCES_THEN_CANCEL,
    TURN_OFF_RECURRING_BILLING,
    Facts,
    decide,
)

CANCEL = date(2026, 3, 1)


def facts(days_ago: int | None = 400, licenses: int | None = 10, **kw: object) -> Facts:
    purchased = None if days_ago is None else CANCEL - timedelta(days=days_ago)
    kw.setdefault("expired", False)
    return Facts(cancel_date=CANCEL, purchased=purchased, licenses=licenses, **kw)  # type: ignore[arg-type]


# (case, facts, rule that decides, channel, refund)
ARTICLE_CASES = [
    ("product key, else online", facts(days_ago=3, licenses=5, product_key=True), "product-key", PHONE,
     False),
    ("product key beats >25", facts(licenses=100, product_key=True), "product-key", PHONE, False),
    ("26 licences, bought 3 days ago", facts(days_ago=3, licenses=26), "over-25-licences", PHONE, None),
    ("26 licences, old", facts(licenses=26), "over-25-licences", PHONE, None),
    ("25 licences, bought today", facts(days_ago=0, licenses=25), "bought-within-30-days", ONLINE, None),
    ("25 licences, day 30", facts(days_ago=30, licenses=25), "bought-within-30-days", ONLINE, None),
    ("25 licences, day 31", facts(days_ago=31, licenses=25), "any-other", PHONE, None),
    ("exactly 25, old, not expired", facts(licenses=25), "any-other", PHONE, None),
    ("24 licences, old, not expired", facts(licenses=24), "active-under-25-licences", ONLINE, None),
    ("24 licences, day 31, not expired", facts(days_ago=31, licenses=24), "active-under-25-licences", ONLINE,
     None),
    ("24 licences, old, expired", facts(licenses=24, expired=True), "any-other", PHONE, None),
    ("expired but bought within 30 days", facts(days_ago=10, licenses=24, expired=True),
     "bought-within-30-days", ONLINE, None),
    ("0 licences, not expired", facts(licenses=0), "active-under-25-licences", ONLINE, None),
    ("licences unknown", facts(licenses=None), "any-other", PHONE, None),
    ("purchase date unknown, 10 licences", facts(days_ago=None), "active-under-25-licences", ONLINE, None),
    ("purchase date and expiry unknown", facts(days_ago=None, expired=None), "any-other", PHONE, None),
    ("expiry unknown, old", facts(expired=None), "any-other", PHONE, None),
    ("bought after the cancellation date", facts(days_ago=-1, licenses=25), "any-other", PHONE, None),
]


@pytest.mark.parametrize(("case", "f", "rule", "channel", "refund"), ARTICLE_CASES,
                         ids=[c[0] for c in ARTICLE_CASES])
def test_article_rules(case: str, f: Facts, rule: str, channel: str, refund: bool | None) -> None:
    d = decide(ARTICLE, f)
    assert (d.rule, d.channel, d.refund) == (rule, channel, refund)
    assert d.policy == "article"
    assert d.reasons and d.reasons[0]


def test_every_article_rule_is_reachable() -> None:
    assert {c[2] for c in ARTICLE_CASES} == {r.id for r in ARTICLE.rules}


def test_day_30_is_within_and_day_31_is_not() -> None:
    assert facts(days_ago=30).days_since_purchase == 30
    assert decide(ARTICLE, facts(days_ago=30, licenses=25)).channel == ONLINE
    assert decide(ARTICLE, facts(days_ago=31, licenses=25)).channel == PHONE


def test_last_day_of_window_is_flagged() -> None:
    last = decide(ARTICLE, facts(days_ago=30, licenses=25))
    assert any("last day of the 30-day window" in str(r) for r in last.reasons)
    before = decide(ARTICLE, facts(days_ago=29, licenses=25))
    assert not any("last day" in str(r) for r in before.reasons)


def test_reasons_carry_the_facts() -> None:
    d = decide(ARTICLE, facts(licenses=40))
    assert "(40)" in str(d.reasons[0])
    d = decide(ARTICLE, facts(days_ago=12, licenses=25))
    assert "12 days" in str(d.reasons[0])
    d = decide(ARTICLE, facts(licenses=None))
    assert "Any other subscription" in str(d.reasons[0])


@pytest.mark.parametrize("policy", list(POLICIES.values()), ids=list(POLICIES))
def test_last_rule_always_holds(policy: object) -> None:
    p = POLICIES[policy.name]  # type: ignore[attr-defined]
    empty = Facts(cancel_date=CANCEL)
    assert p.rules[-1].when(empty)
    assert decide(p, empty).rule == p.rules[-1].id
    assert len({r.id for r in p.rules}) == len(p.rules)


# Fee warning: only when cancelling before the end date, and never for an expired subscription.

def test_fee_warning_before_end_date() -> None:
    d = decide(ARTICLE, facts(expires=CANCEL + timedelta(days=1)))
    assert d.fee_warning
    assert any("before the end date 2026-03-02" in str(r) for r in d.reasons)


def test_no_fee_warning_on_the_end_date_or_after() -> None:
    assert not decide(ARTICLE, facts(expires=CANCEL)).fee_warning
    assert not decide(ARTICLE, facts(expires=CANCEL - timedelta(days=1), expired=True)).fee_warning


def test_no_fee_warning_when_expired() -> None:
    assert not decide(ARTICLE, facts(expired=True)).fee_warning


def test_fee_warning_when_end_date_unknown() -> None:
    d = decide(ARTICLE, facts(expires=None))
    assert d.fee_warning
    assert any("--expires" in str(r) for r in d.reasons)


def test_fee_warning_applies_to_phone_too() -> None:
    d = decide(ARTICLE, facts(licenses=30, expires=CANCEL + timedelta(days=100)))
    assert d.channel == PHONE and d.fee_warning


def test_retention_days() -> None:
    assert (ARTICLE.may_delete_after_days, ARTICLE.deleted_by_days) == (90, 180)
    assert (CURRENT.may_delete_after_days, CURRENT.deleted_by_days) == (30, 180)


# The current policy.

CURRENT_CASES = [
    ("product key", facts(product_key=True, billing="mca", days_ago=1), "product-key", PHONE, False,
     "cancel"),
    ("mca day 0", facts(billing="mca", days_ago=0), "mca-within-7-days", ONLINE, True, "cancel"),
    ("mca day 7", facts(billing="mca", days_ago=7), "mca-within-7-days", ONLINE, True, "cancel"),
    ("mca day 8", facts(billing="mca", days_ago=8), "mca-after-7-days", ONLINE, False,
     TURN_OFF_RECURRING_BILLING),
    ("mca, 100 licences, day 8", facts(billing="mca", days_ago=8, licenses=100), "mca-after-7-days", ONLINE,
     False, TURN_OFF_RECURRING_BILLING),
    ("mosa 25", facts(billing="mosa", licenses=25), "mosa-up-to-25-licences", ONLINE, True, "cancel"),
    ("mosa 24", facts(billing="mosa", licenses=24), "mosa-up-to-25-licences", ONLINE, True, "cancel"),
    ("mosa 26", facts(billing="mosa", licenses=26), "mosa-over-25-licences", ONLINE, True,
     REDUCE_LICENCES_THEN_CANCEL),
    ("mosa, licences unknown", facts(billing="mosa", licenses=None), "any-other", PHONE, None, "cancel"),
    ("billing unknown", facts(), "any-other", PHONE, None, "cancel"),
]


@pytest.mark.parametrize(("case", "f", "rule", "channel", "refund", "action"), CURRENT_CASES,
                         ids=[c[0] for c in CURRENT_CASES])
def test_current_rules(case: str, f: Facts, rule: str, channel: str, refund: bool | None,
                       action: str) -> None:
    d = decide(CURRENT, f)
    assert (d.rule, d.channel, d.refund, d.action) == (rule, channel, refund, action)


def test_every_current_rule_is_reachable() -> None:
    assert {c[2] for c in CURRENT_CASES} == {r.id for r in CURRENT.rules}


def test_turning_off_recurring_billing_has_no_early_fee() -> None:
    d = decide(CURRENT, facts(billing="mca", days_ago=8, expires=CANCEL + timedelta(days=200)))
    assert not d.fee_warning
    d = decide(CURRENT, facts(billing="mca", days_ago=2, expires=CANCEL + timedelta(days=200)))
    assert d.fee_warning


def test_decision_as_dict() -> None:
    d = decide(ARTICLE, facts(product_key=True)).as_dict()
    assert d["channel"] == "phone" and d["refund"] is False
    assert set(d) >= {"channel", "refund", "fee_warning", "reasons"}
