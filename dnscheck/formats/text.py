"""Making DNS data safe to show on a terminal: anyone on the internet can write a TXT record."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the Unicode bidi/formatting controls that can reorder what a terminal shows.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean(text: str) -> str:
    """Replace every control or formatting character with a visible escape."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", text)
