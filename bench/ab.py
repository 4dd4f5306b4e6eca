#!/usr/bin/env python3
"""A/B: two builds of `dnscheck` on the same fleet, the same lab, alternately: what a change costs.

    python3 bench/ab.py --a /tmp/base/.venv/bin/dnscheck --b .venv/bin/dnscheck --size 1000 --repeat 5

Runs both in one private network namespace against one lab (bench/fleetlab.py: N generated zones, optionally
`--delay-ms` in front of every authoritative server), A and B alternating (ABBA...), each a child process measured
with os.wait4: wall time and user+sys CPU. Prints the medians and B's throughput and CPU relative to A's.
Running both in the same minutes on the same lab takes most of a shared machine's drift out of the comparison
(bench/fleet.py compares against the floor instead).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import fleet  # noqa: E402


def measure(exe: str, inp: Path, mode: str, concurrency: int, extra: list[str]) -> tuple[float, float]:
    """(wall seconds, user+sys CPU seconds) of one run."""
    cmd = [
        exe,
        "check",
        "--input",
        str(inp),
        "-f",
        "jsonl",
        "--resolver",
        "127.0.0.1:53",
        "--concurrency",
        str(concurrency),
        "--mode",
        mode,
        *extra,
    ]
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1, 2, 3):
        sys.exit(f"ab: {exe} exited with {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime


def reexec_in_namespace() -> None:
    from namespace import reexec_in_namespace as reexec  # noqa: PLC0415 - bench/ is on sys.path

    reexec(str(Path(__file__).resolve()), fleet.NS_MARK)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", required=True, help="the baseline dnscheck executable")
    p.add_argument("--b", required=True, help="the changed dnscheck executable")
    p.add_argument("--size", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--mode", default="auto")
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--delay-ms", type=float, default=0.0)
    p.add_argument("--a-args", default="", help="more options for A only")
    p.add_argument("--b-args", default="", help="more options for B only, e.g. '--workers 1'")
    p.add_argument(
        "--warm",
        action="store_true",
        help="keep the resolver's cache warm (one untimed run first, no flush between runs): the lab then needs "
        "little CPU, for comparing clients that would otherwise share the CPUs with the lab's recursion",
    )
    a = p.parse_args()
    if not fleet.in_namespace():
        reexec_in_namespace()
    import fleetlab

    world = fleetlab.make_world(a.size, a.delay_ms, "auth")
    names = fleetlab.make_fleet(a.size).names
    with fleetlab.FleetLab.start(world, timeout=120) as lab:
        inp = lab.workdir / "input.txt"
        inp.write_text("\n".join(names) + "\n")
        runs: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
        if a.warm:
            measure(a.a, inp, a.mode, a.concurrency, a.a_args.split())
        order = ["A", "B", "B", "A"]
        for i in range(a.repeat * 2):
            which = order[i % 4]
            if not a.warm:
                lab.flush()  # every run starts cold
            exe, extra = (a.a, a.a_args) if which == "A" else (a.b, a.b_args)
            wall, cpu = measure(exe, inp, a.mode, a.concurrency, extra.split())
            runs[which].append((wall, cpu))
            print(
                f"{which}: {a.size / wall:6.1f} domains/s, {cpu * 1000 / a.size:6.2f} ms CPU/domain",
                flush=True,
            )
    med = {
        k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in runs.items()
    }
    for k in ("A", "B"):
        wall, cpu = med[k]
        print(f"median {k}: {a.size / wall:6.1f} domains/s, {cpu * 1000 / a.size:6.2f} ms CPU/domain")
    print(
        f"B/A throughput {med['A'][0] / med['B'][0]:.3f}, B/A CPU per domain {med['B'][1] / med['A'][1]:.3f} "
        f"({a.size} domains, --mode {a.mode}, {a.delay_ms:g} ms at the authoritative servers, {a.repeat} runs each"
        f"{', warm resolver cache' if a.warm else ''})"
    )


if __name__ == "__main__":
    main()
