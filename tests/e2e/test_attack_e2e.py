"""Issue 16 end to end: the installed `dnscheck` in the lab with a dead secondary shared by many domains, packet loss
(nftables inside the test's network namespace) to a secondary that still serves the Microsoft 365 MX, and a slow
but loss-free authoritative server (bench/delayproxy.py in front of a Knot server)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab import Lab

REPO = Path(__file__).resolve().parent.parent.parent
SERIAL = 2026120601


def _zone(domain: str, ns: list[str], mx: str, serial: int = SERIAL) -> str:
    return (
        "\n".join(
            [
                f"$ORIGIN {domain}.",
                "$TTL 300",
                f"@ SOA ns1.newdns.net. hostmaster.newdns.net. {serial} 3600 600 1209600 300",
                *(f"@ NS {h}." for h in ns),
                f"@ MX 10 {mx}.",
                '@ TXT "v=spf1 include:_spf.newmail.net -all"',
            ]
        )
        + "\n"
    )


def _fleet(dnscheck: Any, tmp_path: Path, names: list[str], *args: str) -> list[dict[str, Any]]:
    path = tmp_path / "fleet.txt"
    path.write_text("\n".join(names) + "\n")
    run = dnscheck("check", "-i", str(path), "-f", "jsonl", *args, timeout=300)
    results = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert len(results) == len(names), run
    return results


def _bound(timeout: float) -> float:
    return 1.1 * timeout + 0.5


def test_a_dead_secondary_shared_by_many_domains_does_not_stretch_the_deadline(lab: Lab, dnscheck, tmp_path):
    ns = ["ns1.newdns.net", "ns.blackhole-dns.net"]
    names = [f"shared-dead{i}.com" for i in range(60)]
    lab.set_zones("newdns", {d: _zone(d, ns, "mx1.newmail.net") for d in names}, delegate_to=ns)
    results = _fleet(dnscheck, tmp_path, names, "--timeout", "3", "--concurrency", "60")
    slow = [(r["domain"], r["elapsed_ms"]) for r in results if r["elapsed_ms"] / 1000 > _bound(3)]
    assert not slow, slow
    assert {r["verdict"] for r in results} == {"warning"}, Counter(r["verdict"] for r in results)
    for r in results:
        f = next(f for f in r["findings"] if f["code"] == "NS_UNREACHABLE")
        assert "ns.blackhole-dns.net" in f["message"]
    # Once the breaker has tripped, later domains are told at once, with the evidence.
    later = _fleet(dnscheck, tmp_path, names[:5], "--timeout", "3", "--concurrency", "1")
    assert any(
        "marked down" in f["message"] for r in later for f in r["findings"] if f["code"] == "NS_UNREACHABLE"
    ), later


@pytest.fixture
def lossy_stale_secondary(lab: Lab) -> Iterator[list[str]]:
    """20 domains whose second server (ns3.newdns.net, the `stale` server) still serves the Microsoft 365 MX, with
    30 % of the packets to and from it dropped."""
    if not shutil.which("nft"):
        pytest.fail("nft (nftables) is required for the packet-loss tests", pytrace=False)
    ns = ["ns1.newdns.net", "ns3.newdns.net"]
    names = [f"lossy{i}.com" for i in range(20)]
    lab.set_zones("newdns", {d: _zone(d, ns, "mx1.newmail.net") for d in names}, delegate_to=ns)
    stale = {d: _zone(d, ns, f"{d.replace('.', '-')}.mail.protection.outlook.com", SERIAL - 1) for d in names}
    lab.set_zones("stale", stale, delegate_to=ns)
    addrs = ", ".join(lab.world.servers["stale"].addresses)
    rules = f"""table inet lossy {{
    chain out {{
        type filter hook output priority 0;
        ip daddr {{ {addrs} }} udp dport 53 numgen random mod 100 < 30 drop
        ip saddr {{ {addrs} }} udp sport 53 numgen random mod 100 < 30 drop
    }}
}}
"""
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)
    try:
        yield names
    finally:
        subprocess.run(["nft", "delete", "table", "inet", "lossy"], check=False)


@pytest.mark.parametrize("mode", ["auto", "authoritative"])
def test_packet_loss_to_a_stale_secondary_never_reads_as_safe(
    lossy_stale_secondary, dnscheck, tmp_path, mode
):
    results = _fleet(dnscheck, tmp_path, lossy_stale_secondary, "--timeout", "3", "--mode", mode)
    verdicts = Counter(r["verdict"] for r in results)
    assert verdicts["safe"] == 0, verdicts
    if mode == "authoritative":
        assert set(verdicts) <= {"blocked", "unknown"}, verdicts
    slow = [(r["domain"], r["elapsed_ms"]) for r in results if r["elapsed_ms"] / 1000 > _bound(3)]
    assert not slow, slow


@pytest.fixture
def slow_server(lab: Lab) -> Iterator[str]:
    """ns.slow-dns.net: the newdns Knot server behind bench/delayproxy.py, 100 ms per query, no loss."""
    front, back = "127.0.77.1", lab.world.servers["newdns"].addresses[0]
    proxy = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "delayproxy.py"), "--delay-ms", "100", f"{front}:53={back}:53"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proxy.stdout is not None and proxy.stdout.readline().strip() == "ready"
        lab.world.hosts["ns.slow-dns.net"] = front
        yield "ns.slow-dns.net"
    finally:
        proxy.terminate()
        proxy.wait(5)


def test_a_slow_but_loss_free_server_causes_no_unknown(lab: Lab, slow_server, dnscheck, tmp_path):
    ns = [slow_server]
    names = [f"slowzone{i}.com" for i in range(400)]
    zones = {d: _zone(d, ns, "mx1.newmail.net") for d in names}
    zones["slow-dns.net"] = (
        _zone("slow-dns.net", ns, "mx1.newmail.net") + "ns A 127.0.77.1\n"
    )  # the host's glue
    lab.set_zones("newdns", zones, delegate_to=ns)
    results = _fleet(dnscheck, tmp_path, names, "--timeout", "5", "--concurrency", "400")
    verdicts = Counter(r["verdict"] for r in results)
    odd = [(r["domain"], [f["message"] for f in r["findings"]]) for r in results if r["verdict"] != "safe"]
    assert verdicts == {"safe": len(names)}, (verdicts, odd[:3])
    slow = [(r["domain"], r["elapsed_ms"]) for r in results if r["elapsed_ms"] / 1000 > _bound(5)]
    assert not slow, slow
