"""The real-world corpus (fixtures/realworld/, see the README.md there) through the installed `dnscheck`.

Every zone file is checked with `--zone-file -f json`; the verdict, the exit code and the exact set of finding
codes must match what MANIFEST.json says a careful admin expects, and the output must match the schema.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DnscheckCommand
from tests.schema import validate_output

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "realworld"
MANIFEST = json.loads((CORPUS / "MANIFEST.json").read_text())["fixtures"]
EXIT = {"safe": 0, "warning": 1, "blocked": 2, "unknown": 3}


def test_corpus_size_and_provenance() -> None:
    assert len(MANIFEST) == len(list(CORPUS.glob("*.zone")))
    for entry in MANIFEST:
        src = entry["source"]
        assert src.get("url") or (src.get("repo") and src.get("path")), entry["file"]


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_realworld_fixture(entry: dict, dnscheck_offline: DnscheckCommand) -> None:
    proc = dnscheck_offline("check", entry["domain"], "--zone-file", str(CORPUS / entry["file"]), "-f", "json")
    out = json.loads(proc.stdout)
    validate_output(proc.stdout, "json")
    (result,) = out["results"]
    # Offline, without --parent-ds, every zone-file check says DNSSEC was not checked: not part of the record set.
    codes = sorted({f["code"] for f in result["findings"]} - {"DNSSEC_UNCHECKED"})
    assert (result["verdict"], codes) == (entry["expect"]["verdict"], entry["expect"]["codes"]), entry["note"]
    assert proc.rc == EXIT[entry["expect"]["verdict"]]
