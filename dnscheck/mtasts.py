"""MTA-STS (RFC 8461): read the `_mta-sts` TXT record and the policy, and say what they mean for the cutover. Pure.

Senders that enforce MTA-STS (Exchange Online does) deliver only to MX hosts that the domain's cached policy lists,
for up to the policy's `max_age` after they last fetched it. A policy that still lists Microsoft's MX hosts, or
that lists none of the MX hosts published now, makes those senders refuse the mail after an MX change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dnscheck.codes import finding
from dnscheck.fingerprints import match_host
from dnscheck.models import Answered, Finding, Lookup, Observations, Record, Undetermined

MAX_AGE_LIMIT = 31557600  # RFC 8461 section 3.2: max_age is at most one year
_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_EXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_MODES = ("enforce", "testing", "none")


@dataclass(frozen=True)
class StsPolicy:
    """An MTA-STS policy as parsed (RFC 8461 section 3.2)."""

    mode: str  # enforce | testing | none
    max_age: int  # seconds
    mx: tuple[str, ...]  # patterns: a host name, or "*." + a domain (one leftmost label)

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "max_age": self.max_age, "mx": list(self.mx)}


@dataclass(frozen=True)
class MtaSts:
    """What the domain says about MTA-STS: the `_mta-sts` TXT record and, when it publishes one, its policy.

    `fetched` is False when the policy was not asked for (--no-https, --zone-file); `failure` says why there is
    no policy when it was (the fetch or the parse failed, or the TXT record is ambiguous).
    """

    txt: Lookup
    record: Record | None = None  # the one TXT record that starts with v=STSv1
    id: str | None = None
    url: str | None = None
    fetched: bool = False
    policy: StsPolicy | None = None
    failure: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "fetched": self.fetched,
            "policy": self.policy.as_dict() if self.policy else None,
            "failure": self.failure,
        }


class PolicyError(ValueError):
    """The policy (or the TXT record) is not what RFC 8461 section 3 allows: senders ignore it."""


def sts_records(txt: Answered) -> list[Record]:
    """The TXT records that announce MTA-STS; RFC 8461 section 3.1: the others are discarded."""
    return [r for r in txt.records if r.type == "TXT" and r.value.startswith("v=STSv1")]


def parse_txt(value: str) -> str:
    """The policy id of an `_mta-sts` TXT record (`v=STSv1; id=...;`); raises PolicyError."""
    fields = [f.strip(" \t") for f in value.split(";")]
    if fields and fields[-1] == "":
        fields.pop()
    if not fields or fields[0] != "v=STSv1":
        raise PolicyError("the TXT record does not start with v=STSv1")
    ids = []
    for f in fields[1:]:
        key, sep, val = f.partition("=")
        if not sep or not _EXT_NAME.fullmatch(key):
            raise PolicyError(f"the TXT record has a malformed field {f!r}")
        if key == "id":
            ids.append(val)
    if len(ids) != 1 or not _ID.fullmatch(ids[0]):
        raise PolicyError("the TXT record needs exactly one id of 1 to 32 letters and digits")
    return ids[0]


def parse_policy(text: str) -> StsPolicy:
    """RFC 8461 section 3.2: `key: value` lines (LF or CRLF); version STSv1, mode, max_age, mx (one per line).
    Unknown keys are ignored, as the RFC requires; anything else malformed raises PolicyError."""
    seen: dict[str, str] = {}
    mx: list[str] = []
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.removesuffix("\r")
        if not line.strip(" \t"):
            if n == len(text.split("\n")):
                continue  # the final line break
            raise PolicyError(f"line {n} is empty")
        key, sep, value = line.partition(":")
        value = value.strip(" \t")
        if not sep or not _EXT_NAME.fullmatch(key) or not value or not value.isprintable():
            raise PolicyError(f"line {n} is not 'key: value'")
        if key == "mx":
            mx.append(_pattern(value, n))
        elif key in ("version", "mode", "max_age"):
            if key in seen:
                raise PolicyError(f"{key} is given twice")
            seen[key] = value
    return _policy(seen, mx)


def _policy(seen: dict[str, str], mx: list[str]) -> StsPolicy:
    if seen.get("version") != "STSv1":
        raise PolicyError("version is not STSv1")
    mode = seen.get("mode")
    if mode not in _MODES:
        raise PolicyError(f"mode is {mode!r}, not enforce, testing or none")
    age = seen.get("max_age", "")
    if not age.isdigit() or len(age) > 10 or int(age) > MAX_AGE_LIMIT:
        raise PolicyError(f"max_age {age!r} is not a number of seconds up to {MAX_AGE_LIMIT}")
    if mode != "none" and not mx:
        raise PolicyError(f"mode {mode} needs at least one mx line")
    return StsPolicy(mode, int(age), tuple(mx))


def _pattern(value: str, n: int) -> str:
    pattern = value.lower().rstrip(".")
    host = pattern.removeprefix("*.")
    labels = host.split(".")
    if "*" in host or len(labels) < 2 or not all(labels) or any(len(x) > 63 for x in labels):
        raise PolicyError(f"line {n}: {value!r} is not an MX host name or *.domain pattern")
    return pattern


def matches(pattern: str, host: str) -> bool:
    """RFC 8461 section 4.1: a host name, or `*.` standing for exactly one leftmost label."""
    host = host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == pattern[2:]
    return host == pattern


def m365_patterns(policy: StsPolicy) -> list[str]:
    """The policy's mx patterns that stand for Microsoft 365 MX hosts."""
    return [p for p in policy.mx if match_host("mx", "x" + p[1:] if p.startswith("*.") else p) is not None]


def classify_mta_sts(obs: Observations) -> list[Finding]:
    sts = obs.mta_sts
    if sts is None:
        return []
    name = f"_mta-sts.{obs.domain}"
    if isinstance(sts.txt, Undetermined):
        return [finding("LOOKUP_FAILED", variant="txt_sts", type="TXT", name=name, reason=sts.txt.reason)]
    if sts.record is None and sts.failure is None:
        return []  # no MTA-STS
    if not sts.fetched and sts.failure is None:
        return [finding("MTA_STS_NOT_FETCHED", record=sts.record, url=sts.url or "", id=sts.id or "")]
    if sts.policy is None:
        # No record: a failed fetch is about mail (codes.topic_of), not about the TXT record's leftovers.
        return [
            finding(
                "LOOKUP_FAILED",
                variant="mta_sts",
                type="MTA-STS",
                name=sts.url or name,
                reason=sts.failure or "no policy",
            )
        ]
    return _policy_findings(obs, sts, sts.policy)


def _policy_findings(obs: Observations, sts: MtaSts, policy: StsPolicy) -> list[Finding]:
    out = []
    if policy.mode != "none" and (m365 := m365_patterns(policy)):
        out.append(
            finding(
                "MTA_STS_M365",
                record=sts.record,
                patterns=", ".join(m365),
                mode=policy.mode,
                max_age=policy.max_age,
                id=sts.id or "",
            )
        )
    hosts = _mx_hosts(obs)
    if policy.mode == "enforce" and hosts and not any(matches(p, h) for p in policy.mx for h in hosts):
        out.append(
            finding(
                "MTA_STS_MX_MISMATCH",
                record=sts.record,
                patterns=", ".join(policy.mx),
                hosts=", ".join(hosts),
                max_age=policy.max_age,
            )
        )
    return out


def _mx_hosts(obs: Observations) -> list[str]:
    if not isinstance(obs.mx, Answered):
        return []
    return sorted({r.target for r in obs.mx.records if r.type == "MX" and r.target and r.target != "."})


def max_age_of(obs: Observations) -> int | None:
    """The max_age senders may cache the policy for, when it can make them refuse mail (mode enforce)."""
    sts = obs.mta_sts
    if sts is None or sts.policy is None or sts.policy.mode != "enforce":
        return None
    return sts.policy.max_age
