"""Errors that carry an explanation for the person at the terminal.

The CLI catches DnscheckError at the top and prints `message` (and `hint`); a traceback appears only with -v.
"""

from __future__ import annotations

EXIT_USAGE = 64  # EX_USAGE: never click's 2, which would read as "blocked"
EXIT_INTERNAL = 70  # EX_SOFTWARE
EXIT_CANTCREAT = 73  # EX_CANTCREAT: an output file that cannot be created
EXIT_IOERR = 74  # EX_IOERR: writing it failed on the way (disk full)


class DnscheckError(Exception):
    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class ConfigError(DnscheckError):
    """Bad options or environment: no resolver configuration, unusable --resolver, unreadable file."""


class ZoneFileError(DnscheckError):
    """A --zone-file that cannot be used as it is."""


class CantCreateError(DnscheckError):
    """An output or state file that cannot be created: a directory, no permission, a read-only file system."""

    exit_code = EXIT_CANTCREAT


class WriteError(DnscheckError):
    """Writing an output or state file failed on the way (disk full, I/O error); the old file is left as it was."""

    exit_code = EXIT_IOERR
