"""Run many checks: one result per input line, in bounded memory, with bounded concurrency.

- Input is consumed lazily and results are yielded as soon as they may be: in input order (`ordered=True`, for
  json/table/csv) or as they complete (jsonl). In ordered mode at most `window` results wait for a slow one ahead of
  them, so memory does not grow with the number of domains.
- A domain that appears on several lines is checked once while in flight, and its recent results are reused from a
  small cache; every line still gets its own result, carrying its own input text.
- A check that raises is turned into an `unknown` result for that line; the others go on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

from dnscheck.check import failed_result, invalid_result
from dnscheck.models import Result
from dnscheck.normalise import Invalid, Target, normalise

log = logging.getLogger(__name__)
CACHE_SIZE = 4096


class Runner:
    def __init__(self, check: Callable[[Target], Awaitable[Result]], concurrency: int = 50) -> None:
        self._check = check
        self._sem = asyncio.Semaphore(concurrency)
        self.concurrency = concurrency
        self._inflight: dict[str, asyncio.Future[Result]] = {}
        self._done: OrderedDict[str, Result] = OrderedDict()

    async def _one(self, raw: str) -> Result:
        item = normalise(raw)
        if isinstance(item, Invalid):
            return invalid_result(item)
        cached = self._done.get(item.domain)
        if cached is not None:
            return dataclasses.replace(cached, input=raw)
        shared = self._inflight.get(item.domain)
        if shared is None:
            shared = asyncio.ensure_future(self._guarded(item))
            self._inflight[item.domain] = shared
            shared.add_done_callback(lambda f, d=item.domain: self._remember(d, f))
        result = await asyncio.shield(shared)
        return dataclasses.replace(result, input=raw)

    async def _guarded(self, target: Target) -> Result:
        async with self._sem:
            try:
                return await self._check(target)
            except Exception as e:  # one domain's bug must not lose the others' results
                log.debug("check of %s failed", target.domain, exc_info=True)
                return failed_result(target, f"{type(e).__name__}: {e}")

    def _remember(self, domain: str, fut: asyncio.Future[Result]) -> None:
        self._inflight.pop(domain, None)
        if not fut.cancelled() and fut.exception() is None:
            self._done[domain] = fut.result()
            if len(self._done) > CACHE_SIZE:
                self._done.popitem(last=False)

    async def run(self, lines: Iterable[str], ordered: bool = True) -> AsyncIterator[Result]:
        window = self.concurrency * 4
        if ordered:
            queue: deque[asyncio.Task[Result]] = deque()
            for raw in lines:
                while queue and (len(queue) >= window or queue[0].done()):
                    yield await queue.popleft()
                queue.append(asyncio.ensure_future(self._one(raw)))
                await asyncio.sleep(0)  # let the new check start before reading the next line
            while queue:
                yield await queue.popleft()
        else:
            pending: set[asyncio.Task[Result]] = set()
            for raw in lines:
                if len(pending) >= window:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for t in done:
                        yield t.result()
                pending.add(asyncio.ensure_future(self._one(raw)))
                await asyncio.sleep(0)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for t in done:
                    yield t.result()
