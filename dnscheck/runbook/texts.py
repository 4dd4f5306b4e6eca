"""The runbook's words: message ids (English, marked with `N_()`), filled and translated only when rendered.

Arguments are data (domain names, dates, step ids), never sentences.
"""

from __future__ import annotations

from collections.abc import Sequence

from dnscheck.i18n import N_
from dnscheck.runbook.model import CHANGE_NS, UPDATE_MX, Item, Retention, Text, t
from dnscheck.runbook.policy import ONLINE, REDUCE_LICENCES_THEN_CANCEL, TURN_OFF_RECURRING_BILLING

DNS_ACTION = {
    UPDATE_MX: N_(
        "Mail for {domains} still depends on Microsoft 365: change the records listed (at the DNS host that the "
        "delegation names), then re-run."
    ),
    CHANGE_NS: N_(
        "Microsoft 365 still serves or is still delegated the DNS of {domains}: move NS only once the new DNS "
        "host holds every record, then re-run."
    ),
}
DNSSEC_ACTION = N_(
    "DNSSEC: the parent still publishes a DS that the servers' keys of {domains} do not match, so validating "
    "resolvers answer SERVFAIL and validating senders cannot deliver mail. Remove the DS at the registrar and wait "
    "out the parent's DS TTL ({waits}) before moving NS, or publish a DS for the new host's keys (a multi-signer "
    "move); then re-run."
)
DS_WAIT = N_("{domain}: {seconds} s")
DNS_DONE = {
    UPDATE_MX: N_(
        "Live DNS: no checked domain's mail goes to Microsoft 365, and caches can no longer hold it."
    ),
    CHANGE_NS: N_(
        "Live DNS: neither the delegation nor the zone names Microsoft 365 name servers, and caches can no "
        "longer hold the old ones."
    ),
}
RESOLVER_ONLY = N_(
    "Only the resolver was asked (--mode resolver): the parent's delegation and the authoritative servers were "
    "not checked directly."
)
DONE_WITH_WARNINGS = N_("Review the warnings listed for {domains}.")
PLANNED = N_(
    "The planned zone is ready (checked from a zone file, not live DNS): publish it, then re-run without "
    "--zone-file. A zone file never completes a step."
)
WAITING_CACHES = N_(
    "The change is live, but caches may still hold the old answers until {ready_at}: the step is done then "
    "(re-run after that time)."
)
UNKNOWN_DOMAIN = N_("The check could not tell for {domain}: {reasons}.")
NO_EVIDENCE = N_("No live check of {domain} in this run.")
NO_AUTHORITATIVE = N_(
    "The authoritative servers of {domain} were not reached (mode {mode}): the resolver's view alone cannot "
    "complete a DNS step."
)
RERUN = N_("Re-run (another --resolver, a longer --timeout) until every domain has live evidence.")
WAITS_FOR = N_("Not due yet: waiting for {steps}.")
DEPENDS_UNKNOWN = N_("Unknown: it depends on {steps}.")
ACKED = N_("Acknowledged on {on}.")
ACKED_FORCED = N_("Acknowledged on {on} with --force, while these were not done: {steps}.")
ACKED_NOT_FOR = N_("Acknowledged on {on}, but not for {domains}.")
NOT_READY = N_("Do not remove the domains yet: {domains} is blocked or unknown.")
OWN_BLOCKED = N_("Do not remove the domains yet: a blocking finding stands for {domains} (listed below).")
OWN_UNKNOWN = N_("The check could not tell for {domains} (listed below): re-run before removing the domains.")
TENANT_GONE = N_("The tenant check finds every domain absent from Microsoft 365 tenants.")
TENANT_STILL = N_("The tenant check still finds {domains} in a Microsoft 365 tenant.")
TENANT_STILL_ACKED = N_(
    "Acknowledged on {on}, but the tenant check still finds {domains} in a Microsoft 365 tenant: the removal "
    "failed or is pending (a user, group or alias may still use the domain)."
)
REMOVE = N_("Remove {domains} in the admin center (Settings > Domains).")
REMOVE_CLEANUP = N_("Then clean up the leftover records listed at the DNS host.")
SAVE_DATA = N_(
    "Users lose access to their Microsoft 365 data when the cancellation takes effect ({cancel}): before that, "
    "they save their OneDrive for Business and SharePoint Online files elsewhere. Data left behind may be "
    "deleted from {may_delete} and is deleted by {deleted}."
)
UNINSTALL_TEXT = N_(
    "After the cancellation, Office runs in reduced-functionality mode: users can only read and print "
    'documents, and Office shows "Unlicensed Product" notices. Ask users to uninstall Office from their '
    "computers."
)
ADMIN_ONLY = N_("Only a global admin or a billing admin can cancel the subscription.")
PARTNER = N_(
    "The subscription is managed by a partner ({partner}): the article's Microsoft path (the admin center's "
    "Cancel subscription, or Microsoft support) does not apply. Ask the partner to cancel it: this is a "
    "manual step outside Microsoft's admin center."
)
PARTNER_RISK = N_(
    "Risk: the mailboxes and files live in the partner's tenant, and the partner's terms decide when they are "
    "deleted. Save the data first (step save-data) and get the partner's deletion dates in writing."
)
MX_ADVICE = (
    N_(
        "Before changing MX, tell users the cutover date and the new mail provider; they may need to move "
        "their existing Microsoft 365 mail themselves."
    ),
    N_("On the day MX changes, do the remaining steps."),
)
NS_ADVICE = (
    N_(
        "First set up MX and every other record at the new DNS host (check the planned zone with "
        "`dnscheck runbook --zone-file FILE`), then point the NS records at the new host, at the registrar."
    ),
    N_("Until NS moves, an MX change made at another DNS host has no effect."),
)
CANCEL_HOW = {
    TURN_OFF_RECURRING_BILLING: N_("Cancel online, by turning off recurring billing; refund: {refund}."),
    REDUCE_LICENCES_THEN_CANCEL: N_(
        "Cancel online, after reducing the licences to 25 or fewer; refund: {refund}."
    ),
    ONLINE: N_("Cancel online; refund: {refund}."),
    "phone": N_("Cancel by phone; refund: {refund}."),
}
REFUND = {True: N_("yes"), False: N_("no"), None: N_("not stated")}
FEES = N_("Early-cancellation fees may apply.")
PHONE_HOW = N_(
    "Call Microsoft support (admin center: Support > Contact support) and ask them to cancel the subscription."
)
TURN_OFF_HOW = N_(
    "Admin center: Billing > Your products > pick the subscription > turn off recurring billing. The "
    "subscription stays active until the end of its term."
)
REDUCE_HOW = N_(
    "First reduce the licences to 25 or fewer (Billing > Your products > the subscription > Add or remove "
    "licenses)."
)
ONLINE_HOW = N_(
    "Admin center: Billing > Subscriptions (Your products) > pick the subscription > More actions > Cancel "
    "subscription; review the important dates, give a reason and confirm. The subscription then shows as "
    "Disabled, with reduced functionality until it is deleted."
)
NOT_OFFERED = N_("If the Cancel subscription option is not offered, call support.")


def advice(step_id: str) -> tuple[Text, ...]:
    ids = MX_ADVICE if step_id == UPDATE_MX else NS_ADVICE
    return tuple(t(i) for i in ids)


def save_data(facts: object, retention: Retention) -> tuple[Text, ...]:
    cancel = facts.cancel_date.isoformat()  # type: ignore[attr-defined]
    return (
        t(
            SAVE_DATA,
            cancel=cancel,
            may_delete=retention.may_delete_from.isoformat(),
            deleted=retention.deleted_by.isoformat(),
        ),
    )


def remove_domains(names: Sequence[str], items: Sequence[Item]) -> tuple[Text, ...]:
    out = [t(REMOVE, domains=list(names))]
    if items:
        out.append(t(REMOVE_CLEANUP))
    return tuple(out)


def cancel(
    decision: object, policy: object, partner: str | None
) -> tuple[tuple[Text, ...], tuple[Text, ...]]:
    """(detail, advice) of the cancel step: the partner's path when a partner manages it, else the policy's."""
    if partner:
        return (t(PARTNER, partner=partner),), (t(PARTNER_RISK), t(ADMIN_ONLY))
    d = decision
    how = CANCEL_HOW.get(d.action) or CANCEL_HOW[d.channel]  # type: ignore[attr-defined]
    detail = [t(how, refund=t(REFUND[d.refund]))]  # type: ignore[attr-defined]
    if d.fee_warning:  # type: ignore[attr-defined]
        detail.append(t(FEES))
    steps = [t(ADMIN_ONLY), *_how(d)]
    steps += [Text(n) for n in policy.notes]  # type: ignore[attr-defined]
    return tuple(detail), tuple(steps)


def _how(d: object) -> list[Text]:
    if d.channel != ONLINE:  # type: ignore[attr-defined]
        return [t(PHONE_HOW)]
    if d.action == TURN_OFF_RECURRING_BILLING:  # type: ignore[attr-defined]
        return [t(TURN_OFF_HOW)]
    first = [t(REDUCE_HOW)] if d.action == REDUCE_LICENCES_THEN_CANCEL else []  # type: ignore[attr-defined]
    return [*first, t(ONLINE_HOW), t(NOT_OFFERED)]
