"""The command line in the user's language: `--lang`, and help texts translated when shown.

The language is chosen once, before click parses anything, so that every message (help included) uses it:
`--lang en|fr` if given, else the environment (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), else English. Help texts are
message ids (`N_`) kept as they are on the commands and parameters; `localise` shows them translated, and can be
applied again in another language (the tests run both in one process).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from dnscheck.i18n import LANGUAGES, N_, _, from_environment, set_language

LANG_HELP = N_("Language of the report and messages (default: from LANGUAGE, LC_ALL, LC_MESSAGES or LANG).")


def _set(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        set_language(value)
    return value


def lang_option() -> click.Option:
    """`--lang`, on the group and on every command. Eager, so that it is applied before `--help`."""
    return click.Option(
        ["--lang"],
        type=click.Choice(LANGUAGES),
        default=None,
        is_eager=True,
        expose_value=False,
        callback=_set,
        help=LANG_HELP,
    )


def choose(argv: Sequence[str]) -> str:
    """The language for this run: the last valid `--lang` before a `--`, else the environment's.

    An invalid `--lang` is left to click, which refuses it (a usage error)."""
    chosen = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        value = argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else arg.partition("=")[2]
        if (arg == "--lang" or arg.startswith("--lang=")) and value in LANGUAGES:
            chosen = value
    return chosen or from_environment()


_KEPT = "_dnscheck_msgids"


def localise(cmd: click.Command) -> click.Command:
    """Show `cmd`'s help, epilog and parameters' help in the current language, and give it `--lang`."""
    if not any(p.name == "lang" for p in cmd.params):
        cmd.params.append(lang_option())
    for obj, attrs in ((cmd, ("help", "epilog", "short_help")), *((p, ("help",)) for p in cmd.params)):
        kept: dict[str, Any] = obj.__dict__.setdefault(_KEPT, {a: getattr(obj, a, None) for a in attrs})
        for attr, msgid in kept.items():
            if msgid:
                setattr(obj, attr, _(msgid))
    return cmd
