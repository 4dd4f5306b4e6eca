"""The per-run cache of facts shared by many domains (parent zone servers, name-server addresses)."""

from __future__ import annotations

import asyncio

from dnscheck.collect.authoritative import _RunCache


def test_concurrent_callers_share_one_lookup_and_failures_are_asked_again() -> None:
    calls: list[str] = []

    async def found() -> list[str]:
        calls.append("found")
        await asyncio.sleep(0.01)
        return ["192.0.2.1"]

    async def empty() -> list[str]:
        calls.append("empty")
        return []

    async def run() -> None:
        cache: _RunCache[list[str]] = _RunCache()
        results = await asyncio.gather(*(cache.get("ns1.example.net", found) for _ in range(20)))
        assert results == [["192.0.2.1"]] * 20 and calls == ["found"]
        assert await cache.get("ns2.example.net", empty) == []
        assert await cache.get("ns2.example.net", empty) == []
        assert calls.count("empty") == 2  # an empty answer is not remembered

    asyncio.run(run())


def test_entries_expire_and_do_not_cross_event_loops() -> None:
    calls: list[int] = []

    async def lookup() -> list[str]:
        calls.append(1)
        return ["192.0.2.1"]

    cache: _RunCache[list[str]] = _RunCache()
    cache.MAX_AGE = 0.0  # type: ignore[misc]

    async def twice() -> None:
        await cache.get("h", lookup)
        await asyncio.sleep(0.001)
        await cache.get("h", lookup)

    asyncio.run(twice())
    assert len(calls) == 2
    asyncio.run(twice())  # a new loop (a new run) starts empty
    assert len(calls) == 4
