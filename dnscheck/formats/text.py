"""Making DNS data safe to show on a terminal: anyone on the internet can write a TXT record."""

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


def clean(text: str) -> str:
    """Replace every control or formatting character with a visible escape."""
    if text.isascii():
        return _UNSAFE.sub(lambda m: _escape(m.group()), text)
    return "".join(_escape(c) if unicodedata.category(c) in _UNSAFE_CATEGORIES else c for c in text)
