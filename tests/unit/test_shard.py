"""--shard K/N: every input line in exactly one slice, the same slice whatever the order or spelling."""

from __future__ import annotations

import json
import random

import pytest

from dnscheck.shard import Shard, slice_of
from tests.conftest import DnscheckCommand


def test_shard_parse_and_errors() -> None:
    assert Shard.parse("2/8") == Shard(2, 8) and str(Shard.parse(" 1 / 1 ")) == "1/1"
    for bad in ("0/3", "4/3", "x", "1/0", "-1/2", "2"):
        with pytest.raises(ValueError):
            Shard.parse(bad)


def test_shards_partition_any_input_whatever_its_order() -> None:
    lines = [f"d{i}.example" for i in range(500)] + ["not a domain", "", "Ünïcödé.de"]
    for n in (1, 2, 3, 7):
        shuffled = random.Random(n).sample(lines, len(lines))
        parts = [list(Shard(k, n).select(shuffled)) for k in range(1, n + 1)]
        assert sorted(x for p in parts for x in p) == sorted(lines)  # each line in exactly one shard
        assert all(parts) or n > len(lines)


def test_a_line_keeps_its_shard_across_spellings() -> None:
    assert slice_of("Contoso.COM.", 8) == slice_of("contoso.com", 8) == slice_of("  contoso.com ", 8)


def test_cli_shards_together_give_every_line_once(dnscheck_offline: DnscheckCommand, tmp_path) -> None:
    listing = tmp_path / "in.txt"
    names = [f"shard{i}.example" for i in range(12)] + ["bad input", "shard0.example"]
    listing.write_text("\n".join(names) + "\n")
    seen: list[str] = []
    for k in (1, 2, 3):
        # Nothing listens on port 9 in the test namespace: every check fails at once (unknown), which is enough
        # to see which lines each shard answered.
        run = dnscheck_offline("check", "-i", str(listing), "--shard", f"{k}/3", "-f", "jsonl", "--mode",
                               "resolver", "--resolver", "127.0.0.1:9", "--timeout", "1")
        seen += [json.loads(line)["input"] for line in run.stdout.splitlines()]
    assert sorted(seen) == sorted(names)


def test_a_bad_shard_is_a_usage_error(dnscheck_offline: DnscheckCommand) -> None:
    run = dnscheck_offline("check", "a.example", "--shard", "4/3")
    assert run.rc == 64 and "--shard" in run.stderr, run
