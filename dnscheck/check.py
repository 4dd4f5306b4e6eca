"""The check service: one target in, one Result out. Never prints, never raises for DNS trouble."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dnscheck.classify import classify
from dnscheck.codes import finding
from dnscheck.collect import Source
from dnscheck.collect.plan import collect
from dnscheck.collect.run import Run
from dnscheck.collect.zonefile import ZoneFileSource
from dnscheck.dnssec import dnssec_findings
from dnscheck.models import (
    Finding,
    Lookup,
    Observations,
    Result,
    Severity,
    Undetermined,
    Verdict,
    by_severity,
    iso,
)
from dnscheck.normalise import Invalid, Target
from dnscheck.settings import Mode
from dnscheck.ttl import safe_after, ttls_of
from dnscheck.verdict import verdict_of

if TYPE_CHECKING:
    from dnscheck.collect.tenant import TenantCheck
    from dnscheck.collect.web import Web
    from dnscheck.tenant import TenantStatus


@dataclass(frozen=True)
class Options:
    timeout: float = 10.0
    mode: Mode = Mode.AUTO
    explain: bool = False
    changed_at: datetime | None = None  # when the records were changed: gives safe_after
    changed_at_for: Callable[[str], datetime | None] | None = None  # per domain, e.g. from a watch state
    web: Web | None = None  # HTTPS for MTA-STS policies (None: --no-https, --zone-file)
    tenant: TenantCheck | None = None  # --tenant-check


async def check(target: Target, source: Source, options: Options, run: Run | None = None) -> Result:
    """`run`: what the checks of one run share; the domain's clock starts once the run admits it."""
    if run is None:
        return await _check(target, source, options, None)
    async with run.admitted(options.timeout):
        return await _check(target, source, options, run)


async def _check(target: Target, source: Source, options: Options, run: Run | None) -> Result:
    start = time.monotonic()
    deadline = start + options.timeout
    # The tenant check needs no DNS answer: it runs beside the collection, within the same deadline.
    asked = asyncio.ensure_future(options.tenant.status(target.domain, deadline)) if options.tenant else None
    obs = await collect(
        target.domain, source, deadline, options.mode, target.registered_domain, run, options.web
    )
    obs = dataclasses.replace(obs, wildcard_mx=await wildcard_mx(source, target.domain))
    c = classify(obs, target.registered_domain)
    findings = [*c.findings, *dnssec_findings(obs.dnssec, obs.mx)]
    tenant = await asked if asked is not None else None
    findings += _tenant_findings(tenant, options)
    ttls = ttls_of(obs)
    changed_at = options.changed_at
    if changed_at is None and options.changed_at_for is not None:
        changed_at = options.changed_at_for(target.domain)
    after = safe_after(changed_at, ttls) if changed_at is not None else None
    if after is not None and datetime.now(UTC) < after:
        findings.append(finding("CACHE_PENDING", safe_after=iso(after), seconds=ttls.longest))
    verdict = verdict_of(findings, c.decisive)
    if verdict is Verdict.UNKNOWN:
        findings += _overloaded(obs, source)
    result = Result(
        input=target.input,
        domain=target.domain,
        registered_domain=target.registered_domain,
        verdict=verdict,
        cloud=c.cloud,
        findings=tuple(by_severity(findings)),
        records=c.records,
        elapsed_ms=round((time.monotonic() - start) * 1000),
        zone=obs.zone,
        ttl=ttls,
        changed_at=changed_at,
        safe_after=after,
        delegation=obs.delegation,
        mta_sts=obs.mta_sts,
        tenant=tenant,
        dnssec=obs.dnssec,
    )
    if options.explain:
        from dnscheck.explain import explain

        result = dataclasses.replace(result, explain=tuple(explain(obs, result, source.label)))
    return result


async def wildcard_mx(source: Source, domain: str) -> Lookup | None:
    """The MX of `*.<domain>`, from a zone file only.

    A wildcard MX to Exchange Online routes the mail of every subdomain without records of its own there, even
    after the apex MX has moved. A zone file shows the wildcard as written. Live modes do not ask: a query for
    the literal name `*.<domain>` would return the wildcard (RFC 4592, 2.2.1), but that is one more query per
    domain in a fleet run for a record few zones have, and a resolver cannot tell a wildcard's answer for some
    other name from a record of that name. The apex MX and the leftovers stay the live verdict.
    """
    if not isinstance(source, ZoneFileSource) or domain == ".":
        return None
    return await source.lookup(f"*.{domain}", "MX")


def _tenant_findings(tenant: TenantStatus | None, options: Options) -> list[Finding]:
    if tenant is None or options.tenant is None:
        return []
    from dnscheck.tenant import classify_tenant

    return classify_tenant(tenant, options.tenant.expected)


def _overloaded(obs: Observations, source: Source) -> list[Finding]:
    """When lookups of this domain ran out of time while the resolver was losing queries, say so: the cause is
    the load on the resolver (its rate limit, or loss), not the domain."""
    pacing = getattr(source, "pacing", None)
    lookups = [obs.mx, obs.ns, obs.txt, obs.a, obs.aaaa]
    lookups += [lk for chain in (*obs.mx_hosts, *obs.names) for lk in chain.lookups]
    if pacing is None or not any(_ran_out(lk) for lk in lookups):
        return []
    from dnscheck.collect.paced import overload

    worst = overload(pacing())
    if worst is None:
        return []
    return [
        finding(
            "LOOKUP_FAILED",
            variant="overloaded",
            severity=Severity.UNKNOWN,
            resolver=worst[0],
            share=worst[1],
        )
    ]


def _ran_out(lk: object) -> bool:
    """A lookup that nobody answered before the deadline (rather than one answered badly)."""
    return isinstance(lk, Undetermined) and (lk.silent or "deadline" in lk.reason or "timed out" in lk.reason)


def invalid_result(item: Invalid) -> Result:
    f = finding("INPUT_INVALID", reason=item.reason)
    return Result(item.input, None, None, Verdict.UNKNOWN, None, (f,))


def failed_result(target: Target, reason: str) -> Result:
    """A check that crashed: never lose the line, never call it safe."""
    f = finding("LOOKUP_FAILED", variant="crashed", severity=Severity.UNKNOWN, reason=reason)
    return Result(
        target.input, target.domain, target.registered_domain, Verdict.UNKNOWN, None, (f,), complete=False
    )
