"""The message catalogue: every code has words, every entry renders, the README lists every code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dnscheck.catalogue import MESSAGES, fields, message, remediation
from dnscheck.codes import CODES, Topic, finding, topic_of
from dnscheck.models import Finding, Record, Severity

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_code_has_a_catalogue_entry_with_a_remediation_or_a_reason_not_to() -> None:
    for code in CODES:
        assert code in MESSAGES, code
        assert MESSAGES[code].fix is not None, f"{code}: say what to do (or '' for a fact)"


def test_every_entry_belongs_to_a_code_or_is_a_shared_shape() -> None:
    for key in MESSAGES:
        head = key.split(".")[0]
        assert head == "*" or head in CODES, key


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_entry_renders_with_its_arguments(key: str) -> None:
    head, _, variant = key.partition(".")
    code = head if head != "*" else "MX_M365"
    entry = MESSAGES[key]
    names = fields(entry.text) | fields(entry.fix or "")
    args = {n: f"<{n}>" for n in names if n != "cloud"}
    sev = CODES[code].severity
    f = Finding(code, sev, tuple(args.items()), Record("x.example", "MX", "v"), "usgov", variant or None)
    text = message(f)
    assert "{" not in text and "}" not in text, text
    for n in args:
        assert f"<{n}>" in text + remediation(f), (key, n)
    if "cloud" in names:
        assert "US Government" in text


def test_readme_findings_table_lists_every_code_with_its_severity() -> None:
    rows = dict(re.findall(r"^\| `([A-Z0-9_]+)` \| ([^|]+) \|", README.read_text(), re.M))
    for code, row in CODES.items():
        assert code in rows, f"README findings table lacks {code}"
        assert row.severity.value in rows[code], (code, rows[code])


def test_a_severity_a_code_does_not_allow_is_refused() -> None:
    with pytest.raises(ValueError):
        finding("MX_M365", severity=Severity.INFO)


def test_lookup_failed_belongs_to_the_step_of_its_record() -> None:
    mx = finding("LOOKUP_FAILED", severity=Severity.UNKNOWN, record=Record("a", "MX", ""))
    ns = finding("LOOKUP_FAILED", severity=Severity.UNKNOWN, record=Record("a", "NS", ""))
    txt = finding("LOOKUP_FAILED", record=Record("a", "TXT", ""))
    crashed = finding("LOOKUP_FAILED", severity=Severity.UNKNOWN)
    assert [topic_of(f) for f in (mx, ns, txt, crashed)] == [Topic.MAIL, Topic.DNS, Topic.LEFTOVER, Topic.MAIL]
    assert all(topic_of(finding(c)) is not Topic.RECORD for c in CODES if c != "LOOKUP_FAILED")


def test_the_json_schema_lists_every_code() -> None:
    import json

    schema = json.loads((README.parent / "dnscheck" / "schema" / "result.schema.json").read_text())
    found: list[list[str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("code"), dict) and "enum" in node["code"]:
                found.append(node["code"]["enum"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    assert found and all(sorted(codes) == sorted(CODES) for codes in found)
