"""Atomic file output: a reader (a Prometheus scrape, a cron consumer) never sees a half-written file.

The report is written to a temporary file in the target's directory and renamed over the target. New files are
owner-only (0600); an existing file keeps its mode, so `chmod 644` once is enough for a collector running as
another user.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import TextIO

from dnscheck.errors import ConfigError


@contextlib.contextmanager
def atomic_open(path: str, perms: int | None = None) -> Iterator[TextIO]:
    """`perms` (e.g. 0o600 for a state file) forces the file's mode instead of keeping an existing file's."""
    target = os.path.abspath(path)
    directory = os.path.dirname(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode) if perms is None else perms
    except FileNotFoundError:
        mode = 0o600
    except OSError as e:
        raise ConfigError(f"cannot write {path}: {e.strerror}") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise ConfigError(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
