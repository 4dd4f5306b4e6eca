"""Turn whatever a person pasted into the domain name to check, or say clearly why not.

Accepts bare names, URLs, e-mail addresses, upper case, a trailing dot and Unicode (IDNA 2008, UTS #46 mapping).
The name checked is the name given: a subdomain can be a Microsoft 365 custom domain of its own.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

MAX_INPUT = 1024  # longer input cannot hold a 253-octet name plus a plausible URL around it
_LDH = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# The label separators UTS #46 maps to "." (ideographic, fullwidth and halfwidth ideographic full stops).
_DOTS = {0x3002: ".", 0xFF0E: ".", 0xFF61: "."}


@dataclass(frozen=True)
class Target:
    input: str
    domain: str  # lower-case A-label, no trailing dot
    registered_domain: str


@dataclass(frozen=True)
class Invalid:
    input: str
    reason: str


def normalise(raw: str) -> Target | Invalid:
    result = _normalise(raw)
    if isinstance(result, Invalid):
        return Invalid(echo(raw), result.reason)
    return result


_SCHEME = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?//")
_HOST_PORT = re.compile(r"^(?:\[[^\]@]*\]|[^:@\[\]]*)(?::\d*)?$")  # host, host:443, [::1]:53


def echo(raw: str, limit: int = 200) -> str:
    """The input as it may be echoed back in a report: a URL's user:password replaced by ***, undecodable bytes
    escaped, and a huge line cut short."""
    text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    text = redact(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def redact(text: str) -> str:
    """`text` with anything that may be a password replaced by ***.

    A password may hold any character, so the userinfo is not where a URL parser says it ends:
    `https://admin:S3cr3t/x@host/` puts `admin:S3cr3t` in the host and `/x` in the path, `#` or `?` in a
    password start the fragment or the query, and a second `@` ends it late. So, after `scheme://` or `//`:
    - an authority (up to the first `/`, `?` or `#`) holding an `@`: all up to its last `@` goes;
    - an authority `user:word` whose `word` is not a port, with an `@` further on: all up to the last `@` goes
      (such an input is not a valid URL, so nothing of value is hidden by cutting too much);
    and without a scheme, a `user:password@host` (a colon before the last `@`) loses all before that `@`.
    """
    m = _SCHEME.match(text)
    if m is None:
        local, at, host = text.rpartition("@")
        if local[:7].lower() == "mailto:":
            local = local[7:]
        return f"***@{host}" if at and ":" in local else text
    head, rest = text[: m.end()], text[m.end() :]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        return head + "***" + rest[authority.rindex("@") :]
    if "@" in rest and not _HOST_PORT.match(authority):
        return head + "***" + rest[rest.rindex("@") :]
    return text


def _text_problem(text: str) -> str | None:
    """Why the raw text cannot hold a domain name at all, before it is parsed (None if it may)."""
    if not text:
        return "empty input"
    if len(text) > MAX_INPUT:
        return f"input is {len(text)} characters long; a domain name has at most 253"
    if any("\udc80" <= c <= "\udcff" for c in text):
        return "input is not valid UTF-8"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text):
        return "input contains control or invisible formatting characters"
    if any(c.isspace() for c in text):
        return "input contains white space"
    return None


def _normalise(raw: str) -> Target | Invalid:
    text = raw.strip()
    problem = _text_problem(text)
    if problem:
        return Invalid(raw, problem)

    host = _host_part(text)
    if isinstance(host, Invalid):
        return Invalid(raw, host.reason)
    host = host.translate(_DOTS)
    if host.endswith("."):
        host = host[:-1]
    if not host:
        return Invalid(raw, "no domain name in the input")
    if _is_ip(host):
        return Invalid(raw, f"{host} is an IP address, not a domain name")

    alabel = _to_alabel(host)
    if isinstance(alabel, Invalid):
        return Invalid(raw, alabel.reason)

    if alabel.rpartition(".")[2].isdigit():
        return Invalid(raw, f"{alabel} ends in a numeric label: it is not a domain name (an IP address?)")
    registered = registered_domain(alabel)
    if not registered:
        return Invalid(raw, f"{alabel} is a public suffix or is not under one: there is no domain to check")
    return Target(echo(raw), alabel, registered)


def _host_part(text: str) -> str | Invalid:
    if "://" in text:
        try:
            parts = urlsplit(text)
            host = parts.hostname or ""
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError as e:
            # urllib's message quotes the bad "port", which may be a password (https://admin:S3cr3t/x@host/)
            why = "bad port" if "port" in str(e).lower() else "bad host part"
            return Invalid(text, f"not a valid URL: {why}")
        return host
    if "@" in text:
        local, _, text = text.rpartition("@")
        if not local:
            return Invalid(text, "nothing before '@'")
    if text.startswith("["):
        # An address literal: [addr], [addr]:port, or an e-mail domain literal [IPv6:addr] (RFC 5321).
        inner, sep, rest = text[1:].partition("]")
        if sep and (not rest or (rest[:1] == ":" and rest[1:].isdigit())):
            return inner[5:] if inner[:5].lower() == "ipv6:" else inner
    # host:port without a scheme (but not an IPv6 literal, which has several colons)
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        if port.isdigit():
            return host
    return text


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _to_alabel(host: str) -> str | Invalid:
    if ".." in host or host.startswith(".") or host.endswith("."):
        return Invalid(
            host, "empty label (two dots in a row, a dot at the start, or an extra dot at the end)"
        )
    if host.isascii():
        alabel = host.lower()
    else:
        import idna  # lazily: IDNA tables cost start-up time

        try:
            alabel = idna.encode(host, uts46=True, transitional=False).decode("ascii").lower()
        except (idna.IDNAError, UnicodeError) as e:
            return Invalid(host, f"not a valid internationalised domain name: {e}")
    if len(alabel) > 253:
        return Invalid(host, f"name is {len(alabel)} octets long; the limit is 253")
    for label in alabel.split("."):
        if len(label) > 63:
            return Invalid(host, f"label '{label[:20]}...' is {len(label)} octets long; the limit is 63")
        if not _LDH.match(label):
            return Invalid(host, f"label '{label}' may hold only letters, digits and inner hyphens")
        if label.startswith("xn--") and not _valid_punycode(label):
            return Invalid(host, f"label '{label}' is not valid punycode")
    return alabel


def _valid_punycode(label: str) -> bool:
    import idna

    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError):
        return False
    return True


@lru_cache(maxsize=1)
def _extractor() -> Any:
    # Bundled snapshot only: the default extractor fetches the Public Suffix List over HTTPS with no timeout.
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registered_domain(alabel: str) -> str:
    """The registrable domain (eTLD+1) of an A-label name, or '' when it has none."""
    ext = _extractor()(alabel)
    return str(ext.top_domain_under_public_suffix).lower()
