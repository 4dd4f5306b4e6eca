"""Checking a parsed state file field by field: a file someone edited, truncated or planted must give a usage
error that names the field, never a crash later (a TTL of 1e30, the year 9999, a string where an object is due).

Each checker takes the value and its path in the document ("domains.contoso.com.rrsets") and returns the value,
or raises FieldError naming that path.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

MAX_TTL = 2**31 - 1  # RFC 2181, section 8
# Times outside these years are no time dnscheck wrote; inside them, adding any TTL cannot overflow a datetime.
FIRST_YEAR, LAST_YEAR = 1970, 2200


class FieldError(ValueError):
    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"{path}: {why}")


def obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(path, f"must be an object, not {_kind(value)}")
    return value


def array(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise FieldError(path, f"must be a list, not {_kind(value)}")
    return value


def strings(value: Any, path: str) -> list[str]:
    for i, item in enumerate(array(value, path)):
        text(item, f"{path}[{i}]")
    return list(value)


def text(value: Any, path: str, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise FieldError(path, f"must be a string, not {_kind(value)}")
    return value


def one_of(value: Any, path: str, allowed: tuple[str, ...], optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if value not in allowed:
        raise FieldError(path, f"must be one of {', '.join(allowed)}")
    return value


def ttl(value: Any, path: str) -> int | None:
    """A TTL in seconds (0 to 2^31-1), or null."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TTL:
        raise FieldError(path, f"must be a TTL: a whole number of seconds from 0 to {MAX_TTL}")
    return value


def timestamp(value: Any, path: str, optional: bool = False) -> str | None:
    """An ISO 8601 time with its zone (as dnscheck writes them: 2026-11-27T09:30:00Z), in a sane year."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise FieldError(path, f"must be an ISO 8601 time, not {_kind(value)}")
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(path, "must be an ISO 8601 time such as 2026-11-27T09:30:00Z") from None
    if t.tzinfo is None:
        raise FieldError(path, "must be a time with its zone, e.g. 2026-11-27T09:30:00Z")
    in_range(t.astimezone(UTC).year, path)
    return value


def day(value: Any, path: str) -> date:
    """A date YYYY-MM-DD in a sane year."""
    if not isinstance(value, str):
        raise FieldError(path, f"must be a date (YYYY-MM-DD), not {_kind(value)}")
    try:
        d = date.fromisoformat(value)
    except ValueError:
        raise FieldError(path, "must be a date (YYYY-MM-DD)") from None
    in_range(d.year, path)
    return d


def in_range(year: int, path: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise FieldError(path, f"the year {year} is out of range ({FIRST_YEAR} to {LAST_YEAR})")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )
