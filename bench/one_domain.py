#!/usr/bin/env python3
"""Wall time of one `dnscheck check` against the local test internet (tests/lab.py), against baselines from the
same run.

    sudo python3 bench/one_domain.py [--runs 10] [--domain m365-legacy.com]

Runs itself inside a private network namespace (root, or unprivileged user namespaces), starts the lab, and times
the installed command (the real script beside this interpreter, not a version-manager shim) in each mode. The
"check itself" column is the result's own `elapsed_ms`: everything else is interpreter start-up and imports.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _in_namespace() -> bool:
    import socket

    return [name for _, name in socket.if_nameindex()] == ["lo"]  # this process's own network namespace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--domain", default="m365-legacy.com")
    args = parser.parse_args()
    if not _in_namespace():
        userns = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
        cmd = ["unshare", *userns, "--net", "--pid", "--fork", "--kill-child", "--", "sh", "-c",
               'ip link set lo up && exec "$0" "$@"', sys.executable, *sys.argv]
        sys.exit(subprocess.call(cmd))
    sys.path.insert(0, str(ROOT))
    from tests.lab import Lab

    exe = shutil.which("dnscheck", path=str(Path(sys.executable).parent)) or shutil.which("dnscheck")
    if not exe:
        sys.exit("dnscheck is not installed: python3 -m pip install -e .")

    def timed(cmd: list[str]) -> tuple[float, str]:
        start = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        return time.perf_counter() - start, out

    with Lab.start() as lab:
        check = [exe, "check", args.domain, "--resolver", lab.resolver, "-f", "json"]
        timed(check)  # warm the resolver's cache and the page cache
        rows = []
        base = statistics.median(timed([sys.executable, "-c", "pass"])[0] for _ in range(args.runs))
        rows.append(("python3 -c pass (baseline)", base, None))
        rows.append(("dnscheck --version", statistics.median(timed([exe, "--version"])[0] for _ in range(args.runs)),
                     None))
        for mode in ("resolver", "auto", "authoritative"):
            walls, inner = [], []
            for _ in range(args.runs):
                wall, out = timed([*check, "--mode", mode])
                walls.append(wall)
                inner.append(json.loads(out)["results"][0]["elapsed_ms"])
            rows.append((f"dnscheck check {args.domain} --mode {mode}", statistics.median(walls),
                         statistics.median(inner)))
    print(f"{'command':<58} {'wall':>8} {'ratio':>6} {'check itself':>13}")
    for label, wall, inner in rows:
        extra = f"{inner:10.0f} ms" if inner is not None else ""
        print(f"{label:<58} {wall * 1000:6.0f}ms {wall / base:6.2f} {extra:>13}")


if __name__ == "__main__":
    main()
