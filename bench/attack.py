#!/usr/bin/env python3
"""Deadlines and per-server failures under attack (issue 16): the installed `dnscheck` against the lab with a dead
secondary shared by many domains, 30 % packet loss to a secondary that still serves the Microsoft 365 MX, and a
slow but loss-free set of authoritative servers at --concurrency 500. Figures: docs/performance.md and
docs/security.md ("Deadlines and failing servers").

    python3 bench/attack.py                        # every scenario, default sizes (~10 min on 2 cores)
    python3 bench/attack.py --only dead,loss       # a subset
    python3 bench/attack.py --slow-size 5000 --slow-concurrency 500 --slow-delay-ms 100

What it measures, per scenario, from the JSON Lines output and os.wait4 of the dnscheck process:
- the worst domain time (elapsed_ms) against its --timeout: the target is <= 1.1 x timeout + 0.5 s;
- the verdicts (with loss, none may be safe: every domain there has a secondary still serving the old MX);
- the number of `unknown` that the fleet's own data does not explain (a slow but loss-free server: target 0);
- the client's peak RSS (ru_maxrss; target <= 200 MB at --concurrency 500).

Like bench/fleet.py it re-runs itself in a private network namespace (no packet leaves the machine) and uses the
tests' lab (tests/lab.py) through bench/fleetlab.py; packet loss is an nftables rule inside that namespace.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from fleetlab import FleetLab, make_fleet, make_world  # noqa: E402

NS_MARK = "DNSCHECK_ATTACK_IN_NAMESPACE"
HEAD = "$TTL 300\n@ SOA ns1.newdns.net. hostmaster.newdns.net. {serial} 3600 600 1209600 300\n"


def _zone(domain: str, ns: list[str], mx: str, serial: int = 2026010102) -> str:
    lines = [f"$ORIGIN {domain}.", HEAD.format(serial=serial)]
    lines += [f"@ NS {h}." for h in ns]
    lines += [f"@ MX 10 {mx}.", '@ TXT "v=spf1 include:_spf.newmail.net -all"']
    return "\n".join(lines) + "\n"


def in_namespace() -> bool:
    return os.environ.get(NS_MARK) == "1" and sorted(n for _, n in socket.if_nameindex()) == ["lo"]


def reexec_in_namespace() -> None:
    from namespace import reexec_in_namespace as reexec  # noqa: PLC0415 - bench/ is on sys.path

    reexec(str(Path(__file__).resolve()), NS_MARK)


def run_dnscheck(domains: list[str], *args: str) -> dict[str, object]:
    """The installed dnscheck (this interpreter's) on `domains`; its own peak RSS from os.wait4."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "domains.txt")
        path.write_text("\n".join(domains) + "\n")
        cmd = [sys.executable, "-m", "dnscheck", "check", "-i", str(path), "-f", "jsonl"]
        cmd += ["--resolver", "127.0.0.1:53", *args]
        start = time.monotonic()
        with open(Path(tmp, "out"), "wb") as out, open(Path(tmp, "err"), "wb") as err:
            p = subprocess.Popen(cmd, stdout=out, stderr=err)
            _, _, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - start
        text = Path(tmp, "out").read_text()
        results = [json.loads(line) for line in text.splitlines() if line.strip()]
        shown = " ".join(["dnscheck", *cmd[3:]]).replace(str(path), "domains.txt")
        return {"cmd": shown, "results": results, "wall": wall, "rss_mb": ru.ru_maxrss / 1024}


def summary(
    name: str, timeout: float, ran: dict[str, object], expected_unknown: int = 0
) -> dict[str, object]:
    results: list[dict[str, object]] = ran["results"]  # type: ignore[assignment]
    verdicts: dict[str, int] = {}
    for r in results:
        verdicts[str(r["verdict"])] = verdicts.get(str(r["verdict"]), 0) + 1
    worst = max((int(r["elapsed_ms"]) for r in results), default=0) / 1000  # type: ignore[call-overload]
    bound = 1.1 * timeout + 0.5
    out = {
        "scenario": name,
        "domains": len(results),
        "timeout": timeout,
        "worst_s": round(worst, 2),
        "worst_ratio": round(worst / timeout, 3),
        "bound_s": round(bound, 2),
        "over_bound": sum(1 for r in results if int(r["elapsed_ms"]) / 1000 > bound),  # type: ignore[call-overload]
        "verdicts": verdicts,
        "unexplained_unknown": max(0, verdicts.get("unknown", 0) - expected_unknown),
        "wall_s": round(float(ran["wall"]), 1),  # type: ignore[arg-type]
        "peak_rss_mb": round(float(ran["rss_mb"]), 1),  # type: ignore[arg-type]
        "cmd": ran["cmd"],
    }
    print(json.dumps(out), flush=True)
    return out


def dead_secondary(size: int, runs: list[tuple[float, int]]) -> list[dict[str, object]]:
    world = make_world(0)
    names = [f"deadsec{i}.com" for i in range(size)]
    ns = ["ns1.newdns.net", "ns.blackhole-dns.net"]
    for d in names:
        world.add_zone("newdns", d, _zone(d, ns, "mx1.newmail.net"), delegate_to=ns)
    out = []
    with FleetLab.start(world) as _lab:
        for timeout, concurrency in runs:
            ran = run_dnscheck(names, "--timeout", str(timeout), "--concurrency", str(concurrency))
            out.append(summary(f"dead secondary, {size} domains, concurrency {concurrency}", timeout, ran))
    return out


def packet_loss(size: int, timeout: float, loss: int) -> list[dict[str, object]]:
    world = make_world(0)
    names = [f"lossy{i}.com" for i in range(size)]
    ns = ["ns1.newdns.net", "ns3.newdns.net"]
    for d in names:
        world.add_zone("newdns", d, _zone(d, ns, "mx1.newmail.net"), delegate_to=ns)
        label = d.replace(".", "-")
        world.add_zone("stale", d, _zone(d, ns, f"{label}.mail.protection.outlook.com", 2026010101))
    stale = world.servers["stale"].addresses
    rules = f"""table inet attack {{
    chain out {{
        type filter hook output priority 0;
        ip daddr {{ {", ".join(stale)} }} udp dport 53 numgen random mod 100 < {loss} drop
        ip saddr {{ {", ".join(stale)} }} udp sport 53 numgen random mod 100 < {loss} drop
    }}
}}
"""
    with FleetLab.start(world) as _lab:
        subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)
        try:
            ran = run_dnscheck(names, "--timeout", str(timeout))
        finally:
            subprocess.run(["nft", "delete", "table", "inet", "attack"], check=False)
    return [summary(f"{loss} % loss to a stale secondary, {size} domains", timeout, ran)]


def slow_servers(size: int, concurrency: int, delay_ms: float, timeout: float) -> list[dict[str, object]]:
    fleet = make_fleet(size)
    world = make_world(size, delay_ms=delay_ms, at="auth")
    with FleetLab.start(world) as _lab:
        ran = run_dnscheck(fleet.names, "--timeout", str(timeout), "--concurrency", str(concurrency))
    expected = fleet.expected().get("unknown", 0)  # the NXDOMAIN share of the fleet
    name = (
        f"{delay_ms:g} ms per query at every authoritative server, {size} domains, concurrency {concurrency}"
    )
    return [summary(name, timeout, ran, expected_unknown=expected)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default="dead,loss,slow")
    p.add_argument("--dead-size", type=int, default=200)
    p.add_argument("--loss-size", type=int, default=40)
    p.add_argument("--loss", type=int, default=30, help="per cent of packets dropped, each way")
    p.add_argument("--slow-size", type=int, default=5000)
    p.add_argument("--slow-concurrency", type=int, default=500)
    p.add_argument("--slow-delay-ms", type=float, default=100.0)
    p.add_argument("--json", type=Path, help="write every figure here")
    a = p.parse_args()
    if not in_namespace():
        reexec_in_namespace()
    only = set(a.only.split(","))
    figures: list[dict[str, object]] = []
    if "dead" in only:
        figures += dead_secondary(a.dead_size, [(3.0, 50), (10.0, 50), (10.0, 200)])
    if "loss" in only:
        figures += packet_loss(a.loss_size, 3.0, a.loss)
    if "slow" in only:
        figures += slow_servers(a.slow_size, a.slow_concurrency, a.slow_delay_ms, 10.0)
    if a.json:
        a.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
