"""Run a bench script again inside a private network namespace (as tests/run.sh does for pytest): port 53 on every
127.x address is ours, nftables rules stay local, and no packet can leave the machine."""

from __future__ import annotations

import os
import shutil
import sys


def reexec_in_namespace(script: str, mark: str) -> None:
    """Replace this process with `script` (same arguments) in a new network and PID namespace, with `mark`=1 in
    its environment so that it knows it is there."""
    unshare = shutil.which("unshare") or shutil.which("unshare", path="/usr/bin:/bin")
    if not unshare:
        sys.exit(f"{os.path.basename(script)}: unshare (util-linux) is required")
    userns = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    env = dict(os.environ, **{mark: "1"})
    env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/sbin"
    inner = 'ip link set lo up && exec "$0" "$@"'
    cmd = [unshare, *userns, "--net", "--pid", "--mount-proc", "--fork", "--kill-child", "--", "sh", "-c", inner]
    os.execve(unshare, [*cmd, sys.executable, script, *sys.argv[1:]], env)
