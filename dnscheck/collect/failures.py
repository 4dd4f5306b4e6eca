"""The one place a DNS exception becomes `Undetermined`: which failures are silence, and the words for each.

Silence (a timeout, a network error) is what the circuit breaker counts and what makes a server unreachable; a
bad answer (SERVFAIL, a malformed message, an answer to another question) means the server is there but could not
tell.
"""

from __future__ import annotations

import dns.exception
import dns.resolver

from dnscheck.models import Undetermined


def rcode_failure(rcode: str) -> str:
    """The reason for an answer with an error rcode (SERVFAIL, REFUSED...)."""
    return f"answered {rcode}"


def rcode_failure_of(server: str, what: str) -> str:
    """The reason for a resolver's answer that could not be used (`what`: its rcode, or what was wrong with it)."""
    return f"no server could answer: {server} {what}"


def is_refusal(lookup: object) -> bool:
    """A server that refuses the question (REFUSED, NOTAUTH) does not serve the zone: lame, not failing."""
    reason = getattr(lookup, "reason", None)
    return reason in (rcode_failure("REFUSED"), rcode_failure("NOTAUTH"))


def undetermined(
    e: BaseException, name: str, rdtype: str, server: str | None = None, elapsed_ms: int | None = None
) -> Undetermined:
    """`e` raised while asking `server` (None: a recursive resolver) for `name`/`rdtype`."""
    reason, silent = _reason(e)
    return Undetermined(name, rdtype, reason, server, elapsed_ms, silent)


def _reason(e: BaseException) -> tuple[str, bool]:
    if isinstance(e, dns.resolver.LifetimeTimeout):
        return "timed out: the resolver did not answer in time", True
    if isinstance(e, dns.exception.Timeout | TimeoutError):
        return "no answer (timed out)", True
    if isinstance(e, dns.resolver.NoNameservers):
        return "no server could answer: " + _server_errors(e), False
    if isinstance(e, dns.resolver.YXDOMAIN):
        return "the name is too long after DNAME substitution (YXDOMAIN)", False
    if isinstance(e, dns.exception.DNSException):
        return f"bad answer: {type(e).__name__}: {e}", False
    if isinstance(e, OSError):
        return f"unreachable: {e.strerror or e}", True
    return f"network error: {e}", True


def _server_errors(e: dns.resolver.NoNameservers) -> str:
    errors = e.kwargs.get("errors") or []
    parts = []
    for err in errors[:4]:
        # (server, tcp, port, exception-or-rcode-text, response)
        server, port, what = str(err[0]), err[2], err[3]
        where = server.removeprefix("Do53:").replace("@", ":") if "@" in server else f"{server}:{port}"
        if where.endswith(f":{port}:{port}"):  # a paced group names its resolvers with their ports already
            where = where.removesuffix(f":{port}")
        parts.append(f"{where} {what}")
    return "; ".join(parts) or "all servers failed (SERVFAIL or REFUSED)"
