"""A tiny in-process DNS server that misbehaves on purpose, for the faults Knot cannot be made to send.

In the spirit of dnspython's own tests: a UDP and a TCP listener on 127.0.0.1, on the same ephemeral port,
served by an asyncio loop in a background thread (so that it works both for in-process asyncio tests and for
the installed `dnscheck` run as a subprocess with `--resolver 127.0.0.1:PORT`). Nothing is ever sent anywhere
but back to the client on the loopback interface.

It plays a *recursive resolver*: `Data` holds the records of a few made-up zones and answers like a resolver
would (following CNAMEs it knows, NXDOMAIN/NODATA with the zone's SOA), and `faults` replace the answer for
one (name, type) with a misbehaviour:

    with FakeServer(Data({...}, faults={("contoso.com", "MX"): wrong_id})) as srv:
        resolver = make_resolver([srv.address], timeout=1.0)

A handler returns one of:
- a `dns.message.Message`: sent as is (over UDP, truncated to the client's payload size with TC set, like a
  real server);
- `bytes`: sent raw (over TCP with the 2-octet length prefix, unless wrapped in `Raw(..., framed=False)`);
- `None`: never answer (over TCP the connection is held open until the client gives up);
- `Drip(reply, interval)`: over TCP, one octet every `interval` seconds;
- `Delay(reply, seconds)`: answer late;
- `CLOSE`: over TCP, hang up without a word.

A guard (`no_offsite_packets`) turns any connect/sendto to an address that is not loopback into an exception,
via an audit hook, so that a test that goes wrong cannot send a packet off the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import os
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

LOCALHOST = "127.0.0.1"

# The new mail provider most test domains point their MX at. Its hosts have addresses: a check follows an MX to
# its address, and a host without one is a mail path that leads nowhere (MX_TARGET_MISSING).
NEW_MAIL_ZONE = "newmail.example"
NEW_MAIL: dict[str, list[str]] = {"mx1.newmail.example": ["A 192.0.2.25"], "mx2.newmail.example": ["A 192.0.2.26"]}


# --------------------------------------------------------------------------------------------- what to answer


@dataclass(frozen=True)
class Raw:
    wire: bytes
    framed: bool = True  # TCP: prefix the 2-octet length


@dataclass(frozen=True)
class Drip:
    reply: Any
    interval: float = 0.2


@dataclass(frozen=True)
class Delay:
    reply: Any
    seconds: float


class _Close:
    def __repr__(self) -> str:
        return "CLOSE"


CLOSE = _Close()

Reply = Any  # Message | bytes | Raw | Drip | Delay | CLOSE | None
Handler = Callable[[dns.message.Message | None, bytes, str], Reply]  # (query, wire, "udp"|"tcp") -> Reply


def response(
    query: dns.message.Message,
    rcode: int = dns.rcode.NOERROR,
    answer: list[dns.rrset.RRset] | None = None,
    authority: list[dns.rrset.RRset] | None = None,
) -> dns.message.Message:
    """A recursive resolver's answer (RA set, AA clear) to `query`."""
    resp = dns.message.make_response(query, recursion_available=True)
    resp.set_rcode(rcode)
    resp.answer = list(answer or [])
    resp.authority = list(authority or [])
    return resp


def rrset(name: str, ttl: int, rdtype: str, *rdatas: str) -> dns.rrset.RRset:
    return dns.rrset.from_text(_abs(name), ttl, "IN", rdtype, *rdatas)


def _abs(name: str) -> str:
    return name if name.endswith(".") else name + "."


# ------------------------------------------------------------------------------------------------- faults


def wrong_id(query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
    """A well-formed answer whose ID does not match the query's (a spoofing attempt, or a confused server)."""
    assert query is not None
    resp = response(
        query,
        answer=[rrset(query.question[0].name.to_text(), 300, "MX", "0 spoof.mail.protection.outlook.com.")],
    )
    resp.id = (query.id + 1) & 0xFFFF
    return resp


def wrong_question(query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
    """An answer with the right ID but for another name (an off-path injection would look like this)."""
    assert query is not None
    q = query.question[0]
    other = dns.message.make_query("elsewhere.example.", q.rdtype)
    other.id = query.id
    resp = response(other, answer=[rrset("elsewhere.example.", 300, "A", "192.0.2.1")])
    return resp


def garbage(query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
    """Bytes that start with the query's ID (so the client reads them) and then make no sense."""
    qid = wire[:2] if len(wire) >= 2 else b"\x00\x00"
    return qid + b"\x81\x80\xff\xff\xff\xff" + os.urandom(40) + b"\xc0\x0c\xc0\x0c"


def pure_noise(query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
    return b"\x00\x01\x02 not DNS at all \xff\xfe\x1b[31m"


def short_header(query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
    """Fewer octets than a DNS header."""
    return wire[:2] + b"\x81"


def refused(query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
    assert query is not None
    return response(query, dns.rcode.REFUSED)


def servfail(query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
    assert query is not None
    return response(query, dns.rcode.SERVFAIL)


def formerr(query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
    assert query is not None
    return response(query, dns.rcode.FORMERR)


def never(query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
    return None


def truncated(then: Handler) -> Handler:
    """Over UDP: an empty answer with TC set, so the client retries over TCP; over TCP: whatever `then`
    says."""

    def handler(query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
        assert query is not None
        if transport == "udp":
            resp = response(query)
            resp.flags |= dns.flags.TC
            return resp
        return then(query, wire, transport)

    return handler


def tcp_close(query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
    return CLOSE


def tcp_short_frame(query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
    """A length prefix promising 512 octets, then 10 of them, then nothing (the connection stays open)."""
    return Raw(struct.pack("!H", 512) + wire[:2] + b"\x81\x80" + b"\x00" * 6, framed=False)


def drip(interval: float) -> Handler:
    """A slow-drip server: the right answer, one octet every `interval` seconds (over TCP; UDP says TC)."""

    def handler(query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
        assert query is not None
        resp = response(
            query, answer=[rrset(query.question[0].name.to_text(), 300, "MX", "10 mail.contoso.example.")]
        )
        if transport == "udp":
            resp.answer = []
            resp.flags |= dns.flags.TC
            return resp
        return Drip(resp, interval)

    return handler


# ------------------------------------------------------------------------------------------- zone-ish data


@dataclass
class Data:
    """Records by owner name (`{"contoso.com": ["MX 0 x.mail.protection.outlook.com.", ...]}`), answered like
    a recursive resolver. `zones` are the apexes (their SOA goes in negative answers; names under no zone are
    NXDOMAIN from the root). `faults` maps `(name, type)` or `(name, "*")` to a handler that replaces the
    answer.
    """

    records: dict[str, list[str]]
    zones: tuple[str, ...] = ()
    faults: dict[tuple[str, str], Handler] = field(default_factory=dict)
    ttl: int = 300
    max_chain: int = 12  # CNAMEs followed inside one answer, like a resolver's own limit

    def __post_init__(self) -> None:
        self._rrsets: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
        self._names: set[dns.name.Name] = set()
        for owner, lines in self.records.items():
            name = dns.name.from_text(_abs(owner))
            self._names.add(name)
            for line in lines:
                rdtype, _, rdata = line.partition(" ")
                key = (name, dns.rdatatype.from_text(rdtype))
                rs = self._rrsets.get(key)
                if rs is None:
                    rs = self._rrsets[key] = dns.rrset.RRset(name, dns.rdataclass.IN, key[1])
                    rs.update_ttl(self.ttl)
                rs.add(_rdata(rdtype, rdata, name))
        self._zones = [dns.name.from_text(_abs(z)) for z in self.zones]
        self._faults = {(dns.name.from_text(_abs(n)), t.upper()): h for (n, t), h in self.faults.items()}

    def __call__(self, query: dns.message.Message | None, wire: bytes, transport: str) -> Reply:
        if query is None or not query.question:
            return None
        q = query.question[0]
        rdtype = dns.rdatatype.to_text(q.rdtype)
        fault = self._faults.get((q.name, rdtype)) or self._faults.get((q.name, "*"))
        if fault is not None:
            return fault(query, wire, transport)
        return self.answer(query)

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        q = query.question[0]
        name, chain = q.name, []
        seen: set[dns.name.Name] = set()
        for _ in range(self.max_chain):
            rs = self._rrsets.get((name, q.rdtype))
            if rs is not None:
                return response(query, answer=[*chain, rs])
            cname = self._rrsets.get((name, dns.rdatatype.CNAME))
            if cname is None or q.rdtype == dns.rdatatype.CNAME or name in seen:
                break
            seen.add(name)
            chain.append(cname)
            name = cname[0].target
        if chain and q.rdtype != dns.rdatatype.CNAME and name in seen:
            # A resolver that meets a CNAME loop gives up.
            return response(query, dns.rcode.SERVFAIL)
        exists = name in self._names or any(n.is_subdomain(name) for n in self._names)
        zone = self._zone_of(name)
        authority = [self._soa(zone)] if zone is not None else []
        if zone is None or not exists:
            return response(query, dns.rcode.NXDOMAIN, answer=chain, authority=authority)
        return response(query, answer=chain, authority=authority)

    def _zone_of(self, name: dns.name.Name) -> dns.name.Name | None:
        inside = [z for z in self._zones if name.is_subdomain(z)]
        return max(inside, key=len) if inside else None

    def _soa(self, zone: dns.name.Name) -> dns.rrset.RRset:
        return dns.rrset.from_text(
            zone, self.ttl, "IN", "SOA", f"ns1.{zone} hostmaster.{zone} 1 3600 600 86400 300"
        )


def _rdata(rdtype: str, text: str, origin: dns.name.Name) -> Any:
    import dns.rdata

    return dns.rdata.from_text("IN", rdtype, text, origin=origin, relativize=False)


# ------------------------------------------------------------------------------------------------ the server


class FakeServer:
    """UDP and TCP on 127.0.0.1, same ephemeral port, served from a background thread."""

    def __init__(self, handler: Handler, host: str = LOCALHOST, truncate_udp: bool = True) -> None:
        self.handler = handler
        self.host = host
        self.truncate_udp = truncate_udp
        self.port = 0
        self.queries: list[tuple[str, str, str]] = []  # (transport, qname, qtype), as received
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def spec(self) -> str:
        """As `--resolver` takes it."""
        return f"{self.host}:{self.port}"

    # -- lifecycle

    def __enter__(self) -> FakeServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        udp, tcp = _bind_pair(self.host)
        self.port = udp.getsockname()[1]
        self._thread = threading.Thread(
            target=self._run, args=(udp, tcp), name=f"fakedns:{self.port}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("fake DNS server did not start")
        if self._error is not None:
            raise RuntimeError("fake DNS server failed to start") from self._error

    def stop(self) -> None:
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._shutdown)
        if self._thread is not None:
            self._thread.join(5)

    def _run(self, udp: socket.socket, tcp: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._udp_transport, _ = loop.run_until_complete(
                loop.create_datagram_endpoint(lambda: _Udp(self), sock=udp)
            )
            self._tcp_server = loop.run_until_complete(asyncio.start_server(self._tcp, sock=tcp))
        except BaseException as e:  # pragma: no cover - reported to start()
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    def _shutdown(self) -> None:
        assert self._loop is not None
        self._udp_transport.close()
        self._tcp_server.close()
        for w in list(self._writers):
            w.close()
        self._loop.stop()

    # -- answering

    def _decide(self, wire: bytes, transport: str) -> tuple[dns.message.Message | None, Reply]:
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # noqa: BLE001 - a garbage query gets no answer
            query = None
        if query is not None and query.question:
            q = query.question[0]
            self.queries.append(
                (transport, q.name.to_text(omit_final_dot=True), dns.rdatatype.to_text(q.rdtype))
            )
        return query, self.handler(query, wire, transport)

    def _udp_wire(self, query: dns.message.Message | None, reply: Any) -> bytes | None:
        if isinstance(reply, Raw):
            return reply.wire
        if isinstance(reply, bytes):
            return reply
        if isinstance(reply, dns.message.Message):
            limit = max(512, query.payload) if query is not None and query.edns >= 0 else 512
            try:
                wire = reply.to_wire(max_size=65535)
            except dns.exception.TooBig:
                wire = b"\xff" * 65536
            if self.truncate_udp and len(wire) > limit:
                reply.answer, reply.authority, reply.additional = [], [], []
                reply.flags |= dns.flags.TC
                wire = reply.to_wire()
            return wire
        return None

    async def _udp_reply(self, query: dns.message.Message | None, reply: Any, addr: Any) -> None:
        if isinstance(reply, Delay):
            await asyncio.sleep(reply.seconds)
            reply = reply.reply
        if isinstance(reply, Drip):
            reply = reply.reply
        wire = self._udp_wire(query, reply)
        if wire is not None:
            self._udp_transport.sendto(wire, addr)

    async def _tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readexactly(2)
                    wire = await reader.readexactly(struct.unpack("!H", head)[0])
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                query, reply = self._decide(wire, "tcp")
                if isinstance(reply, Delay):
                    await asyncio.sleep(reply.seconds)
                    reply = reply.reply
                interval = 0.0
                if isinstance(reply, Drip):
                    interval, reply = reply.interval, reply.reply
                if reply is CLOSE:
                    return
                if reply is None:
                    await reader.read()  # hold the connection open until the client hangs up
                    return
                if isinstance(reply, dns.message.Message):
                    out = struct.pack("!H", len(w := reply.to_wire(max_size=65535))) + w
                elif isinstance(reply, Raw):
                    out = (struct.pack("!H", len(reply.wire)) + reply.wire) if reply.framed else reply.wire
                else:
                    out = struct.pack("!H", len(reply)) + reply
                if interval:
                    for i in range(len(out)):
                        writer.write(out[i : i + 1])
                        await writer.drain()
                        await asyncio.sleep(interval)
                else:
                    writer.write(out)
                    await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: FakeServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: Any) -> None:
        query, reply = self.server._decide(data, "udp")
        assert self.server._loop is not None
        self.server._loop.create_task(self.server._udp_reply(query, reply, addr))


def _bind_pair(host: str) -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket bound to the same ephemeral port."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((host, 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((host, port))
        except OSError as e:
            udp.close()
            tcp.close()
            if e.errno == errno.EADDRINUSE:
                continue
            raise
        tcp.listen(64)
        udp.setblocking(False)
        tcp.setblocking(False)
        return udp, tcp
    raise RuntimeError("no free port for the fake DNS server")


# ---------------------------------------------------------------------------------- no packet off the machine


class OffsiteTraffic(AssertionError):
    pass


_guard = {"depth": 0}
_events: list[tuple[str, Any]] = []
_recording = {"depth": 0}


def _loopback(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return True
    if not isinstance(address, tuple) or not address:
        return True
    try:
        return ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name: resolving it would already be traffic


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not (_guard["depth"] or _recording["depth"]):
        return
    if threading.current_thread().name.startswith("fakedns:"):
        return  # the fake server answering its (loopback) client
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[-1] if event != "socket.sendmsg" else args[1]
        if _recording["depth"]:
            _events.append((event, address))
        if _guard["depth"] and not _loopback(address):
            raise OffsiteTraffic(
                f"{event} to {address!r} refused by the test guard: nothing may leave the machine"
            )
    elif event in (
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
    ):
        if _recording["depth"]:
            _events.append((event, args[0] if args else None))
        if _guard["depth"] and args and not _is_literal_loopback(args[0]):
            raise OffsiteTraffic(f"{event}({args[0]!r}) refused by the test guard: no system name lookups")
    elif _recording["depth"] and event in (
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.startfile",
        "urllib.Request",
        "ctypes.dlopen",
        "webbrowser.open",
    ):
        _events.append((event, args[:2]))
    elif _recording["depth"] and event == "open" and len(args) >= 3:
        path, mode, flags = args[0], args[1], args[2]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        )
        if writing:
            _events.append(("open-for-writing", path))


def _is_literal_loopback(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


_installed = {"done": False}


def _install() -> None:
    if not _installed["done"]:
        sys.addaudithook(_hook)
        _installed["done"] = True


@contextlib.contextmanager
def no_offsite_packets() -> Iterator[None]:
    """Any socket connect/sendto to a non-loopback address, or a system name lookup, raises OffsiteTraffic."""
    _install()
    _guard["depth"] += 1
    try:
        yield
    finally:
        _guard["depth"] -= 1


@contextlib.contextmanager
def recording() -> Iterator[list[tuple[str, Any]]]:
    """Record the socket, name-lookup and process events raised while inside (audit hooks, PEP 578)."""
    _install()
    start = len(_events)
    out: list[tuple[str, Any]] = []
    _recording["depth"] += 1
    try:
        yield out
    finally:
        _recording["depth"] -= 1
        out.extend(_events[start:])
        del _events[start:]
