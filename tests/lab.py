"""A test internet on loopback: a root, TLDs, authoritative servers and a recursive resolver, real daemons.

The world is data (see fixtures/world/world.json and README.md there): servers with their host names and
addresses, the zone files each one serves, and the registry (root + TLD zones) generated from them.
`Lab.start` runs it:

    from tests.lab import Lab, World
    with Lab.start("fixtures/world") as lab:
        lab.resolver                      # "127.0.0.1:5300", give it to --resolver
        lab.query("127.0.0.3", "contoso.com", "NS")          # ask one server directly (no recursion)
        lab.set_zone("newdns", "contoso.com", text)          # add or replace a zone at runtime

Each Knot server is its own knotd process on its own 127.x.y.z addresses, port 53; the registry is one knotd
on the root and the TLD address; a blackhole server is a pair of sockets (UDP bound, TCP listening) that never
read or accept; Unbound recurses from the fake root. Every daemon's files live in a temporary directory, never
in fixtures/. Port 53 on 127.x addresses is only ours inside a private network namespace:
`unavailable_reason()` says why the lab cannot run here (tests/run.sh provides the namespace).

Only the standard library and dnspython: a benchmark script can import it too and generate thousands of zones:

    world = World.load("fixtures/world")
    for i in range(10_000):
        world.add_zone("newdns", f"bench{i}.com", text_for(i))
    with Lab.start(world) as lab: ...
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype

DEFAULT_WORLD = Path(__file__).resolve().parent.parent / "fixtures" / "world"
SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class LabError(RuntimeError):
    """The lab could not start or do what was asked."""


def _which(program: str) -> str | None:
    return shutil.which(program) or shutil.which(program, path=os.pathsep.join(SBIN))


def _zone_name(name: str) -> str:
    """Lower-case A-label without the trailing dot; the root is '.'."""
    name = name.strip().lower().rstrip(".")
    if not name:
        return "."
    return dns.name.from_text(name).to_text(omit_final_dot=True) if not name.isascii() else name


def _tld(name: str) -> str:
    return name.rstrip(".").rsplit(".", 1)[-1]


# ------------------------------------------------------------------------------------------------------------
# The world: data only
# ------------------------------------------------------------------------------------------------------------

@dataclass
class Server:
    name: str
    kind: str  # "knot" or "blackhole"
    hosts: list[str]
    addresses: list[str]
    zones: dict[str, str] = field(default_factory=dict)  # zone -> zone file text
    about: str = ""
    workers: int = 1


@dataclass
class World:
    servers: dict[str, Server]
    hosts: dict[str, str]  # name server host name -> IPv4 address
    delegations: dict[str, list[str]] = field(default_factory=dict)  # zone -> NS host names at the parent
    resolver_address: tuple[str, int] = ("127.0.0.1", 5300)
    root_address: str = "127.0.0.2"
    tld_address: str = "127.0.0.3"
    tlds: list[str] = field(default_factory=list)
    dnssec: dict[str, Any] | None = None  # world.json's "dnssec" section: signed zones (tests/labdnssec.py)
    _signer: Any = field(default=None, repr=False)

    @property
    def signer(self) -> Any:
        """The run's keys (a labdnssec.Signer), made on first use; None when the world signs nothing."""
        if self.dnssec is None:
            return None
        if self._signer is None:
            from tests.labdnssec import Signer

            self._signer = Signer(self.dnssec)
        return self._signer

    @property
    def validating_resolver_address(self) -> tuple[str, int] | None:
        spec = (self.dnssec or {}).get("validating_resolver")
        if not spec:
            return None
        host, _, port = spec.rpartition(":")
        return host, int(port)

    def served_text(self, server: str, zone: str) -> str:
        """The zone text `server` serves: signed when world.json's "dnssec" says so."""
        text = self.servers[server].zones[zone]
        return self.signer.sign_server_zone(server, zone, text) if self.signer else text

    @classmethod
    def load(cls, directory: str | os.PathLike[str] = DEFAULT_WORLD) -> World:
        root = Path(directory)
        spec = json.loads((root / "world.json").read_text())
        hosts = {_zone_name(h): a for h, a in spec["hosts"].items()}
        web = {_zone_name(h): a for h, a in spec.get("web", {}).items()}  # HTTPS hosts (tests/httpslab.py)
        servers = {}
        for name, s in spec["servers"].items():
            missing = [h for h in s["hosts"] if _zone_name(h) not in hosts]
            if missing:
                raise LabError(f"world.json: server {name}: no address for {', '.join(missing)} in 'hosts'")
            server = Server(name, s.get("kind", "knot"), [_zone_name(h) for h in s["hosts"]],
                            [hosts[_zone_name(h)] for h in s["hosts"]], about=s.get("about", ""))
            zdir = root / name
            if zdir.is_dir():
                for f in sorted(zdir.glob("*.zone")):
                    server.zones[_zone_name(f.name[: -len(".zone")])] = f.read_text()
            servers[name] = server
        host, _, port = spec.get("resolver", "127.0.0.1:5300").rpartition(":")
        registry = spec.get("registry", {})
        return cls(servers=servers, hosts={**web, **hosts},
                   delegations={_zone_name(z): [_zone_name(h) for h in ns]
                                for z, ns in spec.get("delegations", {}).items()},
                   resolver_address=(host, int(port)),
                   root_address=registry.get("root", "127.0.0.2"),
                   tld_address=registry.get("tld", "127.0.0.3"),
                   tlds=[_zone_name(t) for t in spec.get("tlds", [])],
                   dnssec=spec.get("dnssec"))

    # -- building -------------------------------------------------------------------------------------------
    def add_zone(self, server: str, zone: str, text: str, delegate_to: Iterable[str] | None = None) -> None:
        """Serve `zone` from `server` (replacing its text if already there). `delegate_to` overrides the NS
        host names the parent delegates to (default: the hosts of every server serving the zone)."""
        zone = _zone_name(zone)
        self.servers[server].zones[zone] = text
        if delegate_to is not None:
            self.delegations[zone] = [_zone_name(h) for h in delegate_to]

    def add_server(self, name: str, hosts: dict[str, str], kind: str = "knot", about: str = "",
                   workers: int = 1) -> Server:
        hosts = {_zone_name(h): a for h, a in hosts.items()}
        self.hosts.update(hosts)
        server = Server(name, kind, list(hosts), list(hosts.values()), about=about, workers=workers)
        self.servers[name] = server
        return server

    # -- reading --------------------------------------------------------------------------------------------
    def servers_of(self, zone: str) -> list[Server]:
        zone = _zone_name(zone)
        return [s for s in self.servers.values() if zone in s.zones]

    def delegation(self, zone: str) -> list[str]:
        """The NS host names the registry delegates `zone` to."""
        zone = _zone_name(zone)
        if zone in self.delegations:
            return self.delegations[zone]
        return [h for s in self.servers_of(zone) for h in s.hosts]

    def delegated_zones(self) -> list[str]:
        zones = {z for s in self.servers.values() for z in s.zones} | set(self.delegations)
        return sorted(zones)

    def address_of(self, host: str) -> str:
        return self.hosts[_zone_name(host)]

    def all_tlds(self) -> list[str]:
        tlds = set(self.tlds) | {_tld(z) for z in self.delegated_zones()} | {_tld(h) for h in self.hosts}
        return sorted(tlds | {"net"})  # net holds a.root-servers.net

    def registry_zones(self, serial: int = 1) -> dict[str, str]:
        """Zone texts for the root and every TLD, generated from the delegations and the host addresses."""
        tlds = self.all_tlds()
        root = [
            "$TTL 3600",
            f". SOA a.root-servers.net. nstld.root-servers.net. {serial} 1800 900 604800 60",
            ". NS a.root-servers.net.",
            f"a.root-servers.net. A {self.root_address}",
        ]
        for tld in tlds:
            root += [f"{tld}. NS a.nic.{tld}.", f"a.nic.{tld}. A {self.tld_address}"]
        out = {".": "\n".join(root) + "\n"}
        by_tld: dict[str, list[str]] = {t: [] for t in tlds}
        hosts = dict(self.hosts)
        hosts["a.root-servers.net"] = self.root_address
        for zone in self.delegated_zones():
            ns = self.delegation(zone)
            if not ns:
                raise LabError(f"zone {zone} is served by no server and has no delegation")
            lines = by_tld[_tld(zone)]
            lines += [f"{zone}. NS {h}." for h in ns]
        for host, address in sorted(hosts.items()):
            by_tld[_tld(host)].append(f"{host}. A {address}")
        for tld in tlds:
            out[tld] = "\n".join([
                "$TTL 3600",
                f"{tld}. SOA a.nic.{tld}. hostmaster.nic.{tld}. {serial} 1800 900 604800 60",
                f"{tld}. NS a.nic.{tld}.",
                f"a.nic.{tld}. A {self.tld_address}",
                *by_tld[tld],
            ]) + "\n"
        return out

    def served_registry(self, serial: int = 1) -> dict[str, str]:
        """The registry zones as served: signed, with each signed child's DS, when the world signs zones."""
        zones = self.registry_zones(serial)
        return self.signer.sign_registry(zones) if self.signer else zones


# ------------------------------------------------------------------------------------------------------------
# Probing
# ------------------------------------------------------------------------------------------------------------

def query(address: str, name: str, rdtype: str = "SOA", *, port: int = 53, rd: bool = False,
          tcp: bool = False, timeout: float = 2.0, payload: int = 1232) -> dns.message.Message:
    """One question to one server, as a DNS message (raises dns.exception.Timeout on no answer)."""
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=payload)
    if not rd:
        q.flags &= ~dns.flags.RD
    if tcp:
        return dns.query.tcp(q, address, port=port, timeout=timeout)
    return dns.query.udp(q, address, port=port, timeout=timeout, ignore_trailing=True)


def _poll(address: str, port: int, name: str, rdtype: str, deadline: float, accept: Any, rd: bool = False,
          alive: Any = None) -> dns.message.Message:
    """Ask until `accept(response)`; 'not listening yet' comes back at once as a refused connection."""
    q = dns.message.make_query(name, rdtype)
    if not rd:
        q.flags &= ~dns.flags.RD
    wire = q.to_wire()
    last = "no answer"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((address, port))
        s.settimeout(0.1)
        while True:
            try:
                s.send(wire)
                while True:
                    r = dns.message.from_wire(s.recv(65535), ignore_trailing=True)
                    if r.id == q.id:
                        break
                if accept(r):
                    return r
                last = f"rcode {dns.rcode.to_text(r.rcode())}, flags {dns.flags.to_text(r.flags)}"
            except (ConnectionRefusedError, TimeoutError, dns.exception.DNSException) as e:
                last = type(e).__name__
            if alive is not None:
                alive()
            if time.monotonic() > deadline:
                raise LabError(f"{address}:{port} never answered {name} {rdtype} as expected ({last})")
            time.sleep(0.005)


def _soa_query(qid: int, zone: str) -> bytes:
    labels = b"" if zone == "." else b"".join(bytes([len(x)]) + x for x in zone.encode("ascii").split(b"."))
    return struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + labels + b"\0" + struct.pack(">HH", 6, 1)


def _wait_zones(address: str, port: int, zones: Iterable[str], deadline: float,
                serials: dict[str, int] | None = None, alive: Any = None, window: int = 200) -> None:
    """Ask each zone's SOA (no recursion) until the answer is authoritative (and carries the expected serial),
    with up to `window` questions in flight: thousands of zones are checked in well under a second."""
    pending = deque(zones)
    later: deque[tuple[float, str]] = deque()  # not ready yet: ask again after a short pause
    inflight: dict[int, tuple[str, float]] = {}
    next_id = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((address, port))
        s.settimeout(0.02)
        while pending or inflight or later:
            now = time.monotonic()
            while later and later[0][0] <= now:
                pending.append(later.popleft()[1])
            while pending and len(inflight) < window:
                zone = pending.popleft()
                while next_id in inflight:
                    next_id = (next_id + 1) % 65536
                try:
                    s.send(_soa_query(next_id, zone))
                except ConnectionRefusedError:
                    later.append((now + 0.005, zone))
                    continue
                inflight[next_id] = (zone, now)
                next_id = (next_id + 1) % 65536
            try:
                data = s.recv(65535)
            except ConnectionRefusedError:  # not listening yet: everything in flight is lost
                later.extend((now + 0.005, z) for z, _ in inflight.values())
                inflight.clear()
            except TimeoutError:
                for qid, (zone, sent) in list(inflight.items()):
                    if now - sent > 0.2:
                        del inflight[qid]
                        pending.append(zone)
            else:
                if len(data) >= 4:
                    qid, flags = struct.unpack(">HH", data[:4])
                    item = inflight.pop(qid, None)
                    if item is not None:
                        zone = item[0]
                        ok = flags & 0x0400 and flags & 0x000F == 0  # AA and NOERROR
                        if ok and serials and zone in serials:
                            ok = _wire_serial(data) == serials[zone]
                        if not ok:
                            later.append((time.monotonic() + 0.01, zone))
            if alive is not None:
                alive()
            if time.monotonic() > deadline:
                left = [*pending, *(z for z, _ in inflight.values()), *(z for _, z in later)]
                raise LabError(f"{address}:{port} did not serve {len(left)} zone(s) in time, e.g. {left[:5]}")


def _authoritative(r: dns.message.Message) -> bool:
    return r.rcode() == dns.rcode.NOERROR and bool(r.flags & dns.flags.AA)


def _any_answer(r: dns.message.Message) -> bool:
    return True


# ------------------------------------------------------------------------------------------------------------
# Daemons
# ------------------------------------------------------------------------------------------------------------

class _Daemon:
    name: str
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise LabError(f"{self.name} exited with status {self.proc.returncode}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


class KnotServer(_Daemon):
    """One knotd serving `zones` on `addresses`, port 53, from files under `workdir`."""

    def __init__(self, name: str, addresses: list[str], zones: dict[str, str], workdir: Path,
                 workers: int = 1, port: int = 53) -> None:
        self.name = f"knotd[{name}]"
        self.addresses = addresses
        self.port = port
        self.zones = dict(zones)
        self.workers = workers
        self.dir = workdir
        self.zonedir = workdir / "zones"
        self.conf = workdir / "knot.conf"
        self.socket = workdir / "knot.sock"
        self.log = workdir / "knotd.log"
        self.zonedir.mkdir(parents=True, exist_ok=True)
        (workdir / "db").mkdir(exist_ok=True)

    @staticmethod
    def _file(zone: str) -> str:
        return "root.zone" if zone == "." else f"{zone}.zone"

    def _write_zone(self, zone: str, text: str) -> None:
        """Atomically: a running knotd may be reading the old version."""
        path = os.path.join(self.zonedir, self._file(zone))
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)

    def _write_conf(self) -> None:
        listen = ", ".join(f"{a}@{self.port}" for a in self.addresses)
        lines = [
            "server:",
            f'    rundir: "{self.dir}"',
            f"    listen: [ {listen} ]",
            f"    udp-workers: {self.workers}",
            f"    tcp-workers: {self.workers}",
            f"    background-workers: {max(1, self.workers)}",
            "database:",
            f'    storage: "{self.dir / "db"}"',
            "control:",
            f'    listen: "{self.socket}"',
            "log:",
            "  - target: stderr",
            "    any: notice",
            "template:",
            "  - id: default",
            f'    storage: "{self.zonedir}"',
            "    zonefile-sync: -1",
            "    zonefile-load: whole",
            "    journal-content: none",
            "    semantic-checks: off",
        ]
        if self.zones:
            lines.append("zone:")
            for zone in self.zones:
                domain = "." if zone == "." else zone + "."
                lines += [f'  - domain: "{domain}"', f'    file: "{self._file(zone)}"']
        text = "\n".join(line for line in lines if line) + "\n"
        tmp = self.conf.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.conf)

    def start(self, knotd: str) -> None:
        for zone, text in self.zones.items():
            self._write_zone(zone, text)
        self._write_conf()
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([knotd, "-c", str(self.conf)], stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)

    def wait_ready(self, deadline: float, zones: Iterable[str] | None = None) -> None:
        zones = list(self.zones) if zones is None else list(zones)
        for address in self.addresses:
            if not zones:  # serves nothing: any answer (REFUSED) means it is up
                _poll(address, self.port, ".", "SOA", deadline, _any_answer, alive=self.check_alive)
            _wait_zones(address, self.port, zones, deadline, alive=self.check_alive)

    def knotc(self, *args: str) -> str:
        knotc = _which("knotc")
        if not knotc:
            raise LabError("knotc not found")
        p = subprocess.run([knotc, "-s", str(self.socket), "-t", "30", *args], capture_output=True, text=True)
        if p.returncode != 0:
            raise LabError(f"knotc {' '.join(args)} failed: {p.stdout}{p.stderr}\n{self.log_tail()}")
        return p.stdout

    def set_zones(self, zones: dict[str, str], deadline: float) -> None:
        """Add or replace zones while running; returns once every address serves each zone's new serial."""
        new = {z for z in zones if z not in self.zones}
        self.zones.update(zones)
        for zone, text in zones.items():
            self._write_zone(zone, text)
        if new:
            self._write_conf()
            self.knotc("reload")
        old = [z for z in zones if z not in new]
        if old:
            self.knotc("-b", "zone-reload", *("." if z == "." else z + "." for z in old))
        # A new zone is ready once it answers at all; a replaced one once it answers with the new serial.
        serials = {z: serial for z in old if (serial := _soa_serial(zones[z])) is not None}
        for address in self.addresses:
            _wait_zones(address, self.port, zones, deadline, serials, alive=self.check_alive)

    def remove_zone(self, zone: str) -> None:
        if self.zones.pop(zone, None) is None:
            return
        self._write_conf()
        self.knotc("reload")


def _serial_of(r: dns.message.Message) -> int | None:
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return int(rrset[0].serial)
    return None


def _wire_serial(data: bytes) -> int | None:
    """The serial of the SOA that answers a one-question response, read from the wire (dnspython's full parse
    costs ~0.5 ms, too much for thousands of zones)."""

    def skip_name(pos: int) -> int:
        while True:
            length = data[pos]
            if length == 0:
                return pos + 1
            if length & 0xC0 == 0xC0:
                return pos + 2
            pos += length + 1

    try:
        if struct.unpack(">H", data[6:8])[0] == 0:
            return None
        pos = skip_name(12) + 4  # the question
        pos = skip_name(pos)  # the answer's owner
        rtype = struct.unpack(">H", data[pos:pos + 2])[0]
        if rtype != dns.rdatatype.SOA:
            return None
        pos = skip_name(skip_name(pos + 10))  # type, class, TTL, RDLENGTH; then MNAME, RNAME
        return int(struct.unpack(">I", data[pos:pos + 4])[0])
    except (IndexError, struct.error):
        return None


def _soa_serial(text: str) -> int | None:
    """The SOA serial of a zone text, cheaply: the 3rd number after 'SOA' (None if it cannot be seen)."""
    for line in text.splitlines():
        body = line.split(";", 1)[0].split()
        upper = [w.upper() for w in body]
        if "SOA" in upper and "RRSIG" not in upper:
            rest = body[upper.index("SOA") + 3:]
            if rest and rest[0].isdigit():
                return int(rest[0])
    return None


class Blackhole:
    """Addresses where a UDP socket is bound and a TCP socket listens, and nobody ever reads or accepts."""

    def __init__(self, name: str, addresses: list[str], port: int = 53) -> None:
        self.name = f"blackhole[{name}]"
        self.addresses = addresses
        self.port = port
        self.sockets: list[socket.socket] = []

    def start(self) -> None:
        for address in self.addresses:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind((address, self.port))
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((address, self.port))
            t.listen(64)
            self.sockets += [u, t]

    def stop(self) -> None:
        for s in self.sockets:
            s.close()
        self.sockets = []


# Unbound sends its queries from this address, so that a test can block every other DNS query (the client's
# own, direct ones) with a packet filter and still let the resolver work: a network that blocks outbound
# port 53.
RESOLVER_SOURCE = "127.0.0.53"


class UnboundResolver(_Daemon):
    def __init__(self, address: tuple[str, int], root_address: str, workdir: Path,
                 anchor: str | None = None) -> None:
        """With `anchor` (the root's DNSKEY in zone-file syntax), it validates DNSSEC from that key."""
        self.name = "unbound" if anchor is None else "unbound[validating]"
        self.anchor = anchor
        self.address = address
        self.root_address = root_address
        self.dir = workdir
        self.conf = workdir / "unbound.conf"
        self.log = workdir / "unbound.log"
        self.control = workdir / "unbound.ctl"
        workdir.mkdir(parents=True, exist_ok=True)

    def start(self, unbound: str) -> None:
        (self.dir / "root.hints").write_text(
            f". 3600000 NS a.root-servers.net.\na.root-servers.net. 3600000 A {self.root_address}\n")
        host, port = self.address
        modules = '"iterator"'
        validation = ""
        if self.anchor is not None:
            (self.dir / "root.key").write_text(self.anchor)
            modules = '"validator iterator"'
            # ede: Extended DNS Errors in answers (RFC 8914); val-log-level 2 says why a name is bogus.
            validation = f"""    trust-anchor-file: "{self.dir / 'root.key'}"
    ede: yes
    val-log-level: 2
"""
        self.conf.write_text(f"""server:
    interface: {host}@{port}
    port: {port}
    do-ip6: no
    do-not-query-localhost: no
    outgoing-interface: {RESOLVER_SOURCE}
    module-config: {modules}
{validation}    username: ""
    chroot: ""
    directory: "{self.dir}"
    pidfile: "{self.dir / 'unbound.pid'}"
    use-syslog: no
    logfile: ""
    verbosity: 1
    log-servfail: yes
    num-threads: 1
    root-hints: "{self.dir / 'root.hints'}"
    access-control: 127.0.0.0/8 allow
    qname-minimisation: no
    infra-cache-max-rtt: 1000
    discard-timeout: 0
    prefetch: no
    serve-expired: no
remote-control:
    control-enable: yes
    control-interface: "{self.control}"
""")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([unbound, "-d", "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, deadline: float) -> None:
        host, port = self.address
        _poll(host, port, ".", "SOA", deadline, lambda r: r.rcode() == dns.rcode.NOERROR and bool(r.answer),
              rd=True, alive=self.check_alive)

    def control_cmd(self, *args: str) -> str:
        ctl = _which("unbound-control")
        if not ctl:
            raise LabError("unbound-control not found")
        p = subprocess.run([ctl, "-c", str(self.conf), *args], capture_output=True, text=True)
        if p.returncode != 0:
            raise LabError(f"unbound-control {' '.join(args)} failed: {p.stdout}{p.stderr}")
        return p.stdout

    def flush(self, zones: Iterable[str] | None = None) -> None:
        """Forget cached answers under each of `zones` (everything when None, or when there are many: one
        command per zone costs a process each), and what it learnt about servers."""
        names = ["."] if zones is None else list(zones)
        for name in names if len(names) <= 8 else ["."]:
            self.control_cmd("flush_zone", name)
        self.control_cmd("flush_requestlist")
        self.control_cmd("flush_infra", "all")


class Dnsdist(_Daemon):
    """dnsdist in front of the lab's resolver, misbehaving on purpose as public resolvers do under load.

    `rules` are dnsdist Lua actions, e.g. `MAX_QPS.format(qps=300)` (the queries over 300 a second from one
    client address are dropped: a rate limit) or `LOSSY.format(share=0.3)` (30% dropped at random)."""

    def __init__(self, name: str, address: tuple[str, int], backend: tuple[str, int], rules: Iterable[str],
                 workdir: Path) -> None:
        self.name = f"dnsdist[{name}]"
        self.address = address
        self.backend = backend
        self.rules = list(rules)
        self.dir = workdir
        self.conf = workdir / "dnsdist.conf"
        self.log = workdir / "dnsdist.log"
        workdir.mkdir(parents=True, exist_ok=True)

    def start(self, dnsdist: str) -> None:
        host, port = self.address
        # dnsdist exits when its port is taken, but another server on that port would answer the readiness check.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind((host, port))
            except OSError as e:
                raise LabError(f"{self.name}: {host}:{port} is already in use ({e})") from None
        bhost, bport = self.backend
        rules = "\n".join(self.rules)
        # setUp(): always forward (no health checks, which the rules themselves could make fail).
        self.conf.write_text(f"""setLocal("{host}:{port}")
setSecurityPollSuffix("")
setACL({{"127.0.0.0/8"}})
newServer({{address="{bhost}:{bport}", name="resolver"}}):setUp()
{rules}
""")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([dnsdist, "--supervised", "--disable-syslog", "-C", str(self.conf)],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, deadline: float) -> None:
        host, port = self.address
        _poll(host, port, ".", "SOA", deadline, lambda r: r.rcode() == dns.rcode.NOERROR and bool(r.answer),
              rd=True, alive=self.check_alive)


MAX_QPS = "addAction(MaxQPSIPRule({qps}), DropAction())"  # drop what exceeds {qps} a second per client address
LOSSY = "addAction(ProbaRule({share}), DropAction())"  # drop a share of queries at random


# ------------------------------------------------------------------------------------------------------------
# The lab
# ------------------------------------------------------------------------------------------------------------

def _scratch_parent() -> str | None:
    """Where run directories go: $DNSCHECK_LAB_TMP, else /dev/shm (tmpfs: 10,000 zone files are written in
    0.1 s there, 2 s on a disk), else the usual temporary directory."""
    chosen = os.environ.get("DNSCHECK_LAB_TMP")
    if chosen:
        return chosen
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        return "/dev/shm"
    return None


def unavailable_reason() -> str | None:
    """Why the lab cannot run in this process, or None if it can."""
    if os.geteuid() != 0:
        return "not root (run the tests with tests/run.sh: it enters a private network namespace)"
    for program in ("knotd", "knotc", "unbound", "unbound-control"):
        if not _which(program):
            return f"{program} is not installed (apt-get install knot unbound)"
    names = sorted(name for _, name in socket.if_nameindex())
    if names != ["lo"]:
        return (f"not in a private network namespace (interfaces: {', '.join(names)}); "
                "run the tests with tests/run.sh, which uses unshare --net")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.254", 0))
    except OSError as e:
        return f"cannot bind a loopback address ({e}); is lo up? (ip link set lo up)"
    return None


class Lab:
    """A running world. Use `Lab.start(...)` as a context manager, or call `stop()`."""

    def __init__(self, world: World, workdir: Path, keep: bool) -> None:
        self.world = world
        self.workdir = workdir
        self._keep = keep
        self.registry: KnotServer | None = None
        self.knots: dict[str, KnotServer] = {}
        self.blackholes: dict[str, Blackhole] = {}
        self.unbound: UnboundResolver | None = None
        self.validator: UnboundResolver | None = None  # validates DNSSEC; only when the world signs zones
        self.fronts: dict[str, Dnsdist] = {}
        self.started_in: float = 0.0
        self._registry_serial = 1

    # -- life cycle -----------------------------------------------------------------------------------------
    @classmethod
    def start(cls, world: World | str | os.PathLike[str] = DEFAULT_WORLD, *, workdir: str | None = None,
              timeout: float = 30.0, keep: bool | None = None) -> Lab:
        """Start every server of `world` (a World, or a directory holding world.json) and the resolver.

        Raises LabError if this machine cannot host it (see `unavailable_reason`) or a daemon fails.
        Files go under `workdir` (by default a fresh directory under /dev/shm or $DNSCHECK_LAB_TMP, removed by
        stop() unless `keep` or DNSCHECK_LAB_KEEP=1)."""
        reason = unavailable_reason()
        if reason:
            raise LabError(reason)
        if not isinstance(world, World):
            world = World.load(world)
        if keep is None:
            keep = os.environ.get("DNSCHECK_LAB_KEEP") == "1"
        if workdir:
            wd = Path(workdir)
        else:
            wd = Path(tempfile.mkdtemp(prefix="dnscheck-lab-", dir=_scratch_parent()))
        lab = cls(world, wd, keep)
        t0 = time.monotonic()
        try:
            lab._start(timeout)
        except BaseException:
            lab.stop()
            raise
        lab.started_in = time.monotonic() - t0
        return lab

    def _start(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        knotd, unbound = _which("knotd"), _which("unbound")
        assert knotd and unbound
        w = self.world
        self.registry = KnotServer("registry", [w.root_address, w.tld_address], w.served_registry(),
                                   self.workdir / "registry")
        self.registry.start(knotd)
        for s in w.servers.values():
            if s.kind == "blackhole":
                bh = Blackhole(s.name, s.addresses)
                bh.start()
                self.blackholes[s.name] = bh
            elif s.kind == "knot":
                zones = {z: w.served_text(s.name, z) for z in s.zones}
                k = KnotServer(s.name, s.addresses, zones, self.workdir / s.name, s.workers)
                k.start(knotd)
                self.knots[s.name] = k
            else:
                raise LabError(f"server {s.name}: unknown kind {s.kind!r}")
        self.registry.wait_ready(deadline)
        for k in self.knots.values():
            k.wait_ready(deadline)
        self.unbound = UnboundResolver(w.resolver_address, w.root_address, self.workdir / "unbound")
        self.unbound.start(unbound)
        validating = w.validating_resolver_address
        if validating is not None:
            self.validator = UnboundResolver(validating, w.root_address, self.workdir / "unbound-validating",
                                             anchor=w.signer.trust_anchor())
            self.validator.start(unbound)
        self.unbound.wait_ready(deadline)
        if self.validator is not None:
            self.validator.wait_ready(deadline)

    def stop(self) -> None:
        daemons: list[Any] = [*self.fronts.values(), self.unbound, self.validator, *self.knots.values(),
                              self.registry]
        for d in daemons:
            if d is not None and d.proc is not None and d.proc.poll() is None:
                d.proc.terminate()
        for d in daemons:
            if d is not None:
                d.stop()
        for bh in self.blackholes.values():
            bh.stop()
        if not self._keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests need ------------------------------------------------------------------------------------
    @property
    def resolver(self) -> str:
        """HOST:PORT of the recursive resolver, for --resolver."""
        host, port = self.world.resolver_address
        return f"{host}:{port}"

    @property
    def validating_resolver(self) -> str:
        """HOST:PORT of the resolver that validates DNSSEC (from the lab root's key), for --resolver."""
        if self.validator is None:
            raise LabError("this world has no validating resolver (world.json: dnssec.validating_resolver)")
        host, port = self.validator.address
        return f"{host}:{port}"

    def misbehaving_resolver(self, name: str, rules: Iterable[str], port: int, timeout: float = 15.0) -> str:
        """A dnsdist on 127.0.0.1:`port` in front of the lab's resolver, applying `rules` (see Dnsdist), started
        on first use and kept until the lab stops; its address, for --resolver."""
        front = self.fronts.get(name)
        if front is None:
            dnsdist = _which("dnsdist")
            if not dnsdist:
                raise LabError("dnsdist is not installed (apt-get install dnsdist)")
            front = Dnsdist(name, ("127.0.0.1", port), self.world.resolver_address, rules, self.workdir / name)
            self.fronts[name] = front
            front.start(dnsdist)
            front.wait_ready(time.monotonic() + timeout)
        return f"{front.address[0]}:{front.address[1]}"

    def address_of(self, host: str) -> str:
        return self.world.address_of(host)

    def server(self, name: str) -> KnotServer:
        return self.knots[name]

    def query(self, address: str, name: str, rdtype: str = "SOA", **kw: Any) -> dns.message.Message:
        """Ask one server directly (no recursion unless rd=True); see `query`."""
        return query(address, name, rdtype, **kw)

    def resolve(self, name: str, rdtype: str = "A", **kw: Any) -> dns.message.Message:
        """Ask the recursive resolver."""
        host, port = self.world.resolver_address
        return query(host, name, rdtype, port=port, rd=True, **kw)

    def set_zone(self, server: str, zone: str, text: str, delegate_to: Iterable[str] | None = None,
                 timeout: float = 10.0) -> None:
        """Add or replace `zone` on `server` while running (see `set_zones`)."""
        self.set_zones(server, {zone: text}, delegate_to, timeout)

    def set_zones(self, server: str, zones: dict[str, str], delegate_to: Iterable[str] | None = None,
                  timeout: float = 30.0) -> None:
        """Add or replace zones on `server` while running, update the registry where a delegation changed, and
        flush the resolver's cache for them. Returns once the server answers each zone's new SOA serial.

        Give each new version of a zone a higher SOA serial: that is how the return waits for it."""
        zones = {_zone_name(z): t for z, t in zones.items()}
        hosts = None if delegate_to is None else list(delegate_to)
        deadline = time.monotonic() + timeout
        before = self._delegations(zones)
        for zone, text in zones.items():
            self.world.add_zone(server, zone, text, hosts)
        self.knots[server].set_zones({z: self.world.served_text(server, z) for z in zones}, deadline)
        self._sync_registry(before, deadline)
        self.flush(zones)

    def remove_zone(self, server: str, zone: str, timeout: float = 10.0) -> None:
        """Stop serving `zone` on `server`; the registry stops delegating it when no server is left."""
        zone = _zone_name(zone)
        before = self._delegations([zone])
        self.world.servers[server].zones.pop(zone, None)
        if not self.world.servers_of(zone):
            self.world.delegations.pop(zone, None)
        self.knots[server].remove_zone(zone)
        self._sync_registry(before, time.monotonic() + timeout)
        self.flush([zone])

    def _delegations(self, zones: Iterable[str]) -> dict[str, list[str] | None]:
        known = set(self.world.delegated_zones())
        return {z: (self.world.delegation(z) if z in known else None) for z in zones}

    def _sync_registry(self, before: dict[str, list[str] | None], deadline: float) -> None:
        assert self.registry is not None
        after = self._delegations(before)
        changed = [z for z, ns in before.items() if ns != after[z]]
        if not changed:
            return
        self._registry_serial += 1
        generated = self.world.served_registry(self._registry_serial)
        tlds = {_tld(z) for z in changed}
        update = {t: generated[t] for t in tlds}
        if any(t not in self.registry.zones for t in tlds):  # a new TLD: the root must delegate it too
            update["."] = generated["."]
        self.registry.set_zones(update, deadline)

    def flush(self, zone: str | Iterable[str] | None = None) -> None:
        """Make the resolver forget what it cached under `zone` (one name or several; everything if None)."""
        assert self.unbound is not None
        for resolver in (self.unbound, self.validator):
            if resolver is not None:
                resolver.flush([zone] if isinstance(zone, str) else zone)

    def logs(self) -> str:
        """Every daemon's log tail, for a failing test's report."""
        parts = []
        for d in [self.registry, *self.knots.values(), self.unbound, self.validator]:
            if d is not None:
                parts.append(f"--- {d.name} ({d.log}) ---\n{d.log_tail()}")
        return "\n".join(parts)

