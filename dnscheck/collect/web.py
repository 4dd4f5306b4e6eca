"""HTTPS for what DNS alone cannot tell (MTA-STS policies, the tenant check), with httpx, imported on first use.

- The host name is resolved through the check's own source (the same resolver as every DNS lookup), and the
  connection goes to that address while TLS (SNI, certificate check) and the Host header keep the name: a
  network backend pins each name to the addresses dnscheck resolved. dnscheck never calls getaddrinfo for it.
- The trust store is the system's (OpenSSL's default paths), and `SSL_CERT_FILE` / `SSL_CERT_DIR` replace it.
- `HTTPS_PROXY` / `NO_PROXY` (and lower-case) are honoured; through a proxy, the proxy resolves the name.
- Never follows redirects; reads at most `max_bytes`; everything within the caller's deadline.
- Politeness, per run: at most `per_host` requests in flight to one host, a User-Agent naming dnscheck and its
  version, one retry after `Retry-After` when it fits before the deadline, and answers cached by URL.

A failure raises `FetchError(reason)`; the reason is data for a LOOKUP_FAILED finding.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dnscheck import __version__
from dnscheck.models import Answered, Undetermined

if TYPE_CHECKING:
    import ssl

    from dnscheck.collect import Source

USER_AGENT = f"dnscheck/{__version__} (preflight check before leaving Microsoft 365)"
PER_HOST = 4


class FetchError(Exception):
    @property
    def reason(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class Web:
    """One per run: shares the TLS context, the per-host limits and the cache between every domain's check."""

    def __init__(self, source: Source, per_host: int = PER_HOST) -> None:
        self._source = source
        self._per_host = per_host
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._cache: dict[tuple[str, int], asyncio.Future[Fetched]] = {}
        self._context: ssl.SSLContext | None = None

    async def get(self, url: str, deadline: float, max_bytes: int, cache: bool = False) -> Fetched:
        """GET `url`; `deadline` is a time.monotonic() value. Raises FetchError."""
        if not cache:
            return await self._get(url, deadline, max_bytes)
        key = (url, max_bytes)
        if key not in self._cache:
            self._cache[key] = asyncio.ensure_future(self._get(url, deadline, max_bytes))
        return await asyncio.shield(self._cache[key])

    async def _get(self, url: str, deadline: float, max_bytes: int) -> Fetched:
        host = urlsplit(url).hostname or ""
        slot = self._slots.setdefault(host, asyncio.Semaphore(self._per_host))
        for attempt in range(2):
            async with slot:
                got = await _within(deadline, self._once(url, host, deadline, max_bytes))
            wait = _retry_after(got) if attempt == 0 else None
            if wait is None or time.monotonic() + wait >= deadline:
                return got
            await asyncio.sleep(wait)
        return got  # pragma: no cover - the loop returns

    async def _once(self, url: str, host: str, deadline: float, max_bytes: int) -> Fetched:
        import httpx

        proxy = _proxy_for(url, host)
        transport = await self._transport(host, proxy, deadline)
        timeout = httpx.Timeout(max(0.05, deadline - time.monotonic()))
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        async with httpx.AsyncClient(
            transport=transport, trust_env=False, follow_redirects=False, timeout=timeout, headers=headers
        ) as client:
            try:
                async with client.stream("GET", url) as r:
                    body = await _read(r, max_bytes)
                    return Fetched(url, r.status_code, {k.lower(): v for k, v in r.headers.items()}, body)
            except httpx.TimeoutException:
                raise FetchError("no answer before the deadline (--timeout)") from None
            except httpx.ConnectError as e:
                raise FetchError(_connect_reason(e, host)) from None
            except (
                httpx.HTTPError,
                OSError,
            ) as e:  # OSError: ssl.SSLError and socket errors httpx let through
                raise FetchError(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__) from None

    async def _transport(self, host: str, proxy: str | None, deadline: float) -> Any:
        import httpx

        ctx = self.context()
        if proxy is not None:
            return httpx.AsyncHTTPTransport(verify=ctx, trust_env=False, proxy=proxy)
        addresses = await self.addresses(host, deadline)
        transport = httpx.AsyncHTTPTransport(verify=ctx, trust_env=False)
        import httpcore

        # httpx takes no network backend; its pool is swapped for one that connects to the pinned addresses.
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=ctx, network_backend=_pinned(host, addresses), max_connections=1
        )
        return transport

    async def addresses(self, host: str, deadline: float) -> list[str]:
        """The A and AAAA addresses of `host`, through the check's resolver."""
        from dnscheck.collect.zonecut import bounded

        lookups = await asyncio.gather(*(bounded(self._source, host, t, deadline) for t in ("A", "AAAA")))
        found = [
            r.value
            for lk in lookups
            if isinstance(lk, Answered)
            for r in lk.records
            if r.type in ("A", "AAAA")
        ]
        if found:
            return found
        failed = [lk for lk in lookups if isinstance(lk, Undetermined)]
        if failed:
            raise FetchError(f"the address of {host} could not be looked up: {failed[0].reason}")
        if any(isinstance(lk, Answered) and lk.nxdomain for lk in lookups):
            raise FetchError(f"{host} does not exist (NXDOMAIN)")
        raise FetchError(f"{host} has no address (no A or AAAA record)")

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            import ssl

            # OpenSSL's default paths honour SSL_CERT_FILE and SSL_CERT_DIR.
            self._context = ssl.create_default_context()
        return self._context


async def _within(deadline: float, coro: Any) -> Fetched:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        coro.close()
        raise FetchError("no time left before the deadline (--timeout)")
    try:
        return await asyncio.wait_for(coro, remaining)
    except TimeoutError:
        raise FetchError("no answer before the deadline (--timeout)") from None


async def _read(r: Any, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in r.aiter_raw():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"the answer is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _retry_after(got: Fetched) -> float | None:
    """Seconds to wait before asking again, from a 429 or 503 answer's Retry-After (seconds or an HTTP date)."""
    if got.status not in (429, 503):
        return None
    value = got.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_after_text(got: Fetched) -> str:
    return got.headers.get("retry-after", "").strip()


def _proxy_for(url: str, host: str) -> str | None:
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(urlsplit(url).scheme) or proxies.get("all")
    # proxy_bypass_environment reads NO_PROXY only (urllib's proxy_bypass may consult the OS on macOS/Windows).
    if not proxy or urllib.request.proxy_bypass_environment(host, proxies):  # type: ignore[attr-defined]
        return None
    return proxy


def _connect_reason(e: Exception, host: str) -> str:
    text = str(e)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
        detail = text.split("certificate verify failed:", 1)[-1].split("(_ssl.c", 1)[0].strip(" :")
        return f"the certificate of {host} is not valid: {detail}"
    return f"cannot connect to {host}: {text or type(e).__name__}"


def _pinned(name: str, addresses: list[str]) -> Any:
    """A network backend that connects to `addresses` whenever httpcore asks for `host`."""
    import httpcore

    class Pinned(httpcore.AsyncNetworkBackend):
        def __init__(self) -> None:
            self._inner = httpcore.AnyIOBackend()

        async def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Any = None,
        ) -> httpcore.AsyncNetworkStream:
            if host.lower() != name.lower():
                raise httpcore.ConnectError(f"{host} was not resolved by dnscheck")
            error: Exception | None = None
            for address in addresses:
                try:
                    return await self._inner.connect_tcp(
                        address, port, timeout, local_address, socket_options
                    )
                except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                    error = e
            raise httpcore.ConnectError(f"{', '.join(addresses)} port {port}: {error}")

        async def sleep(self, seconds: float) -> None:
            await self._inner.sleep(seconds)

    return Pinned()
