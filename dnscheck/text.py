"""Making text safe to show on a terminal: anyone on the internet can write a TXT record, and a zone file, an
input line or a file name can hold an escape sequence too.

This is the one escaping function: every writer to a terminal (the formats, watch, the runbook, the CLI's error
messages) calls `clean`. It sits below both the core and the formats so that neither has to import the other.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls, DEL, and the Unicode bidi/formatting controls that can reorder what a terminal shows.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


# Every control (Cc), format (Cf: bidi marks and isolates, zero-width, soft hyphen, Arabic letter mark,
# tags...), line/paragraph separator (Zl, Zp) and lone surrogate (Cs, from undecodable input) character.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _escape(ch: str) -> str:
    cp = ord(ch)
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def clean(text: str, keep_newlines: bool = False) -> str:
    """Replace every control or formatting character with a visible escape.

    `keep_newlines` keeps "\\n" (only) for a message of several lines that we wrote ourselves, e.g. an error and
    its hint; every other control character in it is still escaped."""
    if keep_newlines:
        return "\n".join(clean(line) for line in text.split("\n"))
    if text.isascii():
        return _UNSAFE.sub(lambda m: _escape(m.group()), text)
    return "".join(_escape(c) if unicodedata.category(c) in _UNSAFE_CATEGORIES else c for c in text)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(text: str) -> str:
    """DNS data and input, safe inside Markdown text and table cells."""
    return _MD_SPECIAL.sub(r"\\\1", clean(text)).replace("\n", " ")
