"""The per-run cache of facts shared by many domains (parent zone servers, name-server addresses)."""

from __future__ import annotations

import asyncio

from dnscheck.collect.run import Run, RunCache


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
        cache: RunCache[list[str]] = RunCache()
        results = await asyncio.gather(*(cache.get("ns1.example.net", found) for _ in range(20)))
        assert results == [["192.0.2.1"]] * 20 and calls == ["found"]
        assert await cache.get("ns2.example.net", empty) == []
        assert await cache.get("ns2.example.net", empty) == []
        assert calls.count("empty") == 2  # an empty answer is not remembered

    asyncio.run(run())


def test_entries_expire_and_each_run_starts_empty() -> None:
    calls: list[int] = []

    async def lookup() -> list[str]:
        calls.append(1)
        return ["192.0.2.1"]

    async def twice(run: Run) -> None:
        await run.hosts.get("h", lookup)
        await asyncio.sleep(0.001)
        await run.hosts.get("h", lookup)

    run = Run()
    run.hosts.MAX_AGE = 0.0  # type: ignore[misc]
    asyncio.run(twice(run))
    assert len(calls) == 2
    asyncio.run(twice(Run()))  # a new run (a new watch round) starts empty
    assert len(calls) == 3
