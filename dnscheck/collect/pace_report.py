"""What a run says about its resolvers: each one's counts (sent, answered, unanswered, refused, how far the pace
was lowered), merged over the worker processes, in plain sentences for stderr and the JSON summary; and which
resolver to name when a domain's lookups ran out of time (LOOKUP_FAILED.overloaded). The pacing itself is in
dnscheck.collect.paced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Counts:
    sent: int = 0  # every datagram, retries included
    answered: int = 0
    lost: int = 0  # tries never answered
    timeouts: int = 0  # tries not answered within their retransmission timeout (sent again)
    late: int = 0  # of those, the tries answered all the same, later: a slow resolver, not a lossy one
    recovered: int = (
        0  # of those, the tries of queries answered in the end: loss by the resolver, not the world
    )
    refused: int = 0
    servfail: int = 0
    lowest_window: float = 0.0
    lowest_rate: float | None = None  # the lowest send rate the pacing fell to (queries/s), if it ever cut
    skipped: bool = False
    held_to: int | None = None  # the fewest domains in flight the pace held the run to, if it ever did

    def as_dict(self, address: str) -> dict[str, Any]:
        return {
            "resolver": address,
            "sent": self.sent,
            "answered": self.answered,
            "unanswered": self.lost,
            "unanswered_then_answered": self.recovered,
            "timed_out": self.timeouts,
            "answered_late": self.late,
            "refused": self.refused,
            "servfail": self.servfail,
            "lowest_in_flight": round(self.lowest_window),
            "lowest_rate_qps": None if self.lowest_rate is None else round(self.lowest_rate),
            "skipped": self.skipped,
            "domains_held_to": self.held_to,
        }


NOTABLE = 0.01  # a share of unanswered queries worth saying


def merge(parts: list[tuple[str, Counts]]) -> dict[str, Counts]:
    """One `Counts` per resolver from several (one per worker process): counts and pace added up."""
    out: dict[str, Counts] = {}
    for address, c in parts:
        m = out.setdefault(address, Counts(lowest_window=0.0))
        m.sent += c.sent
        m.answered += c.answered
        m.lost += c.lost
        m.recovered += c.recovered
        m.timeouts += c.timeouts
        m.late += c.late
        m.refused += c.refused
        m.servfail += c.servfail
        m.lowest_window += c.lowest_window  # the workers' windows are shares of one ceiling
        if c.lowest_rate is not None:
            m.lowest_rate = (m.lowest_rate or 0.0) + c.lowest_rate
        m.skipped = m.skipped or c.skipped
        if c.held_to is not None:
            m.held_to = (m.held_to or 0) + c.held_to  # each worker's share of --concurrency
    return out


def describe(address: str, c: Counts, ceiling: int) -> list[str]:
    """Plain sentences about one resolver, in the user's language, for stderr and the JSON summary; none when all
    went well."""
    from dnscheck.i18n import _

    said = []
    n = max(1, round(c.lowest_window))
    # Queries that went unanswered and were answered when sent again: what the resolver dropped. Queries never
    # answered at all are about names nobody can resolve in time (dead servers): the world's doing, not said here.
    if c.sent and (c.recovered + c.refused) / c.sent >= NOTABLE:
        lost, refused = _pct(c.recovered, c.sent), _pct(c.refused, c.sent)
        if c.refused:
            text = _(
                "resolver {resolver} left {lost} of queries unanswered and refused {refused} (they were sent again)"
            )
        else:
            text = _("resolver {resolver} left {lost} of queries unanswered (they were sent again)")
        said.append(text.format(resolver=address, lost=lost, refused=refused))
    if c.lowest_rate is not None:
        text = _(
            "resolver {resolver}: pace lowered to {rate} queries/s at the slowest, queries in flight to {n} "
            "(of {ceiling})"
        )
        said.append(text.format(resolver=address, rate=round(c.lowest_rate), n=n, ceiling=ceiling))
    elif n < ceiling:  # slow answers: fewer in flight, no cap on the rate
        text = _(
            "resolver {resolver}: queries in flight lowered to {n} (of {ceiling}) at the fewest, its answers being slow"
        )
        said.append(text.format(resolver=address, n=n, ceiling=ceiling))
    if c.held_to is not None:
        text = _(
            "resolver {resolver}: domains checked at once lowered to {n} at the fewest, so that none waited out "
            "its --timeout in the queue"
        )
        said.append(text.format(resolver=address, n=c.held_to))
    if c.skipped:
        said.append(
            _("resolver {resolver} stopped answering and was skipped while the others answered").format(
                resolver=address
            )
        )
    return said


def overload(parts: list[tuple[str, Counts]]) -> tuple[str, str] | None:
    """The resolver that lost the most queries, and the share, when it lost a notable share: the likely reason
    for a lookup that ran out of time."""
    worst = max(parts, key=lambda p: (p[1].recovered + p[1].refused) / max(1, p[1].sent), default=None)
    if worst is None:
        return None
    address, c = worst
    share = (c.recovered + c.refused) / max(1, c.sent)
    return (address, _pct(c.recovered + c.refused, c.sent)) if share >= NOTABLE else None


def _pct(n: int, total: int) -> str:
    return f"{100 * n / max(1, total):.1f}%"
