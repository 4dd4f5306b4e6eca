#!/usr/bin/env python3
"""Start-up cost of the installed `dnscheck` command, against baselines measured in the same run.

    python3 bench/startup.py [--runs 20]

Prints the median wall time of each command and its ratio to `python3 -c pass` (the interpreter's own start-up on
this machine), plus the overhead in milliseconds. These machines are shared and noisy: compare ratios and
overheads from one run, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    exe = shutil.which("dnscheck")
    if not exe:
        sys.exit("dnscheck is not installed: pip install -e .")
    py = sys.executable
    cases = [
        ("python3 -c pass (baseline)", [py, "-c", "pass"]),
        ("dnscheck --version", [exe, "--version"]),
        ("dnscheck --help", [exe, "--help"]),
        ("dnscheck check --help", [exe, "check", "--help"]),
        ("import dns.asyncresolver+tldextract+tabulate+click (eager imports)",
         [py, "-c", "import dns.asyncresolver, tldextract, tabulate, click"]),
    ]
    timed([exe, "--version"], 3)  # warm the page cache
    base = None
    print(f"{'command':<68} {'median':>9} {'ratio':>6} {'overhead':>9}")
    for label, cmd in cases:
        t = timed(cmd, args.runs)
        base = base or t
        print(f"{label:<68} {t * 1000:7.1f}ms {t / base:6.2f} {(t - base) * 1000:+7.1f}ms")


if __name__ == "__main__":
    main()
