"""The one writer of files: `-o FILE` reports and the `--state` files of watch and runbook.

A regular file is written to a temporary file in its directory, flushed, fsync'ed and renamed over the target:
a reader (a Prometheus scrape, a cron consumer) sees the old file or the new one, never half of one. New files are
owner-only (0600); an existing report keeps its read/write bits (so `chmod 644` once is enough for a collector
running as another user); `perms` (0600 for a state file) forces the mode.

- A character device or a FIFO (`-o /dev/null`, `-o /dev/stdout`, `-o >(gzip > r.gz)`) is written through:
  there is nothing to rename, and replacing it would break it.
- A symlink is followed: its target is written atomically (the link stays a link). A link that another user
  planted in a directory others can write (sticky /tmp) is refused, as the kernel's `protected_symlinks` does.
- A directory, a block device or a socket is refused before anything runs (exit 73, EX_CANTCREAT), and so is a
  file that cannot be created (EACCES, EROFS, no such directory). A write that fails later (ENOSPC, EIO) is exit
  74 (EX_IOERR). Either way the old file stays as it was and no temporary file is left.
- SIGTERM and SIGHUP remove the temporary file before the process ends (SIGINT unwinds through the `finally`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
from collections.abc import Iterator
from types import FrameType
from typing import Any, TextIO

from dnscheck.errors import CantCreateError, WriteError

_temps: set[str] = set()  # temporary files in flight, removed by the signal handler
_previous: dict[int, Any] = {}
_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def atomic_open(path: str, perms: int | None = None, what: str = "-o") -> Iterator[TextIO]:
    """`what` names the option in error messages (-o, --state)."""
    target = _resolve(path, what)
    st = _existing(target, path, what)
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        with _write_through(target, path, what) as f:
            yield f
        return
    mode = perms if perms is not None else (stat.S_IMODE(st.st_mode) & 0o666 if st else 0o600)
    # SIGTERM/SIGHUP held back while the file is created and tracked: one arriving in between would otherwise
    # find a file its handler does not know of yet, and leave it behind.
    held = _hold_signals()
    try:
        try:
            fd, tmp = tempfile.mkstemp(
                prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=os.path.dirname(target)
            )
        except OSError as e:
            raise CantCreateError(f"cannot write {what} {path}: {e.strerror}") from None
        _track(tmp)
    finally:
        _release_signals(held)
    try:
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except OSError as e:  # ENOSPC, EDQUOT, EIO, EFBIG...: the report is not written, say so plainly
            raise WriteError(
                f"cannot write {what} {path}: {e.strerror or e}", "The old file was left as it was."
            ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        _untrack(tmp)


def _existing(target: str, path: str, what: str) -> os.stat_result | None:
    """What is at `target` now (None: nothing); a directory, a block device or a socket is refused."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise CantCreateError(f"cannot write {what} {path}: {e.strerror}") from None
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise CantCreateError(f"cannot write {what} {path}: it is {kind}", "Give the path of a file.")
    return st


def _resolve(path: str, what: str) -> str:
    """The file to write: `path`, or the target of the symlink at `path` (refused when planted by another user
    in a directory others can write)."""
    target = os.path.abspath(path)
    try:
        link = os.lstat(target)
    except OSError:
        return target
    if not stat.S_ISLNK(link.st_mode):
        return target
    parent = os.stat(os.path.dirname(target))
    shared = parent.st_mode & stat.S_ISVTX and parent.st_mode & stat.S_IWOTH
    if shared and link.st_uid not in (os.geteuid(), parent.st_uid):
        raise CantCreateError(
            f"cannot write {what} {path}: it is a symlink owned by another user in a shared directory",
            "Remove the link, or write the report somewhere else.",
        )
    return os.path.realpath(target)


@contextlib.contextmanager
def _write_through(target: str, path: str, what: str) -> Iterator[TextIO]:
    try:
        f = open(target, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
    except OSError as e:
        raise CantCreateError(f"cannot write {what} {path}: {e.strerror}") from None
    try:
        with f:
            yield f
    except OSError as e:
        raise WriteError(f"cannot write {what} {path}: {e.strerror or e}") from None


def _hold_signals() -> set[int | signal.Signals] | None:
    try:
        return signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    except (AttributeError, ValueError, OSError):  # not POSIX
        return None


def _release_signals(held: set[int | signal.Signals] | None) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _track(tmp: str) -> None:
    if not _temps:
        for sig in _SIGNALS:
            with contextlib.suppress(ValueError):  # not the main thread: no handler, the finally still runs
                _previous[sig] = signal.signal(sig, _on_signal)
    _temps.add(tmp)


def _untrack(tmp: str) -> None:
    _temps.discard(tmp)
    if not _temps:
        for sig, handler in _previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, handler)
        _previous.clear()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Remove the temporary files, then die of the signal as if it had not been caught (exit 128+N)."""
    for tmp in list(_temps):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _temps.clear()
    previous = _previous.get(signum, signal.SIG_DFL)
    signal.signal(signum, previous if callable(previous) else signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
    else:
        os.kill(os.getpid(), signum)
