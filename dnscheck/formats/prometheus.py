"""Prometheus metrics in the node_exporter textfile-collector format, written with prometheus_client.

    dnscheck check --input domains.txt -f prometheus -o /var/lib/node_exporter/textfile/dnscheck.prom

`-o` writes atomically (a temporary file in the same directory, then a rename), so a scrape never reads a
half-written file; the temporary name does not end in `.prom`, so the collector ignores it.

Metrics:
    dnscheck_domain_verdict_code{domain}    the exit code of the domain's verdict (0 safe, 1 warning,
                                            2 blocked, 3 unknown); a line that is not a domain is
                                            labelled with its input
    dnscheck_domains{verdict}               domains per verdict
    dnscheck_findings{code}                 findings per code, over all domains
    dnscheck_exit_code                      the run's exit code (the worst verdict)
    dnscheck_run_duration_seconds           how long the run took
    dnscheck_last_run_timestamp_seconds     when it finished (Unix time)

prometheus_client is an optional dependency: `pip install 'dnscheck[prometheus]'`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dnscheck.codes import CODES
from dnscheck.errors import ConfigError
from dnscheck.formats.base import Format, Summary
from dnscheck.models import Result, Verdict
from dnscheck.text import clean

PREFIX = "dnscheck"


def _client() -> Any:
    try:
        import prometheus_client
        import prometheus_client.core
    except ImportError:
        raise ConfigError(
            "--format prometheus needs the prometheus_client package, which is not installed",
            "Install it with: pip install 'dnscheck[prometheus]'",
        ) from None
    return prometheus_client


class PrometheusFormat(Format):
    def begin(self) -> None:
        self._client = _client()  # fail before any DNS is done, not at the end
        # One small int per domain: the registry is built from these at the end, not from a Gauge child per
        # domain (which costs a lock and an object each).
        self._codes: dict[str, int] = {}

    def result(self, result: Result) -> None:
        # A line that is not a domain is labelled with its input, control characters escaped: node_exporter
        # drops the whole file when one line does not parse.
        key = result.domain or clean(result.input)
        # A domain listed twice gets one series; if its lines ever disagree, the worse verdict stands.
        self._codes[key] = max(
            self._codes.get(key, 0), result.verdict.exit_code, key=lambda c: _RANK_OF_CODE[c]
        )

    def end(self, summary: Summary) -> None:
        client = self._client
        registry = client.CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self._codes, summary, client.core))
        self.out.write(client.generate_latest(registry).decode("utf-8"))


_RANK_OF_CODE = {v.exit_code: v.rank for v in Verdict}


class _Collector:
    def __init__(self, codes: dict[str, int], summary: Summary, core: Any) -> None:
        self._codes = codes
        self._summary = summary
        self._core = core

    def collect(self) -> Iterator[Any]:
        core, s = self._core, self._summary
        verdict = core.GaugeMetricFamily(
            f"{PREFIX}_domain_verdict_code",
            "Verdict of the domain as dnscheck's exit code: 0 safe, 1 warning, 2 blocked, 3 unknown.",
            labels=["domain"],
        )
        for domain, code in self._codes.items():
            verdict.add_metric([domain], code)
        yield verdict

        domains = core.GaugeMetricFamily(
            f"{PREFIX}_domains", "Domains checked, by verdict.", labels=["verdict"]
        )
        for v in Verdict:
            domains.add_metric([v.value], s.by_verdict.get(v.value, 0))
        yield domains

        findings = core.GaugeMetricFamily(
            f"{PREFIX}_findings", "Findings over all domains, by code.", labels=["code"]
        )
        # Every known code, zero included, so that a series does not vanish when the problem is fixed.
        for name in sorted(set(CODES) | set(s.by_code)):
            findings.add_metric([name], s.by_code.get(name, 0))
        yield findings

        yield core.GaugeMetricFamily(
            f"{PREFIX}_exit_code", "The run's exit code (its worst verdict).", value=s.worst.exit_code
        )
        yield core.GaugeMetricFamily(
            f"{PREFIX}_run_duration_seconds", "How long the run took.", value=round(s.elapsed_s, 3)
        )
        yield core.GaugeMetricFamily(
            f"{PREFIX}_last_run_timestamp_seconds",
            "When the run finished, in Unix time.",
            value=s.finished_at,
        )
