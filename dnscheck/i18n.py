"""The user's language: one gettext translation for the process, chosen once by the CLI.

Every user-facing sentence is an English message id marked with `N_()` where it is defined (so Babel extracts it)
and passed through `_()` where it is rendered, never earlier: findings keep their code and arguments, and their
words are looked up at output time. English needs no catalogue: the message ids are the English text.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

DOMAIN = "dnscheck"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "fr")  # what --lang accepts; the first is the fallback

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def N_(message: str) -> str:
    """Mark a message id for extraction without translating it (it is translated when rendered)."""
    return message


def _(message: str) -> str:
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def language() -> str:
    return _language


def from_environment(environ: dict[str, str] | None = None) -> str:
    """The language the usual variables ask for (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), else English.

    An unknown language in the environment falls back to English silently, as gettext programs do."""
    env = os.environ if environ is None else environ
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if not value:
            continue
        for item in value.split(":"):
            code = item.split(".")[0].split("@")[0].split("_")[0].lower()
            if code in LANGUAGES:
                return code
            if code in ("c", "posix"):
                return "en"
        if var != "LANGUAGE":
            return "en"  # the first variable that is set decides, as in gettext
    return "en"


def set_language(lang: str) -> None:
    """Use `lang` ("en", "fr") for every message rendered from now on."""
    global _translation, _language
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language: {lang}")
    _language = lang
    if lang == "en":
        _translation = gettext.NullTranslations()
    else:
        _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


# --- words and figures in the user's language (human output only: JSON, CSV keys and codes never change) ---

# A verdict's or severity's value (JSON, exit codes) -> its word in a human report.
WORDS: dict[str, str] = {
    "safe": N_("safe"),
    "warning": N_("warning"),
    "blocked": N_("blocked"),
    "unknown": N_("unknown"),
    "info": N_("info"),
}

_MONTHS = (
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)


def word(value: str) -> str:
    """A verdict or severity value as a human report shows it ("blocked" -> "bloqué")."""
    return _(WORDS[value]) if value in WORDS else value


def number(n: float) -> str:
    """A number as the language writes it: English as Python does (3600, 0.412), French with a narrow no-break
    space between thousands and a decimal comma (3 600, 0,412), as CLDR (and so Babel's format_decimal) says."""
    text = f"{n:,}" if isinstance(n, int) else f"{n:,.3f}".rstrip("0").rstrip(".")
    if _language == "en":
        return text.replace(",", "")
    return text.replace(",", "\u202f").replace(".", ",")


def when(value: str) -> str:
    """An ISO 8601 UTC time or date (as in JSON) for a human report: unchanged in English; in French
    `27 novembre 2026 à 09:30 UTC`, or `27 novembre 2026` for a date. A value that does not parse is shown as it is."""
    from datetime import UTC, date, datetime

    if _language == "en" or not isinstance(value, str):
        return value
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return _("{month} {day}, {year}").format(day=d.day, month=_(_MONTHS[d.month - 1]), year=d.year)
        t = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return value
    return _("{month} {day}, {year} at {time} UTC").format(
        day=t.day, month=_(_MONTHS[t.month - 1]), year=t.year, time=t.strftime("%H:%M")
    )
