"""Run many checks: one result per input line, in bounded memory, with bounded concurrency.

- Input is consumed lazily and results are yielded as soon as they may be: in input order (`ordered=True`,
  for json/table/csv) or as they complete (jsonl). At most `window` lines are read ahead of the last result
  handed over, so memory does not grow with the number of domains.
- A domain that appears on several lines is checked once while in flight, and its recent results are reused
  from a small LRU cache (CACHE_SIZE domains); every line still gets its own result, carrying its own input
  text. A duplicate further apart than that is checked again: the price of memory that stays flat.
- Input may be a plain iterable (read between checks) or an async one; `read_in_thread` turns a blocking
  stream such as stdin into the latter, so a slow producer upstream never stalls the checks already running.
- A check that raises is turned into an `unknown` result for that line; the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, TypeVar

from dnscheck.check import failed_result, invalid_result
from dnscheck.models import Result
from dnscheck.normalise import Invalid, Target, echo, normalise

log = logging.getLogger(__name__)
# 1,024, not 4,096: each result of --mode auto holds the delegation (~13 KB), and 4,096 of them kept a 100,000-line
# fleet at 108 MB, over its 100 MB target (docs/performance.md). Duplicates further apart are checked again.
CACHE_SIZE = 1024
ADMIT_POLL_S = 0.02
T = TypeVar("T")
S = TypeVar("S")


class Runner:
    def __init__(
        self,
        check: Callable[[Target], Awaitable[Result]],
        concurrency: int = 50,
        window: int | None = None,
        admit: Callable[[int], bool] | None = None,
    ) -> None:
        self._check = check
        self._sem = asyncio.Semaphore(concurrency)
        # Below the ceiling, `admit(active)` may hold a domain back (a resolver's pace; see collect.paced).
        self._admit = admit
        self._active = 0
        self.concurrency = concurrency
        # Lines read ahead of the last result handed over. In input order, one slow domain holds back the ones
        # after it: a wide window keeps the others busy meanwhile, at a few kB per waiting result.
        self.window = window or max(1024, concurrency * 16)
        self._inflight: dict[str, asyncio.Future[Result]] = {}
        self._done: OrderedDict[str, Result] = OrderedDict()

    async def _one(self, raw: str) -> Result:
        try:
            item = normalise(raw)
        except Exception as e:  # a bug on one odd line must not stop the batch
            log.debug("normalising %r failed", raw, exc_info=True)
            item = Invalid(echo(raw), f"could not read this line ({type(e).__name__}: {e})")
        if isinstance(item, Invalid):
            return invalid_result(item)
        cached = self._done.get(item.domain)
        if cached is not None:
            self._done.move_to_end(item.domain)
            return dataclasses.replace(cached, input=echo(raw))
        shared = self._inflight.get(item.domain)
        if shared is None:
            shared = asyncio.ensure_future(self._guarded(item))
            self._inflight[item.domain] = shared
            shared.add_done_callback(functools.partial(self._remember, item.domain))
        result = await asyncio.shield(shared)
        return dataclasses.replace(result, input=echo(raw))

    async def _guarded(self, target: Target) -> Result:
        async with self._sem:
            while self._admit is not None and not self._admit(self._active):
                await asyncio.sleep(ADMIT_POLL_S)
            self._active += 1
            try:
                return await self._check(target)
            except Exception as e:  # one domain's bug must not lose the others' results
                log.debug("check of %s failed", target.domain, exc_info=True)
                return failed_result(target, f"{type(e).__name__}: {e}")
            finally:
                self._active -= 1

    def _remember(self, domain: str, fut: asyncio.Future[Result]) -> None:
        self._inflight.pop(domain, None)
        if not fut.cancelled() and fut.exception() is None:
            self._done[domain] = fut.result()
            if len(self._done) > CACHE_SIZE:
                self._done.popitem(last=False)

    async def run(
        self, lines: Iterable[str] | AsyncIterable[str], ordered: bool = True
    ) -> AsyncIterator[Result]:
        """One result per line: in input order, or (`ordered=False`) as each completes.

        A producer reads the input and starts checks while the caller consumes results; at most `window` lines
        are read ahead of the last result handed over, so memory stays flat however long the input is.
        """
        async for _, result in self.run_tagged(_untagged(lines), ordered):
            yield result

    async def run_tagged(
        self, items: Iterable[tuple[T, str]] | AsyncIterable[tuple[T, str]], ordered: bool = True
    ) -> AsyncIterator[tuple[T, Result]]:
        """`run` for (tag, line) pairs: each result comes with its line's tag (a worker process uses the line's
        number, so that results completed in any order can be put back in input order)."""
        slots = asyncio.Semaphore(self.window)
        handed: asyncio.Queue[object] = asyncio.Queue()  # tasks: in input order, or as they complete
        failure: list[BaseException] = []

        async def produce() -> None:
            inflight: set[asyncio.Task[tuple[T, Result]]] = set()
            try:
                async for tag, raw in _aiter(items):
                    await slots.acquire()
                    task = asyncio.ensure_future(self._tagged(tag, raw))
                    if ordered:
                        handed.put_nowait(task)
                    else:
                        inflight.add(task)
                        task.add_done_callback(inflight.discard)
                        task.add_done_callback(handed.put_nowait)
                if inflight:  # their done callbacks run before this wait returns: none comes after _END
                    await asyncio.wait(set(inflight))
            except Exception as e:  # an unreadable input: report it after the results already read
                failure.append(e)
            finally:
                handed.put_nowait(_END)

        producer = asyncio.ensure_future(produce())
        try:
            while True:
                item = await handed.get()
                if item is _END:
                    break
                task: asyncio.Task[tuple[T, Result]] = item  # type: ignore[assignment]
                pair = await task
                slots.release()
                yield pair
            if failure:
                raise failure[0]
        finally:
            if not producer.done():
                producer.cancel()

    async def _tagged(self, tag: T, raw: str) -> tuple[T, Result]:
        return tag, await self._one(raw)


_END = object()


async def _untagged(lines: Iterable[str] | AsyncIterable[str]) -> AsyncIterator[tuple[None, str]]:
    async for raw in _aiter(lines):
        yield None, raw


async def _aiter(lines: Iterable[S] | AsyncIterable[S]) -> AsyncIterator[S]:
    if isinstance(lines, AsyncIterable):
        async for raw in lines:
            yield raw
        return
    for raw in lines:
        yield raw
        await asyncio.sleep(0)  # let the checks already started make progress


async def read_in_thread(lines: Iterable[S], high_water: int = 1024) -> AsyncIterator[S]:
    """Iterate a blocking iterable (stdin, a file) in a thread, so that waiting for the next line never stalls
    the checks in flight: `tail -f list | dnscheck check -i - -f jsonl` answers each domain once checked.

    Lines cross over in batches (one wake-up per batch, not per line); at most `high_water` wait to be taken.
    """
    loop = asyncio.get_running_loop()
    buffer: deque[S] = deque()
    lock = threading.Lock()
    room = threading.Semaphore(high_water)
    ready = asyncio.Event()
    state: dict[str, Any] = {"finished": False, "error": None}
    stop = threading.Event()

    def wake() -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already closed: nobody is waiting
            loop.call_soon_threadsafe(ready.set)

    def reader() -> None:
        try:
            for raw in lines:
                room.acquire()
                if stop.is_set():
                    return
                with lock:
                    buffer.append(raw)
                    first = len(buffer) == 1
                if first:
                    wake()
        except BaseException as e:  # noqa: BLE001 - handed to the event loop, raised there
            state["error"] = e
        finally:
            with lock:
                state["finished"] = True
            wake()

    thread = threading.Thread(target=reader, name="dnscheck-input", daemon=True)
    thread.start()
    try:
        while True:
            ready.clear()
            with lock:
                batch = list(buffer)
                buffer.clear()
                finished = state["finished"]
            for raw in batch:
                room.release()
                yield raw
            if not batch:
                if finished:
                    break
                await ready.wait()
        if state["error"] is not None:
            raise state["error"]
    finally:
        stop.set()
        room.release()  # unblock a reader waiting for room, so that it sees `stop`
