#!/bin/sh
# THE test command: pytest inside a private network namespace, so that the lab's DNS servers can take port 53 on
# 127.x addresses and no test can send a packet off this machine.
#
#   tests/run.sh                          # everything; fails if the real-server (lab) tests could not run
#   tests/run.sh tests/e2e -x -q          # arguments go to pytest
#   DNSCHECK_REQUIRE_LAB=0 tests/run.sh   # let lab tests skip instead of fail (e.g. knotd not installed)
#   PYTHON=/path/to/venv/bin/python tests/run.sh
#
# As root: unshare --net. Otherwise: unshare --user --map-root-user --net (needs unprivileged user namespaces).
# --pid --fork --kill-child: when the run ends, however it ends, every daemon the lab started dies with it.
set -eu
cd "$(dirname "$0")/.."
PATH="$PATH:/usr/sbin:/sbin"
export PATH

export DNSCHECK_REQUIRE_LAB="${DNSCHECK_REQUIRE_LAB:-1}"
# A whole run (no arguments) must also have run lab tests, not merely not skipped them.
if [ "$#" -eq 0 ]; then
    export DNSCHECK_EXPECT_LAB_TESTS="${DNSCHECK_EXPECT_LAB_TESTS:-1}"
fi

if [ "$(id -u)" -eq 0 ]; then
    userns=""
else
    userns="--user --map-root-user"
fi

status=0
# shellcheck disable=SC2086 # $userns is two words or none
unshare $userns --net --pid --fork --kill-child -- \
    sh -c 'ip link set lo up && exec "${PYTHON:-python3}" -m pytest "$@"' pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "tests/run.sh: pytest ran no tests; that is a failure" >&2
    exit 1
fi
exit "$status"
