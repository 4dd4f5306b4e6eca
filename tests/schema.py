"""Validate dnscheck's JSON output against the published schema (dnscheck/schema/result.schema.json)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = json.loads(resources.files("dnscheck").joinpath("schema/result.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate_report(doc: dict[str, Any]) -> None:
    """A whole `--format json` document."""
    _validator().validate(doc)


def validate_result(obj: dict[str, Any]) -> None:
    """One `--format jsonl` line."""
    v = _validator()
    sub = v.evolve(schema={"$ref": "#/$defs/result", "$defs": v.schema["$defs"]})
    sub.validate(obj)


def validate_output(text: str, fmt: str) -> list[dict[str, Any]]:
    """Parse and validate `json` or `jsonl` output; return the result objects."""
    if fmt == "json":
        doc = json.loads(text)
        validate_report(doc)
        return list(doc["results"])
    results = [json.loads(line) for line in text.splitlines() if line.strip()]
    for r in results:
        validate_result(r)
    return results
