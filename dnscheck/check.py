"""The check service: one target in, one Result out. Never prints, never raises for DNS trouble."""

from __future__ import annotations

import time

from dnscheck.classify import classify
from dnscheck.codes import CODES
from dnscheck.collect import Source
from dnscheck.collect.plan import collect
from dnscheck.models import Finding, Result, Verdict
from dnscheck.normalise import Invalid, Target
from dnscheck.verdict import verdict_of


async def check(target: Target, source: Source, timeout: float) -> Result:
    start = time.monotonic()
    obs = await collect(target.domain, source, start + timeout)
    c = classify(obs, target.registered_domain)
    return Result(
        input=target.input,
        domain=target.domain,
        registered_domain=target.registered_domain,
        verdict=verdict_of(c.findings, c.decisive),
        cloud=c.cloud,
        findings=c.findings,
        records=c.records,
        elapsed_ms=round((time.monotonic() - start) * 1000),
    )


def invalid_result(item: Invalid) -> Result:
    finding = Finding("INPUT_INVALID", CODES["INPUT_INVALID"][0], item.reason,
                      "Give a registered domain name, e.g. contoso.com, an e-mail address or a URL.")
    return Result(item.input, None, None, Verdict.UNKNOWN, None, (finding,))


def failed_result(target: Target, reason: str) -> Result:
    """A check that crashed: never lose the line, never call it safe."""
    finding = Finding("LOOKUP_FAILED", CODES["DOMAIN_NXDOMAIN"][0], f"the check failed: {reason}",
                      "Re-run with -v and report the traceback if it persists.")
    return Result(target.input, target.domain, target.registered_domain, Verdict.UNKNOWN, None, (finding,))
