"""Reading the files dnscheck is given (a zone file, a state file) with bounds: they may be anything.

A FIFO or a device would block the open or the read forever (`--zone-file /dev/stdin`, `--state <(...)`), so
only regular files are read: the file is opened without blocking and refused, before any byte is read, when it
is not one. The read itself is bounded, and a JSON document is checked for nesting before it is parsed (the
parser recurses: a file of 100,000 `[` would end in a RecursionError).
"""

from __future__ import annotations

import json
import os
import re
import stat
from itertools import accumulate
from typing import Any

from dnscheck.errors import ConfigError, DnscheckError

MAX_STATE_BYTES = 64 << 20
MAX_JSON_DEPTH = 32  # the deepest state file written is 6 levels; results kept in a runbook state about 10


def read_regular(path: str, what: str, limit: int, error: type[DnscheckError] = ConfigError) -> bytes:
    """The bytes of `path`, at most `limit` of them; `what` names the option in messages ("--state").

    Raises FileNotFoundError when there is no file (the callers decide whether that is an error)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as e:
        raise error(f"cannot read {what} {path}: {e.strerror or e}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise error(
            f"{what} {path}: {_kind(mode)}, not a regular file",
            "dnscheck reads only regular files here (a pipe or a device could block the check forever): "
            "save it to a file first.",
        )
    try:
        data = _read_up_to(fd, limit + 1)
    except OSError as e:
        raise error(f"cannot read {what} {path}: {e.strerror or e}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise error(f"{what} {path}: larger than {limit >> 20} MiB")
    return data


def _read_up_to(fd: int, size: int) -> bytes:
    chunks, got = [], 0
    while got < size:
        chunk = os.read(fd, min(1 << 20, size - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(data: bytes) -> int:
    """How deeply `data` nests arrays and objects (strings skipped), without parsing it."""
    brackets = _STRING.sub(b"", data).translate(None, delete=_NOT_BRACKETS)
    return max(accumulate(_DEPTH[b] for b in brackets), default=0)


def load_json(path: str, what: str, error: type[DnscheckError] = ConfigError) -> Any:
    """The JSON document in `path` (raises FileNotFoundError when there is none, None when it is empty)."""
    data = read_regular(path, what, MAX_STATE_BYTES, error)
    if not data.strip():
        return None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise error(
            f"{what} {path}: nested more than {MAX_JSON_DEPTH} levels deep; it is not a dnscheck file"
        )
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise error(f"{what} {path}: it is not valid JSON ({e})") from None
