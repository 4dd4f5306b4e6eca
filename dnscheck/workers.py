"""`--workers N`: one run spread over N processes, so that a fleet uses every core.

The parent reads the input, hands each line with its number to a worker chosen by a hash of the line (so that
duplicates meet in one worker), and writes the report; each worker is a whole single-process run (its own
resolver, sockets, run caches and event loop) over the lines it is handed, at its share of `--concurrency`,
`--per-server`, `--rate` and the per-authoritative-server budget, so that N workers put no more load on a server
than one process would, and the workers learn each resolver's pace together.

- Results come back as data: the same frozen dataclasses a single process builds (pickled values: names,
  records, findings), never a live object. Results are put back in input order (json, table, csv) or handed over
  as they arrive (jsonl).
- Memory stays flat: at most `window` lines are between being read and being reported, however long the input.
- Each worker has its own pipes. A worker that dies (killed, out of memory) closes its result pipe; its lines
  still get a result each (`unknown`, saying so) and the others go on.
- A worker whose parent has gone away stops by itself (it checks while it waits for lines).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from dnscheck.models import Result
from dnscheck.settings import CheckSettings
from dnscheck.shard import slice_of

log = logging.getLogger(__name__)
POLL_S = 1.0  # how often an idle worker checks that its parent is still there
PACING = -1  # the line number of a worker's last message: its resolver counts


def share(settings: CheckSettings, n: int) -> CheckSettings:
    """One worker's settings: its share of the limits, so that the workers together stay within them."""
    dns = settings.dns
    dns = dataclasses.replace(
        dns,
        concurrency=math.ceil(dns.concurrency / n),
        per_server=math.ceil(dns.per_server / n),
        rate=dns.rate / n if dns.rate else None,
    )
    return dataclasses.replace(settings, dns=dns, workers=1)


class Pool:
    """N worker processes over one input; `results` yields one result per line."""

    def __init__(
        self, settings: CheckSettings, n: int, setup: Callable[..., Any], window: int | None = None
    ) -> None:
        self.n = n
        self.window = window or max(1024, settings.dns.concurrency * 16)
        # fork: a worker starts in milliseconds with the modules already imported. Nothing runs in a thread yet.
        methods = multiprocessing.get_all_start_methods()
        ctx: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        sys.stdout.flush()  # a forked child flushes the inherited buffer when it ends: leave nothing in it
        sys.stderr.flush()
        part = share(settings, n)
        from dnscheck.collect.paced import MAX_SLOTS, SHARED_FIELDS

        # Each resolver's learnt pace, one for all the workers (dnscheck.collect.paced).
        pace = (ctx.Array("d", SHARED_FIELDS * MAX_SLOTS), n)
        self.inboxes: list[Connection] = []
        self.outboxes: list[Connection] = []
        self.procs: list[Any] = []
        for i in range(n):
            in_r, in_w = ctx.Pipe(duplex=False)
            out_r, out_w = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=_worker,
                args=(setup, part, in_r, out_w, os.getpid(), pace),
                name=f"dnscheck-worker-{i + 1}",
                daemon=True,
            )
            proc.start()
            in_r.close()  # the worker's ends: when it dies, its result pipe reads as closed here
            out_w.close()
            self.inboxes.append(in_w)
            self.outboxes.append(out_r)
            self.procs.append(proc)
        self._cond = threading.Condition()
        self._load = [0] * n  # lines handed to each worker and not yet answered
        self._owner: dict[int, tuple[str, int]] = {}  # line number -> (line, worker), while outstanding
        self._dead: set[int] = set()
        self._handed = 0  # results handed over
        self._notes: list[
            tuple[str, int, Any]
        ] = []  # from the feeding thread: ("lost", n, why), ("end", n, err)
        self._wake_r, self._wake_w = os.pipe()
        self._readers: dict[Connection, int] = {conn: w for w, conn in enumerate(self.outboxes)}
        self.pacing: list[Any] = []  # each worker's resolver counts, sent as it ends (dnscheck.collect.paced)

    def results(self, lines: Iterator[str], ordered: bool = True) -> Iterator[Result]:
        """One result per line, in input order or (`ordered=False`) as they arrive."""
        feeder = threading.Thread(target=self._feed, args=(lines,), name="dnscheck-feed", daemon=True)
        feeder.start()
        try:
            yield from self._collect(ordered)
            self._drain()
        finally:
            self.close()

    # The feeding thread: read the input, wait for room in the window, hand each line to the least busy worker.

    def _feed(self, lines: Iterator[str]) -> None:
        count = 0
        error: BaseException | None = None
        try:
            for seq, raw in enumerate(lines):
                count = seq + 1
                self._dispatch(seq, raw)
        except BaseException as e:  # noqa: BLE001 - an unreadable input: reported after the results read so far
            error = e
        for conn in self.inboxes:
            with contextlib.suppress(OSError):
                conn.send(None)
        self._note(("end", count, error))

    def _dispatch(self, seq: int, raw: str) -> None:
        with self._cond:
            self._cond.wait_for(lambda: seq - self._handed < self.window)
            alive = [w for w in range(self.n) if w not in self._dead]
            if not alive:
                self._owner[seq] = (raw, -1)
                self._note(("lost", seq, "no worker process is left to check it"))
                return
            # The same line always goes to the same worker (a domain listed twice is checked once, from that
            # worker's cache, and asked of Microsoft once with --tenant-check); another if that one has died.
            home = slice_of(raw, self.n) - 1
            w = home if home in alive else min(alive, key=lambda i: self._load[i])
            self._load[w] += 1
            self._owner[seq] = (raw, w)
        with contextlib.suppress(
            OSError
        ):  # a worker that just died: its lines are answered when it is reaped
            self.inboxes[w].send((seq, raw))

    def _note(self, note: tuple[str, int, Any]) -> None:
        with self._cond:
            self._notes.append(note)
        os.write(self._wake_w, b"!")

    # The calling thread: gather results, put them in order, reap dead workers.

    def _collect(self, ordered: bool) -> Iterator[Result]:
        waiting: dict[int, Result] = {}  # results that arrived ahead of their turn (ordered)
        total: int | None = None
        error: BaseException | None = None
        readers = self._readers
        while total is None or self._handed < total:
            arrived: list[tuple[int, Result]] = []
            for ready in wait([*readers, self._wake_r]):
                if ready == self._wake_r:
                    os.read(self._wake_r, 4096)
                    total, error = self._take_notes(arrived, total, error)
                    continue
                conn: Connection = ready  # type: ignore[assignment]
                try:
                    arrived.extend(conn.recv())
                except Exception:  # closed (EOF), or cut off mid-message: the worker has ended
                    arrived.extend(self._reap(readers.pop(conn)))
            for seq, result in arrived:
                if seq == PACING:
                    self.pacing += result  # type: ignore[arg-type]
                    continue
                if self._settle(seq) is None:
                    continue  # already answered (a worker reaped while its last results were in the pipe)
                if not ordered:
                    yield result
                    self._advance()
                    continue
                waiting[seq] = result
                while self._handed in waiting:
                    yield waiting.pop(self._handed)
                    self._advance()
        if error is not None:
            raise error

    def _drain(self, timeout: float = 10.0) -> None:
        """After the last result: each worker's last message (its resolver counts), until it closes its pipe."""
        for inbox in self.inboxes:
            with contextlib.suppress(OSError):
                inbox.send(None)
        end = time.monotonic() + timeout
        while self._readers and time.monotonic() < end:
            for ready in wait(list(self._readers), max(0.0, end - time.monotonic())):
                conn: Connection = ready  # type: ignore[assignment]
                try:
                    items = conn.recv()
                except Exception:  # closed: that worker is done
                    del self._readers[conn]
                    continue
                self.pacing += [x for seq, payload in items if seq == PACING for x in payload]

    def _take_notes(
        self, arrived: list[tuple[int, Result]], total: int | None, error: BaseException | None
    ) -> tuple[int | None, BaseException | None]:
        with self._cond:
            notes, self._notes = self._notes, []
        for kind, n, detail in notes:
            if kind == "end":
                total, error = n, detail
            else:
                arrived.append((n, _lost(self._owner[n][0], detail)))
        return total, error

    def _settle(self, seq: int) -> str | None:
        with self._cond:
            owner = self._owner.pop(seq, None)
            if owner is None:
                return None
            if owner[1] >= 0:
                self._load[owner[1]] -= 1
            return owner[0]

    def _advance(self) -> None:
        with self._cond:
            self._handed += 1
            self._cond.notify_all()

    def _reap(self, w: int) -> list[tuple[int, Result]]:
        """A worker's result pipe closed: it has ended. Its outstanding lines get a result each."""
        proc = self.procs[w]
        proc.join(5)
        with self._cond:
            self._dead.add(w)
            lines = [(seq, raw) for seq, (raw, owner) in self._owner.items() if owner == w]
            self._cond.notify_all()
        if not lines:
            return []
        why = f"the worker process checking it ended unexpectedly (exit code {proc.exitcode})"
        print(f"dnscheck: {proc.name} ended unexpectedly (exit code {proc.exitcode})", file=sys.stderr)
        return [(seq, _lost(raw, why)) for seq, raw in lines]

    def close(self) -> None:
        for conn in self.inboxes:
            with contextlib.suppress(OSError):
                conn.send(None)
        for proc in self.procs:
            proc.join(2)
            if proc.is_alive():
                proc.terminate()
                proc.join(2)
        for conn in (*self.inboxes, *self.outboxes):
            conn.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)


def _lost(raw: str, why: str) -> Result:
    from dnscheck.check import failed_result, invalid_result
    from dnscheck.normalise import Invalid, normalise

    item = normalise(raw)
    return invalid_result(item) if isinstance(item, Invalid) else failed_result(item, why)


# The worker process.


def _worker(
    setup: Callable[..., Any],
    settings: CheckSettings,
    inbox: Connection,
    outbox: Connection,
    parent: int,
    pace: Any = None,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    try:
        asyncio.run(_serve(setup, settings, inbox, outbox, parent, pace))
    except BaseException as e:  # noqa: BLE001 - the parent answers this worker's lines as unknown
        log.debug("worker failed", exc_info=True)
        print(f"dnscheck: worker: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        os._exit(70)


async def _serve(
    setup: Callable[..., Any],
    settings: CheckSettings,
    inbox: Connection,
    outbox: Connection,
    parent: int,
    pace: Any = None,
) -> None:
    from dnscheck.runner import read_in_thread

    parts = pace[1] if pace is not None else 1
    source, runner = setup(settings, pace, parts)  # app.worker_setup: this process's source and runner
    sending: queue.SimpleQueue[tuple[int, Result] | None] = queue.SimpleQueue()
    sender = threading.Thread(target=_send, args=(sending, outbox), name="dnscheck-send", daemon=True)
    sender.start()
    try:
        items = read_in_thread(_received(inbox, parent))
        async for seq, result in runner.run_tagged(items, ordered=False):
            sending.put((seq, result))
        pacing = getattr(source, "pacing", None)
        sending.put((PACING, pacing() if pacing else []))
    finally:
        sending.put(None)
        await asyncio.to_thread(sender.join)


def _received(inbox: Connection, parent: int) -> Iterator[tuple[int, str]]:
    while True:
        if not inbox.poll(POLL_S):
            if os.getppid() != parent:
                return  # the parent is gone: nobody would read the results
            continue
        item = inbox.recv()
        if item is None:
            return
        yield item


def _send(sending: queue.SimpleQueue[tuple[int, Result] | None], outbox: Connection) -> None:
    """Send results in batches of whatever is ready: one message per batch, not per result. In a thread, so
    that a parent slow to read never stalls the checks in flight."""
    done = False
    while not done:
        batch = [sending.get()]
        with contextlib.suppress(queue.Empty):
            while len(batch) < 256:
                batch.append(sending.get_nowait())
        done = batch[-1] is None
        items = [x for x in batch if x is not None]
        if items:
            try:
                outbox.send(items)
            except OSError:  # the parent is gone
                return
