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

from dnscheck.errors import DnscheckError
from dnscheck.i18n import LANGUAGES, N_, _, from_environment, set_language

# The group's and `check`'s help (message ids, shown translated by `localise`).
EXIT_CODES_HELP = N_("""\b
Exit codes (the worst over all domains):
  0   safe       nothing points at Microsoft 365
  1   warning    leftovers to clean up (SPF, autodiscover, DKIM...)
  2   blocked    MX or NS still at Microsoft 365: do not remove the domain
  3   unknown    could not tell (timeout, SERVFAIL, NXDOMAIN, bad input)
  64  usage error (bad option, unreadable or malformed file)
  70  internal error (run with -v for the traceback)
  73  the -o file cannot be created (a directory, no permission, read-only)
  74  writing the -o file failed (disk full); the old file is left as it was
  141 the reader of the output went away (e.g. `| head`)
Blocked takes precedence over unknown.
""")

CLI_HELP = N_("""Does a custom domain still point at Microsoft 365? A preflight check before a DNS cutover, a
domain removal or a subscription cancellation.

\b
Examples:
  dnscheck check contoso.com
  dnscheck check contoso.com --zone-file planned.zone
  dnscheck check --input domains.txt --format json -o report.json
  dnscheck --lang fr check contoso.com
""")

CHECK_HELP = N_("""Check DOMAINs (names, URLs or e-mail addresses) for records that still point at Microsoft 365.

Resolves MX, NS, TXT (SPF, MS=ms... verification) and every name Microsoft 365 asks for (autodiscover,
DKIM selectors, SIP/Teams, Intune, msoid), all at once, and gives one verdict per domain:
safe, warning, blocked or unknown. A lookup that fails never counts as safe.

\b
Examples:
  dnscheck check contoso.com
  dnscheck check admin@contoso.com https://fabrikam.com/owa
  dnscheck check contoso.com --zone-file planned.zone     # before publishing a zone
  dnscheck check contoso.com --zone-file planned.zone --parent-ds live   # and its DNSSEC
  dnscheck check --input domains.txt -f jsonl --resolver 127.0.0.1:5300
  dnscheck check contoso.com -f json | jq .results[0].verdict
  dnscheck check contoso.com --lang fr
""")

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


def diagnostics(e: DnscheckError) -> str:
    """The error in the user's language (its known shapes are in dnscheck.reasons), with its hint."""
    from dnscheck.reasons import translate

    message, hint = translate(e.message), translate(e.hint) if e.hint else ""
    return f"{message}\n{hint}" if hint else str(message)
