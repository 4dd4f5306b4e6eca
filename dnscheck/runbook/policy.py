"""How to cancel: the channel rules, as data. Pure: no I/O, no clock (the cancellation date is a fact).

A policy is an ordered list of rules; the first rule whose condition holds decides. Each rule carries the
text that explains it, taken from its source. The last rule of every policy always holds: there is always a
decision.

- `ARTICLE` (the default): the rules of Microsoft's support article "Cancel your Office 365 for business
  subscription" (support.microsoft.com, ca. 2016), in the order it implies; restated in docs/runbook.md.
- `CURRENT`: Microsoft Learn's rules as of 2024-2025 ("Cancel your Microsoft business subscription",
  learn.microsoft.com/microsoft-365/commerce/subscriptions/cancel-your-subscription): MCA billing
  accounts get a prorated refund only within 7 days of start or renewal, after which recurring billing can
  only be turned off; MOSA accounts cancel online with 25 licences or fewer.

Day counting: "within the last N days" compares calendar dates, from the purchase date to the cancellation
date. Day 0 is the purchase day; day N is still within, day N+1 is not. A purchase date after the cancellation
date matches no window (the command refuses it as a usage error before it gets here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dnscheck.i18n import N_
from dnscheck.runbook.model import Text, t

ONLINE = "online"
PHONE = "phone"

# What to do in the admin center, beyond "cancel".
CANCEL = "cancel"
TURN_OFF_RECURRING_BILLING = "turn-off-recurring-billing"
REDUCE_LICENCES_THEN_CANCEL = "reduce-licences-then-cancel"


@dataclass(frozen=True)
class Facts:
    """What the admin told us about the subscription. None means not known."""

    cancel_date: date
    purchased: date | None = None  # bought, or (for MCA under the current policy) last renewed
    licenses: int | None = None  # licences assigned to users
    product_key: bool = False
    expires: date | None = None  # the subscription's end date
    expired: bool | None = None
    billing: str | None = None  # billing account type: "mca" or "mosa" (current policy only)
    partner: str | None = None  # bought through a partner (e.g. GoDaddy): the partner cancels it

    @property
    def days_since_purchase(self) -> int | None:
        if self.purchased is None or self.purchased > self.cancel_date:
            return None
        return (self.cancel_date - self.purchased).days

    def as_dict(self) -> dict[str, Any]:
        return {
            "purchased": _iso(self.purchased),
            "days_since_purchase": self.days_since_purchase,
            "licenses": self.licenses,
            "product_key": self.product_key,
            "expires": _iso(self.expires),
            "expired": self.expired,
            "billing": self.billing,
            "partner": self.partner,
            "cancel_date": self.cancel_date.isoformat(),
        }

    def _text(self) -> dict[str, Any]:
        """The facts as arguments of the reason templates (unknown ones as words, rendered later)."""
        days, unknown = self.days_since_purchase, t(N_("an unknown number of"))
        return {
            "days": unknown if days is None else days,
            "licenses": unknown if self.licenses is None else self.licenses,
            "purchased": _iso(self.purchased) or t(N_("an unknown date")),
        }


@dataclass(frozen=True)
class Outcome:
    channel: str  # ONLINE or PHONE
    refund: bool | None = None  # None: the source does not say
    action: str = CANCEL
    early_fee: bool = True  # False when nothing ends before its term (turning off recurring billing)


Condition = Callable[[Facts], bool]


@dataclass(frozen=True)
class Rule:
    id: str
    when: Condition  # must be False when a fact it needs is unknown
    outcome: Outcome
    reason: str  # str.format template over Facts._text(): {days}, {licenses}, {purchased}
    window: int | None = None  # the purchase window (days) this rule tests, to flag its last day


@dataclass(frozen=True)
class Policy:
    name: str
    title: str
    rules: tuple[Rule, ...]
    may_delete_after_days: int  # customer data may be deleted from cancellation + this
    deleted_by_days: int  # ... and is deleted by cancellation + this
    early_fee_text: str
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Decision:
    rule: str
    channel: str
    refund: bool | None
    action: str
    fee_warning: bool
    reasons: tuple[Text, ...]  # message ids + arguments, rendered when shown
    policy: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "refund": self.refund,
            "fee_warning": self.fee_warning,
            "reasons": [str(r) for r in self.reasons],
            "action": self.action,
            "rule": self.rule,
            "policy": self.policy,
        }


# Conditions. Each is False when the fact it needs is unknown, so unknown facts fall through to the last rule.


def _always(f: Facts) -> bool:
    return True


def _product_key(f: Facts) -> bool:
    return f.product_key


def _licences_over(n: int) -> Condition:
    return lambda f: f.licenses is not None and f.licenses > n


def _licences_under(n: int) -> Condition:
    return lambda f: f.licenses is not None and f.licenses < n


def _licences_at_most(n: int) -> Condition:
    return lambda f: f.licenses is not None and f.licenses <= n


def _bought_within(days: int) -> Condition:
    return lambda f: (d := f.days_since_purchase) is not None and d <= days


def _not_expired(f: Facts) -> bool:
    return f.expired is False


def _billing(kind: str) -> Condition:
    return lambda f: f.billing == kind


def _all(*conditions: Condition) -> Condition:
    return lambda f: all(c(f) for c in conditions)


ARTICLE = Policy(
    name="article",
    title="the source article (Office 365 for business, ca. 2016)",
    rules=(
        Rule(
            "product-key",
            _product_key,
            Outcome(PHONE, refund=False),
            N_(
                "Bought with an Office 365 product key: it can be cancelled only by calling support, with no "
                "refund."
            ),
        ),
        Rule(
            "over-25-licences",
            _licences_over(25),
            Outcome(PHONE),
            N_("More than 25 licences are assigned to users ({licenses}): cancel by calling support."),
        ),
        Rule(
            "bought-within-30-days",
            _bought_within(30),
            Outcome(ONLINE),
            N_(
                "Bought within the last 30 days ({days} days before the cancellation date): cancel online in "
                "the admin center."
            ),
            window=30,
        ),
        Rule(
            "active-under-25-licences",
            _all(_not_expired, _licences_under(25)),
            Outcome(ONLINE),
            N_(
                "The subscription has not expired and fewer than 25 licences are assigned ({licenses}): cancel "
                "online in the admin center."
            ),
        ),
        Rule(
            "any-other",
            _always,
            Outcome(PHONE),
            N_(
                "Any other subscription (exactly 25 licences bought more than 30 days ago, an expired "
                "subscription, or facts not known): cancel by calling support."
            ),
        ),
    ),
    may_delete_after_days=90,
    deleted_by_days=180,
    early_fee_text=N_("Cancelling before the subscription's end date may incur early-cancellation fees."),
)

CURRENT = Policy(
    name="current",
    title="Microsoft Learn, 2024-2025 (MCA 7-day window; MOSA up to 25 licences online)",
    rules=(
        Rule(
            "product-key",
            _product_key,
            Outcome(PHONE, refund=False),
            N_(
                "Bought with an Office 365 product key: cancel by calling support, with no refund (kept from "
                "the article; the current pages do not cover product keys)."
            ),
        ),
        Rule(
            "mca-within-7-days",
            _all(_billing("mca"), _bought_within(7)),
            Outcome(ONLINE, refund=True),
            N_(
                "MCA billing account, started or renewed {days} days before the cancellation date: within the "
                "7-day window, cancel online for a prorated credit or refund."
            ),
            window=7,
        ),
        Rule(
            "mca-after-7-days",
            _billing("mca"),
            Outcome(ONLINE, refund=False, action=TURN_OFF_RECURRING_BILLING, early_fee=False),
            N_(
                "MCA billing account, started or renewed {days} days before the cancellation date: past the "
                "7-day window the subscription cannot be cancelled, only its recurring billing turned off; "
                "access continues to the end of the term. Bought through a partner or a Microsoft rep: ask "
                "them."
            ),
        ),
        Rule(
            "mosa-up-to-25-licences",
            _all(_billing("mosa"), _licences_at_most(25)),
            Outcome(ONLINE, refund=True),
            N_(
                "MOSA billing account with 25 licences or fewer ({licenses}): cancel online; a prorated credit "
                "or refund is given whenever you cancel."
            ),
        ),
        Rule(
            "mosa-over-25-licences",
            _all(_billing("mosa"), _licences_over(25)),
            Outcome(ONLINE, refund=True, action=REDUCE_LICENCES_THEN_CANCEL),
            N_(
                "MOSA billing account with more than 25 licences ({licenses}): reduce the licences to 25 or "
                "fewer, then cancel online; a prorated credit or refund is given."
            ),
        ),
        Rule(
            "any-other",
            _always,
            Outcome(PHONE),
            N_(
                "Billing account type not known (give --billing mca or mosa; the admin center shows it under "
                "Billing > Billing accounts), or licences not known: ask support, or the partner who sold it."
            ),
        ),
    ),
    may_delete_after_days=30,
    deleted_by_days=180,
    early_fee_text=N_(
        "Cancelling before the subscription's end date may incur early-cancellation fees; check "
        "the important dates the admin center shows before confirming."
    ),
    notes=(
        N_(
            "Explicitly deleting a subscription skips the Expired and Disabled stages: SharePoint and "
            "OneDrive data is deleted at once."
        ),
    ),
)

POLICIES: dict[str, Policy] = {p.name: p for p in (ARTICLE, CURRENT)}


def decide(policy: Policy, facts: Facts) -> Decision:
    """The first rule that holds gives the channel and the refund; the fee warning follows from the dates."""
    rule = next(r for r in policy.rules if r.when(facts))
    reasons = [t(rule.reason, **facts._text())]
    if rule.window is not None and facts.days_since_purchase == rule.window:
        reasons.append(t(LAST_DAY, window=rule.window))
    fee_warning, fee_reason = _fee(policy, rule.outcome, facts)
    if fee_reason:
        reasons.append(fee_reason)
    return Decision(
        rule.id,
        rule.outcome.channel,
        rule.outcome.refund,
        rule.outcome.action,
        fee_warning,
        tuple(reasons),
        policy.name,
    )


LAST_DAY = N_(
    "The cancellation date is the last day of the {window}-day window: if the admin center no longer offers "
    "the option, call support."
)
FEE_NO_END = N_("{fee} The end date was not given (--expires), so this cannot be ruled out.")
FEE_BEFORE_END = N_("{fee} The cancellation date {cancel} is before the end date {end}.")


def _fee(policy: Policy, outcome: Outcome, facts: Facts) -> tuple[bool, Text | None]:
    if not outcome.early_fee or facts.expired:
        return False, None
    fee = t(policy.early_fee_text)
    if facts.expires is None:
        return True, t(FEE_NO_END, fee=fee)
    if facts.cancel_date < facts.expires:
        return True, t(
            FEE_BEFORE_END, fee=fee, cancel=facts.cancel_date.isoformat(), end=facts.expires.isoformat()
        )
    return False, None


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None
