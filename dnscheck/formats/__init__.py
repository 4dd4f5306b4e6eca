"""Output formats, all behind one interface. Each lives in its own module, imported only when chosen.

A format receives results one at a time (`result`), in input order unless it says `ordered = False`, and a
summary at the end. Reports go to the stream given; nothing here decides exit codes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dnscheck.formats.base import Format, Summary  # noqa: F401 - names served by __getattr__


# name -> "module:Class". The CLI offers exactly these; a test walks every entry.
FORMATS: dict[str, str] = {
    "table": "dnscheck.formats.table:TableFormat",
    "json": "dnscheck.formats.json:JsonFormat",
    "jsonl": "dnscheck.formats.json:JsonLinesFormat",
    "markdown": "dnscheck.formats.markdown:MarkdownFormat",
    "csv": "dnscheck.formats.csv:CsvFormat",
    "nagios": "dnscheck.formats.nagios:NagiosFormat",
    "prometheus": "dnscheck.formats.prometheus:PrometheusFormat",
}


def __getattr__(name: str) -> Any:
    # Format and Summary live in formats.base; this module stays light because the CLI imports it at start-up.
    if name in ("Format", "Summary"):
        from dnscheck.formats import base

        return getattr(base, name)
    raise AttributeError(name)


def get_format(name: str) -> type[Format]:
    module, _, cls = FORMATS[name].partition(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return,unused-ignore]
