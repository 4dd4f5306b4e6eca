"""The fleet benchmark's test internet: the tests' lab (tests/lab.py) with N generated zones, an Unbound tuned
for load and, optionally, a delay proxy in front of every authoritative server.

Latency model. A real recursive resolver sits near its clients; what it waits for is its own upstream queries
to the TLD and authoritative servers, and dnscheck's `--mode auto` probes those same servers directly. So the
delay goes in front of every authoritative server (root, TLDs, the DNS hosts): each server keeps its public
address (the one glue and root hints name) and listens on a backend address instead, with bench/delayproxy.py
bound to the public one. A resolver cache miss then costs one delayed round trip per server asked, and so does
every direct probe. `at="resolver"` puts the delay in front of the resolver instead (every query the client
sends costs one delayed round trip, cached or not, and direct probes none); `at="both"` does both.

The lab class is reused as is; only its start is redone here (`FleetLab._start`) to place daemons on backend
addresses and to configure Unbound for a few thousand queries per second.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.lab import (  # noqa: E402
    Blackhole,
    KnotServer,
    Lab,
    LabError,
    UnboundResolver,
    World,
    _poll,
    _which,
)

TLDS = ("com", "net", "org")


# ------------------------------------------------------------------------------------------------------------
# Zones
# ------------------------------------------------------------------------------------------------------------

KINDS = ("clean", "clean-inzone-mx", "leftovers", "m365", "nxdomain")
EXPECTED = {
    "clean": "safe",
    "clean-inzone-mx": "safe",
    "leftovers": "warning",
    "m365": "blocked",
    "nxdomain": "unknown",
}


def kind_of(i: int) -> str:
    """A realistic fleet: most domains migrated, some mid-migration, a few gone. Deterministic in i."""
    r = i % 20
    if r == 19:
        return "nxdomain"  # 5 %: expired or mistyped, no zone anywhere
    if r in (3, 11):
        return "m365"  # 10 %: still on Microsoft 365 (MX, SPF, autodiscover, DKIM, Teams, Intune)
    if r in (7, 15):
        return "leftovers"  # 10 %: mail moved, SPF include and autodiscover left behind
    if r % 3 == 0:
        return "clean-inzone-mx"  # its own mail host inside the zone
    return "clean"  # MX at a shared mail provider


def domain_of(i: int) -> str:
    return f"fleet{i}.{TLDS[i % len(TLDS)]}"


def zone_text(i: int) -> str | None:
    kind, d = kind_of(i), domain_of(i)
    if kind == "nxdomain":
        return None
    head = [
        f"$ORIGIN {d}.",
        "$TTL 300",
        "@ SOA ns1.newdns.net. hostmaster.newdns.net. 2026010101 3600 600 1209600 300",
        "@ NS ns1.newdns.net.",
        "@ NS ns2.newdns.net.",
        f"@ A 192.0.2.{i % 250 + 1}",
        "www CNAME @",
    ]
    label = d.replace(".", "-")
    if kind == "clean":
        body = [
            "@ MX 10 mx1.newmail.net.",
            "@ MX 20 mx2.newmail.net.",
            '@ TXT "v=spf1 include:_spf.newmail.net -all"',
            "autodiscover CNAME autodiscover.newmail.net.",
        ]
    elif kind == "clean-inzone-mx":
        body = [
            "@ MX 10 mail",
            f"mail A 198.51.100.{i % 250 + 1}",
            '@ TXT "v=spf1 mx -all"',
            f'@ TXT "google-site-verification=fleet{i}"',
        ]
    elif kind == "leftovers":
        body = [
            "@ MX 10 mx1.newmail.net.",
            '@ TXT "v=spf1 include:_spf.newmail.net include:spf.protection.outlook.com -all"',
            "autodiscover CNAME autodiscover.outlook.com.",
        ]
    else:  # m365
        body = [
            f"@ MX 0 {label}.mail.protection.outlook.com.",
            '@ TXT "v=spf1 include:spf.protection.outlook.com -all"',
            f'@ TXT "MS=ms{10000000 + i}"',
            "autodiscover CNAME autodiscover.outlook.com.",
            f"selector1._domainkey CNAME selector1-{label}._domainkey.fleet{i}.onmicrosoft.com.",
            f"selector2._domainkey CNAME selector2-{label}._domainkey.fleet{i}.onmicrosoft.com.",
            "_sipfederationtls._tcp SRV 100 1 5061 sipfed.online.lync.com.",
            "_sip._tls SRV 100 1 443 sipdir.online.lync.com.",
            "sip CNAME sipdir.online.lync.com.",
            "lyncdiscover CNAME webdir.online.lync.com.",
            "enterpriseregistration CNAME enterpriseregistration.windows.net.",
            "enterpriseenrollment CNAME enterpriseenrollment.manage.microsoft.com.",
            "msoid CNAME clientconfig.microsoftonline-p.net.",
        ]
    return "\n".join(head + body) + "\n"


@dataclass
class Fleet:
    """The N domains of one size: their names (the input file's lines) and what each should get."""

    size: int
    names: list[str]
    kinds: list[str]

    def expected(self, names: list[str] | None = None) -> dict[str, int]:
        counts: dict[str, int] = {}
        wanted = set(names) if names is not None else None
        for n, k in zip(self.names, self.kinds, strict=True):
            if wanted is None or n in wanted:
                counts[EXPECTED[k]] = counts.get(EXPECTED[k], 0) + 1
        return counts


def make_fleet(size: int) -> Fleet:
    return Fleet(size, [domain_of(i) for i in range(size)], [kind_of(i) for i in range(size)])


# ------------------------------------------------------------------------------------------------------------
# The lab
# ------------------------------------------------------------------------------------------------------------


@dataclass
class FleetWorld(World):
    delay_ms: float = 0.0  # added per query by the delay proxy
    delay_auth: bool = True  # in front of every authoritative server (root, TLDs, DNS hosts)
    delay_resolver: bool = False  # in front of the resolver
    backends: dict[str, str] = field(
        default_factory=dict
    )  # public address -> where the daemon really listens


def make_world(size: int, delay_ms: float = 0.0, at: str = "auth") -> FleetWorld:
    """The fixtures' world plus the first `size` fleet domains on the `newdns` server. `at`: where the delay
    goes, "auth", "resolver" or "both"."""
    world = FleetWorld.load(REPO / "fixtures" / "world")
    world.delay_ms = delay_ms
    world.delay_auth, world.delay_resolver = at in ("auth", "both"), at in ("resolver", "both")
    world.resolver_address = ("127.0.0.1", 53)  # port 53: checkdmarc cannot be given another port
    newdns = world.servers["newdns"]
    newdns.workers = 2
    for i in range(size):
        text = zone_text(i)
        if text is not None:
            world.add_zone("newdns", domain_of(i), text)
    return world


def _backend(address: str) -> str:
    """127.a.b.c -> 127.(100+a).b.c: where a proxied daemon listens."""
    parts = address.split(".")
    return ".".join([parts[0], str(100 + int(parts[1])), *parts[2:]])


class TunedUnbound(UnboundResolver):
    """The lab's Unbound, configured for load: bigger caches, more queries in flight, big socket buffers, no
    rate limits, statistics that reset on each read (`unbound-control stats`)."""

    def start(self, unbound: str) -> None:
        super().start(
            "/bin/true"
        )  # writes the lab's configuration (and runs `true`); then tune and run Unbound
        assert self.proc is not None
        self.proc.wait()
        text = self.conf.read_text()
        text = text.replace(
            "    num-threads: 1\n",
            """    num-threads: 1
    outgoing-range: 8192
    num-queries-per-thread: 4096
    so-rcvbuf: 4m
    so-sndbuf: 4m
    msg-cache-size: 64m
    rrset-cache-size: 128m
    key-cache-size: 1m
    ratelimit: 0
    ip-ratelimit: 0
    statistics-cumulative: no
    extended-statistics: no
""",
        )
        if "outgoing-range" not in text:
            raise LabError("tests/lab.py's Unbound configuration changed: cannot tune it for the benchmark")
        self.conf.write_text(text)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [unbound, "-d", "-c", str(self.conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stats(self) -> dict[str, float]:
        out = {}
        for line in self.control_cmd("stats").splitlines():
            key, _, value = line.partition("=")
            with contextlib.suppress(ValueError):
                out[key] = float(value)
        return out


class FleetLab(Lab):
    world: FleetWorld
    proxy: subprocess.Popen[str] | None = None
    proxy_stats: Path | None = None

    def _start(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        knotd, unbound = _which("knotd"), _which("unbound")
        assert knotd and unbound
        w = self.world
        pairs: dict[str, str] = {}

        def listen(address: str) -> str:
            if not (w.delay_ms and w.delay_auth):
                return address
            pairs[address] = _backend(address)
            return pairs[address]

        self.registry = KnotServer(
            "registry",
            [listen(w.root_address), listen(w.tld_address)],
            w.registry_zones(),
            self.workdir / "registry",
        )
        self.registry.start(knotd)
        for s in w.servers.values():
            if s.kind == "blackhole":  # never answers: nothing to delay
                bh = Blackhole(s.name, s.addresses)
                bh.start()
                self.blackholes[s.name] = bh
            else:
                k = KnotServer(
                    s.name, [listen(a) for a in s.addresses], s.zones, self.workdir / s.name, s.workers
                )
                k.start(knotd)
                self.knots[s.name] = k
        resolver_public = w.resolver_address
        resolver_listen = resolver_public
        if w.delay_ms and w.delay_resolver:
            resolver_listen = (_backend(resolver_public[0]), resolver_public[1])
        w.backends = dict(pairs)
        if pairs or resolver_listen != resolver_public:
            self._start_proxy(pairs, resolver_public, resolver_listen)
        self.registry.wait_ready(deadline)
        for k in self.knots.values():
            k.wait_ready(deadline)
        self.unbound = TunedUnbound(resolver_listen, w.root_address, self.workdir / "unbound")
        self.unbound.start(unbound)
        self.unbound.wait_ready(deadline)
        if resolver_listen != resolver_public:  # through the proxy too
            _poll(*resolver_public, ".", "SOA", deadline, lambda r: bool(r.answer), rd=True)

    def _start_proxy(
        self, pairs: dict[str, str], resolver_public: tuple[str, int], resolver_listen: tuple[str, int]
    ) -> None:
        spec = [f"{front}:53={back}:53" for front, back in pairs.items()]
        if resolver_listen != resolver_public:
            spec.append("{}:{}={}:{}".format(*resolver_public, *resolver_listen))
        self.proxy_stats = self.workdir / "proxy-stats.json"
        self.proxy = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "bench" / "delayproxy.py"),
                "--delay-ms",
                str(self.world.delay_ms),
                "--stats",
                str(self.proxy_stats),
                *spec,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proxy.stdout is not None
        if self.proxy.stdout.readline().strip() != "ready":
            raise LabError("the delay proxy did not start")

    def proxied_queries(self) -> int | None:
        """Queries the proxy forwarded so far (None without a proxy)."""
        if self.proxy is None or self.proxy_stats is None:
            return None
        before = self.proxy_stats.stat().st_mtime_ns if self.proxy_stats.exists() else 0
        os.kill(self.proxy.pid, 10)  # SIGUSR1
        for _ in range(200):
            if self.proxy_stats.exists() and self.proxy_stats.stat().st_mtime_ns != before:
                break
            time.sleep(0.005)
        return sum(json.loads(self.proxy_stats.read_text())["udp_queries"].values())

    def daemon_pids(self) -> list[int]:
        procs = [self.unbound, self.registry, *self.knots.values()]
        pids = [d.proc.pid for d in procs if d is not None and d.proc is not None]
        if self.proxy is not None:
            pids.append(self.proxy.pid)
        return pids

    def stop(self) -> None:
        super().stop()
        if self.proxy is not None and self.proxy.poll() is None:
            self.proxy.terminate()
            try:
                self.proxy.wait(5)
            except subprocess.TimeoutExpired:
                self.proxy.kill()
                self.proxy.wait()
