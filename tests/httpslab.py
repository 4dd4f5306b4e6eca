"""A small HTTPS server for tests: a CA made for the run, a certificate per host name, answers set per route.

It listens on one loopback address, port 443 (inside the private network namespace of tests/run.sh), and picks
each connection's certificate by SNI. The host names themselves are served by the lab's DNS (fixtures/world/:
`mta-sts.<domain>` records and the `web` hosts of world.json point at its address), so the tool finds it the way
it finds a real server. Point the tool at the test CA with `SSL_CERT_FILE=lab.ca_file` and nothing else:

    with HttpsLab.start("127.0.6.1") as web:
        web.route("mta-sts.contoso.com", "/.well-known/mta-sts.txt", Reply(200, POLICY, "text/plain"))
        web.host("mta-sts.badcert.com", issuer="rogue")         # signed by a CA the tool does not trust
        subprocess.run([..., "dnscheck", "check", "contoso.com"], env={"SSL_CERT_FILE": web.ca_file})
        web.requests                                             # what was asked: host, path, headers

A route's answer is a `Reply` (status, body, content type, extra headers, a delay before answering, a body cut
short of its Content-Length) or a function of the `Request` that returns one. Unknown routes answer 404.
Only the standard library and `cryptography` (already a dependency of dnspython's DNSSEC support).
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str = b""
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a slow server)
    cut: int | None = None  # send only this many bytes of the body, then close (Content-Length stays whole)

    @property
    def data(self) -> bytes:
        return self.body.encode() if isinstance(self.body, str) else self.body


@dataclass(frozen=True)
class Request:
    host: str  # from SNI when there was one, else the Host header, lower-case, without a port
    path: str  # without the query
    query: str
    headers: dict[str, str]
    sni: str | None


Route = Reply | Callable[[Request], Reply]


class _CA:
    def __init__(self, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        self.name = subject
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
            .sign(self.key, hashes.SHA256())
        )

    def issue(self, names: list[str], expired: bool = False) -> tuple[bytes, bytes]:
        """(certificate PEM, key PEM) for `names` (SANs; the first is also the CN)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        start, end = (now - datetime.timedelta(days=10), now - datetime.timedelta(days=1)) if expired else (
            now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
        sans: list[x509.GeneralName] = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return cert.public_bytes(serialization.Encoding.PEM), key_pem


class HttpsLab:
    """The server. `issuer`: "lab" (trusted through ca_file), "rogue" (a CA nobody trusts), "expired" (the lab CA,
    but out of date) or "wrong-name" (the lab CA, for another name)."""

    def __init__(self, address: str = "127.0.6.1", port: int = 443, workdir: str | None = None) -> None:
        self.address = address
        self.port = port
        self._tmp = tempfile.TemporaryDirectory(prefix="httpslab-", dir=workdir)
        self.dir = Path(self._tmp.name)
        self._cas = {"lab": _CA("dnscheck test CA"), "rogue": _CA("a CA nobody trusts")}
        self.ca_file = str(self.dir / "ca.pem")
        Path(self.ca_file).write_bytes(self._cas["lab"].cert.public_bytes(serialization.Encoding.PEM))
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._routes: dict[tuple[str, str], Route] = {}
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._default = self._context(["default.invalid"], "lab")
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- configuration ---------------------------------------------------------------------------------------
    def host(self, name: str, issuer: str = "lab") -> None:
        """Serve `name` with a certificate from `issuer` (see the class)."""
        name = name.lower().rstrip(".")
        names = ["somewhere-else.invalid"] if issuer == "wrong-name" else [name]
        ca = "rogue" if issuer == "rogue" else "lab"
        self._contexts[name] = self._context(names, ca, expired=issuer == "expired")

    def route(self, host: str, path: str, reply: Route) -> None:
        host = host.lower().rstrip(".")
        if host not in self._contexts:
            self.host(host)
        with self._lock:
            self._routes[(host, path)] = reply

    def requests_for(self, host: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.host == host.lower()]

    def _context(self, names: list[str], ca: str, expired: bool = False) -> ssl.SSLContext:
        cert, key = self._cas[ca].issue(names, expired)
        base = self.dir / f"{names[0]}-{ca}-{int(expired)}-{len(self._contexts)}"
        base.with_suffix(".crt").write_bytes(cert)
        base.with_suffix(".key").write_bytes(key)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(base.with_suffix(".crt"), base.with_suffix(".key"))
        return ctx

    # -- running ---------------------------------------------------------------------------------------------
    @classmethod
    def start(cls, address: str = "127.0.6.1", port: int = 443) -> HttpsLab:
        lab = cls(address, port)
        lab._serve()
        return lab

    def _serve(self) -> None:
        lab = self

        def pick(sslsock: Any, name: str | None, _ctx: ssl.SSLContext) -> None:
            sslsock.lab_sni = (name or "").lower() or None
            sslsock.context = lab._contexts.get((name or "").lower(), lab._default)

        self._default.sni_callback = pick  # type: ignore[assignment]

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def get_request(self) -> tuple[socket.socket, Any]:
                # The handshake happens in the handler's thread, so a slow client never stalls accept().
                conn, addr = self.socket.accept()
                return lab._default.wrap_socket(conn, server_side=True, do_handshake_on_connect=False), addr

        self._server = Server((self.address, self.port), _Handler)
        self._server.lab = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="httpslab")
        self._thread.start()

    def answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            route = self._routes.get((request.host, request.path))
        if route is None:
            return Reply(404, "not found\n")
        return route(request) if callable(route) else route

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._tmp.cleanup()

    def __enter__(self) -> HttpsLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "httpslab"

    def setup(self) -> None:
        self.request.settimeout(10)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            self.sni = None
            self.rfile = self.wfile = None  # type: ignore[assignment]
            self.close_connection = True
            return
        self.sni = getattr(self.request, "lab_sni", None)
        super().setup()

    def handle(self) -> None:
        if self.rfile is None:
            return
        super().handle()

    def finish(self) -> None:
        if self.rfile is not None:
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        host = self.sni or self.headers.get("Host", "").lower().rsplit(":", 1)[0]
        request = Request(host, path, query, {k.lower(): v for k, v in self.headers.items()}, self.sni)
        reply = self.server.lab.answer(request)  # type: ignore[attr-defined]
        if reply.delay:
            time.sleep(reply.delay)
        data = reply.data
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            if reply.cut is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data if reply.cut is None else data[: reply.cut])
            if reply.cut is not None:
                self.close_connection = True
        except OSError:
            self.close_connection = True



class ConnectProxy:
    """An HTTP proxy that only does CONNECT, for HTTPS_PROXY tests: it tunnels every request to `upstream` (the
    lab's HTTPS server) whatever host is asked, and records the `host:port` of each CONNECT in `asked`."""

    def __init__(self, address: str, port: int, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.asked: list[str] = []
        self._sock = socket.create_server((address, port), reuse_port=False)
        self.url = f"http://{address}:{port}"
        threading.Thread(target=self._serve, daemon=True, name="connectproxy").start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(conn,), daemon=True).start()

    def _tunnel(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            if method != "CONNECT":
                conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            self.asked.append(target)
            with socket.create_connection(self.upstream, timeout=10) as up:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                pump = threading.Thread(target=_pump, args=(up, conn), daemon=True)
                pump.start()
                _pump(conn, up)
                pump.join(10)

    def stop(self) -> None:
        self._sock.close()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
