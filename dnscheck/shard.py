"""`--shard K/N`: the K-th of N deterministic slices of the input, so that a fleet can be spread over machines.

A line belongs to the shard given by a stable hash (BLAKE2b) of its text, trimmed, lower-cased and without a
trailing dot - not by its line number. So:
- every host gets the same slices from the same lines, whatever order the list is in, and editing the list
  (adding, removing, sorting domains) moves only the lines edited: a domain stays in its shard from one run to
  the next, with its history (watch state, earlier reports) on the same host;
- the same domain written the same way twice lands in one shard, where it is checked once;
- deciding costs a hash per line (about a microsecond), not the full normalisation (IDNA, public suffix list),
  which every shard would otherwise pay for every other shard's lines.
The slices are equal in size only on average (within a few percent for thousands of lines). Every line, valid or
not, belongs to exactly one shard, so the N reports together hold exactly one result per input line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_FORM = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as written on the command line
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`K/N` with 1 <= K <= N; ValueError (with the reason) otherwise."""
        m = _FORM.match(text)
        if not m:
            raise ValueError(f"{text!r} is not K/N (e.g. 2/8: the second of eight slices)")
        k, n = int(m.group(1)), int(m.group(2))
        if n < 1 or not 1 <= k <= n:
            raise ValueError(f"{text!r}: K must be between 1 and N (N >= 1)")
        return cls(k, n)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, line: str) -> bool:
        return slice_of(line, self.count) == self.index

    def select(self, lines: Iterable[str]) -> Iterator[str]:
        return (line for line in lines if self.holds(line))


def slice_of(line: str, count: int) -> int:
    """The 1-based slice of `count` that `line` belongs to."""
    key = line.strip().lower().rstrip(".").encode("utf-8", "surrogateescape")
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest, "big") % count + 1
