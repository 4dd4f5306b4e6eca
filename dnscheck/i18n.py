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
