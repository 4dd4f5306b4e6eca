#!/usr/bin/env python3
"""Fleets against misbehaving resolvers: `dnscheck check --input FILE` at the default options against dnsdist in
front of the lab's Unbound, one dropping what exceeds a rate limit (300 queries/s per client address), one
dropping 30% of queries at random, and the plain Unbound for comparison. Figures: docs/performance.md.

    python3 bench/misbehaving.py                 # 1000 domains, each resolver once (~2 min on 2 cores)
    python3 bench/misbehaving.py --sizes 200 --repeat 3
    python3 bench/misbehaving.py --extra "--workers 1"

For each run: the verdicts against what each zone should give (`unknown` the world did not cause: must be 0), the
wall time, the queries the run needed (answered by the resolver, from the JSON summary), and for the rate-limited
resolver the time the limit itself imposes (queries needed / allowed rate) and the ratio of the two (target
<= 1.2). The resolver's cache is flushed before each run. Re-runs itself in a private network namespace like
bench/fleet.py (no packet leaves the machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

import bench.fleet as fleet  # noqa: E402
from bench.fleetlab import EXPECTED, domain_of, kind_of, zone_text  # noqa: E402

QPS = 300


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1000")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--extra", default="", help="more dnscheck options, e.g. '--workers 1'")
    p.add_argument("--fronts", default="plain,ratelimited,lossy")
    p.add_argument("--json", type=Path, help="write every figure here")
    args = p.parse_args()
    if not fleet.in_namespace():
        fleet.__file__ = __file__  # re-run this script, not bench/fleet.py
        fleet.reexec_in_namespace()
    from tests.lab import LOSSY, MAX_QPS, Lab, World

    sizes = [int(x) for x in args.sizes.split(",")]
    world = World.load(REPO / "fixtures" / "world")
    world.servers["newdns"].workers = 2
    for i in range(max(sizes)):
        if (text := zone_text(i)) is not None:
            world.add_zone("newdns", domain_of(i), text)
    exe = str(Path(sys.executable).parent / "dnscheck")
    if not os.path.exists(exe):
        exe = "dnscheck"
    rows = []
    with Lab.start(world, timeout=300) as lab:
        fronts = {
            "plain": lab.resolver,
            "ratelimited": lab.misbehaving_resolver("ratelimited", [MAX_QPS.format(qps=QPS)], 5381),
            "lossy": lab.misbehaving_resolver("lossy", [LOSSY.format(share=0.3)], 5382),
        }
        for size in sizes:
            names = [domain_of(i) for i in range(size)]
            inp = Path(lab.workdir) / f"fleet-{size}.txt"
            inp.write_text("\n".join(names) + "\n")
            for front in args.fronts.split(","):
                for _ in range(args.repeat):
                    rows.append(one(lab, exe, front, fronts[front], inp, names, args.extra.split()))
                    print(fmt(rows[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


def one(lab: object, exe: str, front: str, address: str, inp: Path, names: list[str], extra: list[str]) -> dict:
    lab.flush()  # type: ignore[attr-defined]
    cmd = [exe, "check", "-i", str(inp), "-f", "json", "--resolver", address, *extra]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - start
    doc = json.loads(proc.stdout)
    want = {domain_of(i): EXPECTED[kind_of(i)] for i in range(len(names))}
    got = {r["input"]: r["verdict"] for r in doc["results"]}
    wrong = Counter(f"{want[d]}->{got.get(d)}" for d in want if got.get(d) != want[d])
    unknown_not_world = sum(1 for d in want if got.get(d) == "unknown" and want[d] != "unknown")
    resolvers = doc["summary"].get("resolvers") or [{}]
    answered = resolvers[0].get("answered", 0)
    limit_s = answered / QPS if front == "ratelimited" else None
    return {
        "front": front,
        "domains": len(names),
        "options": " ".join(extra) or "(defaults)",
        "wall_s": round(wall, 2),
        "unknown_not_world": unknown_not_world,
        "wrong": dict(wrong),
        "queries_answered": answered,
        "queries_sent": resolvers[0].get("sent"),
        "limit_s": None if limit_s is None else round(limit_s, 2),
        "ratio": None if limit_s is None else round(wall / limit_s, 2),
        "diagnostics": doc["summary"].get("diagnostics", []),
        "command": " ".join(["dnscheck", *cmd[1:]]),
    }


def fmt(r: dict) -> str:
    ratio = f" limit {r['limit_s']} s ratio {r['ratio']}" if r["ratio"] is not None else ""
    return (
        f"{r['front']:11} {r['domains']:5} {r['options']:12} wall {r['wall_s']:6.2f} s  unknown(not world) "
        f"{r['unknown_not_world']}  wrong {r['wrong'] or '-'}  queries {r['queries_answered']}/{r['queries_sent']}"
        f"{ratio}"
    )


if __name__ == "__main__":
    main()
