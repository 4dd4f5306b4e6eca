#!/usr/bin/env python3
"""The gettext catalogues, with Babel: extract the template, merge it into each language, compile, check.

    python3 scripts/i18n.py extract    # dnscheck/locale/dnscheck.pot from the sources (babel.cfg)
    python3 scripts/i18n.py update     # merge the template into every .po (new ids come out untranslated)
    python3 scripts/i18n.py compile    # every .po -> the .mo shipped in the package
    python3 scripts/i18n.py check      # exit 1 if an id lacks a translation, one is fuzzy, or a file is stale

After editing a message id in the code: extract, update, translate the new entries in the .po, compile. The
unit test tests/unit/test_translations.py runs `check`, so CI fails on any of those.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "dnscheck" / "locale"
POT = LOCALE / "dnscheck.pot"
DOMAIN = "dnscheck"
KEYWORDS = {"N_": None, "_": None, "ngettext": (1, 2), "_np": (1, 2)}
LANGUAGES = ("fr",)


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def extracted() -> Catalog:
    """The template as the sources say today (no dates in the header, so that it is reproducible)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    cat = Catalog(
        project="dnscheck",
        version="1",
        domain=DOMAIN,
        copyright_holder="the dnscheck authors",
        msgid_bugs_address="https://github.com/ (dnscheck issues)",
        fuzzy=False,
    )
    cat.creation_date = cat.revision_date = _EPOCH
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        cat.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return cat


_EPOCH = __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").UTC)


def _po_bytes(cat: Catalog, **kw: bool) -> bytes:
    buf = io.BytesIO()
    # Files without line numbers, so that moving code does not touch the catalogues (fewer merge conflicts).
    write_po(buf, cat, width=110, omit_header=False, include_lineno=False, **kw)
    return buf.getvalue()


def _mo_bytes(cat: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, cat, use_fuzzy=False)
    return buf.getvalue()


def _read(path: Path, lang: str | None = None) -> Catalog:
    with open(path, "rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def ids(cat: Catalog) -> set[object]:
    return {m.id for m in cat if m.id}


def extract() -> None:
    POT.parent.mkdir(parents=True, exist_ok=True)
    POT.write_bytes(_po_bytes(extracted(), sort_output=True))


def update() -> None:
    template = _read(POT)
    for lang in LANGUAGES:
        path = po_path(lang)
        if not path.exists():
            cat = Catalog(locale=lang, domain=DOMAIN, project="dnscheck", fuzzy=False)
        else:
            cat = _read(path, lang)
        cat.update(template, no_fuzzy_matching=True)
        cat.creation_date = cat.revision_date = _EPOCH
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_po_bytes(cat, sort_output=True, ignore_obsolete=True))


def compile_all() -> None:
    for lang in LANGUAGES:
        mo_path(lang).write_bytes(_mo_bytes(_read(po_path(lang), lang)))


def problems() -> Iterable[str]:
    fresh = ids(extracted())
    if not POT.exists():
        yield f"{POT.relative_to(ROOT)} is missing: run scripts/i18n.py extract"
    elif ids(_read(POT)) != fresh:
        yield f"{POT.relative_to(ROOT)} is stale (the sources' message ids differ): run scripts/i18n.py extract"
    for lang in LANGUAGES:
        po = _read(po_path(lang), lang)
        for m in po:
            if not m.id:
                continue
            name = m.id if isinstance(m.id, str) else m.id[0]
            if m.fuzzy:
                yield f"{lang}: fuzzy translation of {name!r}"
            elif not (all(m.string) if isinstance(m.string, tuple | list) else m.string):
                yield f"{lang}: no translation of {name!r}"
        for missing in sorted(str(i) for i in fresh - ids(po)):
            yield f"{lang}: {missing!r} is not in {po_path(lang).relative_to(ROOT)}: run scripts/i18n.py update"
        mo = mo_path(lang)
        if not mo.exists() or mo.read_bytes() != _mo_bytes(po):
            yield f"{mo.relative_to(ROOT)} is stale or missing: run scripts/i18n.py compile"


def main(argv: list[str]) -> int:
    commands = {"extract": extract, "update": update, "compile": compile_all}
    if len(argv) != 1 or argv[0] not in (*commands, "check"):
        print(__doc__, file=sys.stderr)
        return 64
    if argv[0] != "check":
        commands[argv[0]]()
        return 0
    found = list(problems())
    for p in found:
        print(p, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
